"""A long chat of short turns with a pause: one conversation of 60 turns (60-token questions,
180-token answers, 8-40 s apart) on a 1,500-token system prompt, the user away 6-9 minutes
after turn 30, on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Message, Workload, assistant, filler, user
from ._common import SONNET_45, between


def build() -> list[Call]:
    system = (filler(1_500, "lcp-system"),)
    calls: list[Call] = []
    history: list[Message] = []
    now = 0.0
    for turn in range(60):
        history.append(user(filler(60, f"lcp-q{turn}")))
        calls.append(Call(now, system, tuple(history)))
        history.append(assistant(filler(180, f"lcp-a{turn}")))
        pause = turn == 30
        now += between(360, 540, "lcp-pause") if pause else between(8, 40, f"lcp-gap-{turn}")
    return calls


WORKLOAD = Workload("long-chat-pause", SONNET_45, __doc__ or "", build)
