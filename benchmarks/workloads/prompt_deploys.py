"""Prompt deploys: 12 short chats of 4 turns on a 3,000-token system prompt that a deploy
replaces every third chat, so each new prompt opens with a short question below the model's
minimum past it; a new chat every 30-120 s, turns 20-60 s apart; 48 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import SONNET_45, between, chat_turns, conversation, interleave

CHATS = 12
CHATS_PER_VERSION = 3


def build() -> list[Call]:
    chats = []
    start = 0.0
    for chat in range(CHATS):
        system = (filler(3_000, f"deploy-prompt-v{chat // CHATS_PER_VERSION}"),)
        gap = between(20, 60, f"deploy-gap-{chat}")
        chats.append(conversation(start, gap, system, chat_turns(4, f"deploy-{chat}", 60, 150)))
        start += between(30, 120, f"deploy-start-{chat}")
    return interleave(*chats)


WORKLOAD = Workload("prompt-deploys", SONNET_45, __doc__ or "", build)
