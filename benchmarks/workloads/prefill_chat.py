"""Prefilled answers: one 20-turn chat on a 3,000-token system prompt whose requests end with the
start of the answer as an assistant message (``{``, for JSON), which the next turn replaces with
the whole answer; turns 10-40 s apart; 20 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Message, Workload, assistant, filler, user
from ._common import SONNET_45, between


def build() -> list[Call]:
    system = (filler(3_000, "prefill-system"),)
    calls: list[Call] = []
    history: list[Message] = []
    now = 0.0
    for turn in range(20):
        history.append(user(filler(80, f"prefill-q{turn}")))
        calls.append(Call(now, system, (*history, assistant("{"))))
        now += between(10, 40, f"prefill-gap-{turn}")
        history.append(assistant(filler(200, f"prefill-a{turn}")))
    return calls


WORKLOAD = Workload("prefill-chat", SONNET_45, __doc__ or "", build)
