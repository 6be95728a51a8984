"""Sparse traffic: single questions on a 3,000-token system prompt, 10-50 minutes apart
(past the 5-minute TTL, within 1 hour); 16 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler, user
from ._common import SONNET_45, between


def build() -> list[Call]:
    system = (filler(3_000, "sparse-system"),)
    calls: list[Call] = []
    now = 0.0
    for n in range(16):
        if n:
            now += between(600, 3_000, f"sparse-gap-{n}")
        calls.append(Call(now, system, (user(filler(200, f"sparse-q{n}")),)))
    return calls


WORKLOAD = Workload("sparse-traffic", SONNET_45, __doc__ or "", build)
