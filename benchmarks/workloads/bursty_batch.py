"""Bursty batch: 5 bursts of 15 single questions a second apart on a 2,500-token system prompt,
12-25 minutes of quiet between bursts; 75 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler, user
from ._common import SONNET_45, between


def build() -> list[Call]:
    system = (filler(2_500, "burst-system"),)
    calls: list[Call] = []
    now = 0.0
    for burst in range(5):
        for n in range(15):
            calls.append(Call(now + n, system, (user(filler(150, f"burst-{burst}-q{n}")),)))
        now += between(720, 1_500, f"burst-gap-{burst}")
    return calls


WORKLOAD = Workload("bursty-batch", SONNET_45, __doc__ or "", build)
