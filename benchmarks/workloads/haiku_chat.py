"""Haiku chat near the minimum: a 3,500-token system prompt, under Haiku 4.5's 4,096-token
minimum on its own, and 4 conversations of 6 turns (200-token questions, 300-token answers),
20 s apart, one starting every minute."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import HAIKU_45, chat_turns, conversation, interleave


def build() -> list[Call]:
    system = (filler(3_500, "haiku-system"),)
    chats = [
        conversation(60.0 * n, 20.0, system, chat_turns(6, f"haiku-{n}", question=200, answer=300))
        for n in range(4)
    ]
    return interleave(*chats)


WORKLOAD = Workload("haiku-chat", HAIKU_45, __doc__ or "", build)
