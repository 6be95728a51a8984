"""Support chat in the shape of BEDROCK.md §6: a fixed 4,000-token system prompt, 500-token user
messages, 400-token answers; 12 conversations of 4 turns, a new one every ~40 s."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import SONNET_45, between, chat_turns, conversation, interleave


def build() -> list[Call]:
    system = (filler(4_000, "support-policy"),)
    chats = [
        conversation(
            start=40.0 * n + between(0, 20, f"support-start-{n}"),
            gap=between(25, 60, f"support-gap-{n}"),
            system=system,
            turns=chat_turns(4, f"support-{n}", question=500, answer=400),
        )
        for n in range(12)
    ]
    return interleave(*chats)


WORKLOAD = Workload("support-chat", SONNET_45, __doc__ or "", build)
