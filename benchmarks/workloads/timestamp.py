"""Timestamp in the system prompt: 3,000 tokens of instructions, then a block with the current
minute; 4 conversations of 5 turns, 20 s apart, interleaved."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import SONNET_45, chat_turns, conversation, interleave


def build() -> list[Call]:
    instructions = filler(3_000, "timestamp-instructions")
    chats = []
    for chat in range(4):
        calls = conversation(
            30.0 * chat, 20.0, (instructions,), chat_turns(5, f"ts-{chat}", 150, 200)
        )
        chats.append(
            [
                Call(
                    c.at,
                    (instructions, f"Current time: 2026-11-26T10:{int(c.at // 60):02d}:00Z"),
                    c.messages,
                    c.tools,
                )
                for c in calls
            ]
        )
    return interleave(*chats)


WORKLOAD = Workload("timestamp-system", SONNET_45, __doc__ or "", build)
