"""Wide turns: every turn adds 24-30 blocks (tool results of a fan-out step), more than Claude's
20-block lookback; 2 conversations of 6 turns, 10 s apart, on Sonnet 4 (5-minute TTL only)."""

from __future__ import annotations

from ..calls import Call, Message, ToolCall, ToolResult, Workload, assistant, filler, user
from ._common import SONNET_4, agent_tools


def build() -> list[Call]:
    tools = agent_tools()
    system = (filler(2_000, "wide-system"),)
    calls: list[Call] = []
    for chat in range(2):
        history: list[Message] = [user(filler(100, f"wide-{chat}-task"))]
        now = 5.0 * chat
        for turn in range(6):
            calls.append(Call(now, system, tuple(history), tools))
            now += 10.0
            width = 12 + (turn + chat) % 4
            uses = [
                ToolCall(f"tooluse_w{chat}_{turn}_{n}", tools[n % len(tools)].name, {"query": n})
                for n in range(width)
            ]
            history.append(assistant(calls=uses))
            history.append(
                user(results=[ToolResult(u.id, filler(60, f"wide-{u.id}")) for u in uses])
            )
    calls.sort(key=lambda call: call.at)
    return calls


WORKLOAD = Workload("wide-turns", SONNET_4, __doc__ or "", build)
