"""Few-shot classifier on Haiku 4.5 (4,096-token minimum): a 300-token instruction, 24 labelled
examples as user/assistant message pairs (~5,000 tokens), then the item; 30 calls 15-45 s apart."""

from __future__ import annotations

from ..calls import Call, Message, Workload, assistant, filler, user
from ._common import HAIKU_45, between

LABELS = ("billing", "shipping", "account", "technical", "other")


def build() -> list[Call]:
    system = (filler(300, "classifier-instructions"),)
    examples: list[Message] = []
    for n in range(24):
        examples.append(user(filler(200, f"example-{n}")))
        examples.append(assistant(LABELS[n % len(LABELS)]))
    calls: list[Call] = []
    now = 0.0
    for n in range(30):
        if n:
            now += between(15, 45, f"classify-gap-{n}")
        calls.append(Call(now, system, (*examples, user(filler(150, f"ticket-{n}")))))
    return calls


WORKLOAD = Workload("few-shot-classifier", HAIKU_45, __doc__ or "", build)
