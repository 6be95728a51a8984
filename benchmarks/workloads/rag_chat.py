"""RAG chat: each turn retrieves 3 new 400-token chunks placed ahead of the question, and the
conversation continues with them in its history; 3 conversations of 8 turns, ~30 s apart."""

from __future__ import annotations

from ..calls import Call, Message, Workload, assistant, filler, user
from ._common import SONNET_45, between, conversation, interleave


def _turns(chat: int) -> list[tuple[Message, Message]]:
    turns = []
    for n in range(8):
        chunks = [filler(400, f"rag-{chat}-{n}-chunk{c}") for c in range(3)]
        question = filler(80, f"rag-{chat}-{n}-q")
        turns.append((user(*chunks, question), assistant(filler(250, f"rag-{chat}-{n}-a"))))
    return turns


def build() -> list[Call]:
    system = (filler(1_500, "rag-system"),)
    return interleave(
        *(
            conversation(20.0 * chat, between(25, 40, f"rag-gap-{chat}"), system, _turns(chat))
            for chat in range(3)
        )
    )


WORKLOAD = Workload("rag-chat", SONNET_45, __doc__ or "", build)
