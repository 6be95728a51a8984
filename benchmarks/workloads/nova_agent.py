"""Nova agent: one tool call per step with a 60-token result, 40 steps 5 s apart, 5 tools and a
2,000-token system prompt on Nova Pro (exact-position matches, a 1,000-token minimum per
segment: an entry is written only every several steps, and each step must bridge to it)."""

from __future__ import annotations

from ..calls import Call, Message, ToolCall, ToolResult, Workload, assistant, filler, user
from ._common import NOVA_PRO, agent_tools


def build() -> list[Call]:
    tools = agent_tools(5)
    system = (filler(2_000, "nova-agent-system"),)
    history: list[Message] = [user(filler(100, "nova-agent-task"))]
    calls: list[Call] = []
    for step in range(40):
        calls.append(Call(5.0 * step, system, tuple(history), tools))
        use = ToolCall(f"tooluse_n{step}", tools[step % len(tools)].name, {"query": step})
        history.append(assistant(calls=[use]))
        history.append(user(results=[ToolResult(use.id, filler(60, f"nova-agent-r{step}"))]))
    return calls


WORKLOAD = Workload("nova-agent", NOVA_PRO, __doc__ or "", build)
