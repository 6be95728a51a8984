"""Agent loop: 20 tools (~2,400 tokens of schemas), a 1,500-token system prompt, 4 tasks of 6
steps, 3 s between steps and 40 s between tasks; steps make 1-6 parallel tool calls."""

from __future__ import annotations

from ..calls import Call, Message, ToolCall, ToolResult, Workload, assistant, filler, user
from ._common import SONNET_45, agent_tools

STEP_CALLS = (1, 4, 1, 6, 2, 0)


def build() -> list[Call]:
    tools = agent_tools()
    system = (filler(1_500, "agent-system"),)
    calls: list[Call] = []
    now = 0.0
    for task in range(4):
        history: list[Message] = [user(filler(120, f"agent-task-{task}"))]
        for step, width in enumerate(STEP_CALLS):
            calls.append(Call(now, system, tuple(history), tools))
            now += 3.0
            if not width:
                break
            uses = [
                ToolCall(
                    f"tooluse_{task}_{step}_{n}",
                    tools[(task * 7 + step * 3 + n) % len(tools)].name,
                    {"query": f"A-{1000 + task}"},
                )
                for n in range(width)
            ]
            history.append(assistant(filler(30, f"agent-{task}-{step}"), calls=uses))
            results = [ToolResult(u.id, filler(200, f"result-{u.id}")) for u in uses]
            history.append(user(results=results))
        now += 40.0
    return calls


WORKLOAD = Workload("agent-20-tools", SONNET_45, __doc__ or "", build)
