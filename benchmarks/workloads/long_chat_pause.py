"""A long chat of short turns with a pause: one conversation of 60 turns (60-token questions,
180-token answers, 8-40 s apart) on a 1,500-token system prompt, the user away 6-9 minutes
after turn 30, on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import SONNET_45, between, chat_turns, conversation

TURNS = 60


def build() -> list[Call]:
    system = (filler(1_500, "lcp-system"),)
    gaps = [
        between(360, 540, "lcp-pause") if turn == 30 else between(8, 40, f"lcp-gap-{turn}")
        for turn in range(TURNS)
    ]
    return conversation(0.0, gaps, system, chat_turns(TURNS, "lcp", 60, 180))


WORKLOAD = Workload("long-chat-pause", SONNET_45, __doc__ or "", build)
