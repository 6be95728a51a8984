"""Time stamp ahead of each question: every user message starts with a block holding the current
minute (kept in the history), after a 3,000-token system prompt; 5 chats of 5 turns
(150-token questions, 250-token answers), one starting every 45 s, users taking 15-60 s per
turn, on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Message, Workload, filler, user
from ._common import SONNET_45, between, chat_turns, interleave


def build() -> list[Call]:
    system = (filler(3_000, "tsu-instructions"),)
    chats: list[list[Call]] = []
    for chat in range(5):
        calls: list[Call] = []
        history: list[Message] = []
        now = 45.0 * chat
        for turn, (question, answer) in enumerate(chat_turns(5, f"tsu-{chat}", 150, 250)):
            minute = int(now // 60)
            history.append(user(f"Current time: 2026-11-26T09:{minute:02d}Z", *question.texts))
            calls.append(Call(now, system, tuple(history)))
            history.append(answer)
            now += between(15, 60, f"tsu-{chat}-gap-{turn}")
        chats.append(calls)
    return interleave(*chats)


WORKLOAD = Workload("stamped-questions", SONNET_45, __doc__ or "", build)
