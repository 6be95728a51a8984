"""Document corpus: many users each ask one question about one of 3 long documents (6,000
tokens, Zipf popularity) in the user message, 10-200 s apart, so a document comes back after
gaps of a few seconds to many minutes; 40 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler, user
from ._common import SONNET_45, between, zipf_choice


def build() -> list[Call]:
    system = (filler(800, "corpus-system"),)
    documents = [filler(6_000, f"corpus-doc-{d}") for d in range(3)]
    calls: list[Call] = []
    now = 0.0
    for n in range(40):
        document = documents[zipf_choice(3, 1.0, f"corpus-pick-{n}")]
        calls.append(Call(now, system, (user(document, filler(60, f"corpus-q{n}")),)))
        now += between(10, 200, f"corpus-gap-{n}")
    return calls


WORKLOAD = Workload("doc-corpus", SONNET_45, __doc__ or "", build)
