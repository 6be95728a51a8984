"""One-off prompts: 15 requests, 60 s apart, each with its own 5,000-token prompt: any cache
write is wasted."""

from __future__ import annotations

from ..calls import Call, Workload, filler, user
from ._common import SONNET_45


def build() -> list[Call]:
    return [
        Call(60.0 * n, (filler(5_000, f"one-off-{n}"),), (user(filler(150, f"one-off-q{n}")),))
        for n in range(15)
    ]


WORKLOAD = Workload("one-off-prompts", SONNET_45, __doc__ or "", build)
