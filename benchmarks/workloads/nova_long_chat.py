"""Long Nova chat: one 50-turn conversation on Nova Pro (exact-position matches, 20K-token cache
cap), a 2,000-token system prompt, 150-token questions, 250-token answers, 15 s apart."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import NOVA_PRO, chat_turns, conversation


def build() -> list[Call]:
    system = (filler(2_000, "nova-system"),)
    return conversation(0.0, 15.0, system, chat_turns(50, "nova", question=150, answer=250))


WORKLOAD = Workload("nova-long-chat", NOVA_PRO, __doc__ or "", build)
