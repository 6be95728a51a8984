"""Document Q&A: 8 documents of 3,000-6,000 tokens, 1-5 questions each (some documents asked
once), the document in the user message ahead of the question, 20-90 s between questions."""

from __future__ import annotations

from ..calls import Call, Workload, filler, user
from ._common import SONNET_45, between

QUESTIONS_PER_DOCUMENT = (4, 1, 5, 1, 3, 2, 1, 4)


def build() -> list[Call]:
    system = ("Answer only from the document; quote the passage you used.",)
    asks = [(doc, q) for doc, count in enumerate(QUESTIONS_PER_DOCUMENT) for q in range(count)]
    # Questions on a document cluster in time, but documents overlap.
    asks.sort(key=lambda ask: ask[0] * 1.5 + ask[1])
    calls: list[Call] = []
    now = 0.0
    for number, (doc, q) in enumerate(asks):
        if number:
            now += between(20, 90, f"doc-gap-{number}")
        document = filler(int(between(3_000, 6_000, f"doc-size-{doc}")), f"doc-{doc}")
        question = filler(60, f"doc-{doc}-q{q}")
        calls.append(Call(now, system, (user(f"<document>{document}</document>", question),)))
    return calls


WORKLOAD = Workload("doc-qa", SONNET_45, __doc__ or "", build)
