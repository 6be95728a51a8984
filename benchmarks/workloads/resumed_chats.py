"""Resumed chats: users come back to a conversation 6-20 minutes after each answer; 5
conversations of 4 turns (300-token questions and answers) on a 3,000-token system prompt, one
starting every 5 minutes, on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import SONNET_45, between, chat_turns, conversation, interleave


def build() -> list[Call]:
    system = (filler(3_000, "resumed-system"),)
    chats = [
        conversation(
            start=300.0 * n,
            gap=between(360, 1_200, f"resumed-gap-{n}"),
            system=system,
            turns=chat_turns(4, f"resumed-{n}", question=300, answer=300),
        )
        for n in range(5)
    ]
    return interleave(*chats)


WORKLOAD = Workload("resumed-chats", SONNET_45, __doc__ or "", build)
