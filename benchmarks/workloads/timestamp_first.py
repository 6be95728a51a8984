"""Timestamp first: 10 tools, then a system prompt whose first block is the current minute and
whose second is 3,000 tokens of instructions, so nothing past the tool schemas outlives the
minute; 4 conversations of 5 turns, 20 s apart, interleaved; 20 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import SONNET_45, agent_tools, chat_turns, conversation, interleave


def build() -> list[Call]:
    instructions = filler(3_000, "timestamp-first-instructions")
    tools = agent_tools(10)
    chats = []
    for chat in range(4):
        turns = chat_turns(5, f"tsf-{chat}", 150, 200)
        calls = conversation(30.0 * chat, 20.0, (instructions,), turns, tools)
        chats.append(
            [
                Call(
                    c.at,
                    (f"Current time: 10:{int(c.at // 60):02d}", instructions),
                    c.messages,
                    c.tools,
                )
                for c in calls
            ]
        )
    return interleave(*chats)


WORKLOAD = Workload("timestamp-first", SONNET_45, __doc__ or "", build)
