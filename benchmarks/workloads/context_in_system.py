"""Retrieved context in the system prompt: a history-aware RAG chat. Each turn, a call on a fixed
prompt rewrites the question from the history, then the answer call's system prompt holds
900-token instructions and that turn's chunks (4 picks from 40 350-token chunks, Zipf 0.9), so
no later request re-sends it; 3 chats of 6 turns, 20-70 s apart, on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Message, Workload, assistant, filler, user
from ._common import SONNET_45, between, interleave, zipf_choice

REWRITE = (
    "Given a chat history and the latest user question which might reference context in the "
    "chat history, formulate a standalone question. Do NOT answer it."
)


def build() -> list[Call]:
    instructions = filler(900, "rha-instructions")
    chunks = [filler(350, f"rha-chunk-{k}") for k in range(40)]
    chats: list[list[Call]] = []
    for chat in range(3):
        calls: list[Call] = []
        history: list[Message] = []
        now = 60.0 * chat
        for turn in range(6):
            question = user(filler(60, f"rha-{chat}-q{turn}"))
            calls.append(Call(now, (REWRITE,), (*history, question)))
            now += between(1, 2, f"rha-{chat}-rt{turn}")
            picks = sorted({zipf_choice(40, 0.9, f"rha-{chat}-{turn}-{k}") for k in range(4)})
            context = "\n\n".join(chunks[p] for p in picks)
            system = f"{instructions}\n\n<context>\n{context}\n</context>"
            calls.append(Call(now, (system,), (*history, question)))
            history += [question, assistant(filler(220, f"rha-{chat}-a{turn}"))]
            now += between(20, 70, f"rha-{chat}-gap-{turn}")
        chats.append(calls)
    return interleave(*chats)


WORKLOAD = Workload("context-in-system", SONNET_45, __doc__ or "", build)
