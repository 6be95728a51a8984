"""Sliding window: 3 chats of 15 turns on a 2,500-token system prompt that send only their last
seven messages (LangChain's ``trim_messages``), so once the window moves no request re-sends the
one before it; turns 20-60 s apart, a chat every 400 s; 45 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Message, Workload, assistant, filler, user
from ._common import SONNET_45, between, interleave

KEPT = 7


def _chat(number: int, system: tuple[str, ...]) -> list[Call]:
    calls: list[Call] = []
    history: list[Message] = []
    now = 400.0 * number
    for turn in range(15):
        history.append(user(filler(80, f"window-{number}-q{turn}")))
        window = history[-KEPT:]
        if window[0].role != "user":  # a window opens with a user message
            window = window[1:]
        calls.append(Call(now, system, tuple(window)))
        now += between(20, 60, f"window-{number}-gap-{turn}")
        history.append(assistant(filler(250, f"window-{number}-a{turn}")))
    return calls


def build() -> list[Call]:
    system = (filler(2_500, "window-system"),)
    return interleave(*(_chat(number, system) for number in range(3)))


WORKLOAD = Workload("sliding-window", SONNET_45, __doc__ or "", build)
