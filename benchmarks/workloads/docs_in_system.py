"""Documents in the system prompt: fixed 500-token instructions, then one of 4 documents
(3,000-8,000 tokens) loaded after them; chats of 1-3 turns about a document (Zipf popularity),
a new chat every 30-240 s, each user taking 15-60 s per turn; 18 chats on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler
from ._common import SONNET_45, between, chat_turns, conversation, interleave, zipf_choice


def build() -> list[Call]:
    instructions = filler(500, "dis-instructions")
    documents = [
        filler(int(between(3_000, 8_000, f"dis-size-{d}")), f"dis-doc-{d}") for d in range(4)
    ]
    chats: list[list[Call]] = []
    start = 0.0
    for number in range(18):
        document = documents[zipf_choice(4, 1.0, f"dis-pick-{number}")]
        system = (instructions, f"<document>{document}</document>")
        turns = chat_turns(1 + int(between(0, 3, f"dis-len-{number}")), f"dis-{number}", 80, 250)
        gaps = [between(15, 60, f"dis-{number}-gap-{turn}") for turn in range(len(turns))]
        chats.append(conversation(start, gaps, system, turns))
        start += between(30, 240, f"dis-start-{number}")
    return interleave(*chats)


WORKLOAD = Workload("docs-in-system", SONNET_45, __doc__ or "", build)
