"""Tool choice and thinking change mid-conversation: 20 tools, a 1,500-token system prompt;
turns 4-5 force a tool (toolChoice any), turns 7-9 enable extended thinking; 2 conversations
of 10 turns, 15 s apart."""

from __future__ import annotations

from dataclasses import replace

from ..calls import Call, Workload, filler
from ._common import SONNET_45, agent_tools, chat_turns, conversation, interleave


def build() -> list[Call]:
    system = (filler(1_500, "choice-system"),)
    tools = agent_tools()
    chats = []
    for chat in range(2):
        calls = conversation(
            7.0 * chat, 15.0, system, chat_turns(10, f"choice-{chat}", 200, 300), tools
        )
        chats.append(
            [
                replace(
                    call,
                    tool_choice="any" if turn in (4, 5) else None,
                    thinking=2_048 if turn in (7, 8, 9) else None,
                )
                for turn, call in enumerate(calls)
            ]
        )
    return interleave(*chats)


WORKLOAD = Workload("tool-choice-thinking", SONNET_45, __doc__ or "", build)
