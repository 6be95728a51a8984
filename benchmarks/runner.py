"""Run a workload under one strategy on a fresh emulator with a manual clock, and price it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_cache import CacheUsage, Layout, cost_of, resolve_model, usage_from_converse
from bedrock_cache import without_checkpoints as _strip
from bedrock_cache.emulator import BedrockEmulator, ManualClock

from .bound import Request
from .calls import Call, Workload
from .strategies import Strategy, Unavailable

REJECTED = "ValidationException"


@dataclass(frozen=True)
class Sent:
    """One answered request: when, what (as sent, checkpoints included) and its usage."""

    at: float
    model_id: str
    request: dict[str, Any]
    usage: CacheUsage

    def as_request(self) -> Request:
        """The request without checkpoints, as the lower bound reads it."""
        layout = Layout.of(_strip(self.request))
        return Request(self.at, layout, resolve_model(self.model_id), self.usage.output)


@dataclass
class Run:
    """What one strategy sent on one workload, and what it cost."""

    strategy: str
    sent: list[Sent] = field(default_factory=list)
    rejected: int = 0

    @property
    def usage(self) -> CacheUsage:
        total = CacheUsage()
        for one in self.sent:
            total = total + one.usage
        return total

    @property
    def total_cost(self) -> float:
        return sum(cost_of(s.usage, resolve_model(s.model_id)).total for s in self.sent)

    @property
    def input_cost(self) -> float:
        output = sum(
            cost_of(CacheUsage(output=s.usage.output), resolve_model(s.model_id)).total
            for s in self.sent
        )
        return self.total_cost - output

    @property
    def hit_rate(self) -> float:
        return self.usage.hit_rate

    def requests(self) -> list[Request]:
        return [one.as_request() for one in self.sent]


def run(workload: Workload, strategy: Strategy, calls: Sequence[Call] | None = None) -> Run:
    """Drive ``calls`` (the workload's by default) through ``strategy``; may raise
    :class:`Unavailable`. A rejected request is counted and re-sent with caching off."""
    calls = list(calls if calls is not None else workload.calls())
    with BedrockEmulator(clock=ManualClock()) as emu:
        send = strategy.open(emu, workload.model)
        result = Run(strategy.name)
        for call in calls:
            emu.clock.advance(max(0.0, call.at - emu.clock.now()))
            seen = len(emu.requests)
            try:
                send(call, True)
            except Unavailable:
                raise
            except Exception:
                records = emu.requests[seen:]
                if not records or records[-1].error != REJECTED:
                    raise
                result.rejected += 1
                send(call, False)
            for record in emu.requests[seen:]:
                if record.error is None and record.usage and record.operation != "CountTokens":
                    usage = usage_from_converse(record.usage)
                    result.sent.append(Sent(call.at, record.model_id, record.request, usage))
        if len(result.sent) != len(calls):
            raise RuntimeError(
                f"{strategy.name} on {workload.name}: {len(result.sent)} answered requests for "
                f"{len(calls)} calls"
            )
        return result
