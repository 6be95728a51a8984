"""Multi-tenant mix: 6 tenants' system prompts (1,500-5,000 tokens) with Zipf popularity
(exponent 1.2), single questions 5-90 s apart; 60 calls on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, Workload, filler, user
from ._common import SONNET_45, between, zipf_choice

TENANTS = 6


def build() -> list[Call]:
    systems = [
        (filler(int(between(1_500, 5_000, f"tenant-size-{t}")), f"tenant-{t}"),)
        for t in range(TENANTS)
    ]
    calls: list[Call] = []
    now = 0.0
    for n in range(60):
        if n:
            now += between(5, 90, f"tenant-gap-{n}")
        tenant = zipf_choice(TENANTS, 1.2, f"tenant-pick-{n}")
        calls.append(Call(now, systems[tenant], (user(filler(200, f"tenant-q{n}")),)))
    return calls


WORKLOAD = Workload("multi-tenant", SONNET_45, __doc__ or "", build)
