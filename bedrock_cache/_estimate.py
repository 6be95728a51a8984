"""What caching saves on a workload, before anything is built, and how it stacks with Batch and
Provisioned Throughput (BEDROCK.md §5-§7). The dollars come from :func:`cost_of` and the model
table; this module adds the traffic arithmetic and the advice."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ._models import TTL, TTL_SECONDS, ModelSpec, ResolvedModel
from ._pricing import Cost, Workload, cost_of, estimate
from ._usage import CacheUsage

#: Batch inference: about half the on-demand price, asynchronous, and no prompt caching.
BATCH_DISCOUNT = 0.5
SECONDS_PER_DAY = 86_400.0
DAYS_PER_MONTH = 30.0


@dataclass(frozen=True)
class Traffic:
    """When the requests arrive: spread at random over ``days`` days, ``active_hours`` a day."""

    days: float = DAYS_PER_MONTH
    active_hours: float = 24.0

    def __post_init__(self) -> None:
        if not self.days > 0:
            raise ValueError(f"Traffic.days must be more than 0, not {self.days!r}")
        if not 0 < self.active_hours <= 24:
            raise ValueError(
                "Traffic.active_hours must be more than 0 and at most 24, "
                f"not {self.active_hours!r}"
            )

    def expected_writes(self, requests: int, ttl: TTL) -> int:
        """Requests that find the entry expired: the first of each active period, and each one
        after a gap longer than the TTL (random arrivals)."""
        if requests == 0:
            return 0
        periods = math.ceil(self.days) if self.active_hours < 24 else 1
        per_period = requests / periods
        rate = per_period / (self.active_hours * 3600 * (self.days if periods == 1 else 1))
        gaps = max(per_period - 1, 0) * math.exp(-rate * TTL_SECONDS[ttl])
        return min(requests, max(1, round(periods * (1 + gaps))))


@dataclass(frozen=True)
class ProvisionedThroughput:
    """Reserved model units at a flat hourly price (USD per model unit per hour)."""

    hourly_usd: float
    units: int = 1
    hours: float = DAYS_PER_MONTH * 24

    def __post_init__(self) -> None:
        if not self.hourly_usd > 0:
            raise ValueError("ProvisionedThroughput.hourly_usd must be more than 0 (USD/unit/h)")
        if self.units < 1:
            raise ValueError("ProvisionedThroughput.units must be at least 1")
        if not self.hours > 0:
            raise ValueError("ProvisionedThroughput.hours must be more than 0")

    @property
    def cost(self) -> float:
        return self.hourly_usd * self.units * self.hours


def break_even_reads(model: ResolvedModel | ModelSpec, ttl: TTL) -> int:
    """Reads of one write before caching a prefix costs less than not caching it.

    A write costs ``write - input`` more than sending the tokens uncached; each read saves
    ``input - read``.
    """
    one = 1_000_000
    write = cost_of(_write(one, ttl), model).total
    plain = cost_of(CacheUsage(uncached_input=one), model).total
    read = cost_of(CacheUsage(cache_read=one), model).total
    if plain <= read:
        raise ValueError("this model's cache reads are not cheaper than input: caching never pays")
    return max(0, math.ceil((write - plain) / (plain - read) - 1e-9))


def _write(tokens: int, ttl: TTL) -> CacheUsage:
    return CacheUsage(cache_write_5m=tokens) if ttl == "5m" else CacheUsage(cache_write_1h=tokens)


@dataclass(frozen=True)
class SavingsEstimate:
    """The savings math for one workload on one model."""

    model: ResolvedModel
    workload: Workload
    cost: Cost
    """With the prefix cached as the workload says (``Cost.without_cache``: without caching)."""
    by_ttl: dict[str, Cost]
    """The same workload with every write at 5m, and at 1h (where the model has 1h)."""
    break_even: dict[str, int]
    batch: float
    provisioned: ProvisionedThroughput | None

    @property
    def input_tokens(self) -> int:
        return self.workload.usage().total_input

    @property
    def processed_share(self) -> float:
        """Share of input tokens the model still processes (uncached and written)."""
        usage = self.workload.usage()
        return (
            (usage.uncached_input + usage.cache_write) / usage.total_input
            if usage.total_input
            else 1.0
        )

    def recommendation(self) -> list[str]:
        """What to do, for this traffic shape."""
        advice: list[str] = []
        usage = self.workload.usage()
        writes = max(self.workload.cache_writes, 1)
        reads_per_write = usage.cache_read / writes / max(self.workload.cached_prefix_tokens, 1)
        best_ttl, best = min(self.by_ttl.items(), key=lambda item: item[1].total)
        if not usage.cache_read:  # every request writes: the prefixes do not recur
            best_ttl, best = self.workload.write_ttl, self.cost
        if not self.workload.cached_prefix_tokens:
            advice.append("Nothing repeats between requests: caching cannot help this workload.")
        elif not usage.cache_read or best.total >= self.cost.without_cache:
            need = self.break_even[best_ttl]
            advice.append(
                f"Do not cache this prefix: each write is read {reads_per_write:.1f} times, and a "
                f"{best_ttl} write needs {need} reads to pay."
            )
        elif best_ttl == "1h" and best.total < self.by_ttl["5m"].total * 0.99:
            advice.append(
                "Cache the static prefix with ttl 1h (CachePolicy(static_ttl='1h')): the gaps "
                f"between requests outlast 5 minutes (${best.total:,.2f} vs "
                f"${self.by_ttl['5m'].total:,.2f})."
            )
        else:
            advice.append("Cache the shared prefix with the default 5-minute TTL.")
        if self.batch < self.cost.total:
            advice.append(
                f"If answers can wait (asynchronous, within 24 h), Batch costs ${self.batch:,.2f}: "
                "less than on-demand with caching."
            )
        pt = self.provisioned
        if pt is not None:
            per_request = self.cost.total / max(self.workload.requests, 1)
            parity = pt.cost / per_request if per_request else math.inf
            cheaper = "cheaper" if pt.cost < self.cost.total else "dearer"
            advice.append(
                f"Provisioned Throughput (${pt.cost:,.2f}) is {cheaper} than on-demand with "
                f"caching at this volume; they cost the same at about {parity:,.0f} requests."
            )
        return advice

    def lines(self) -> list[str]:
        """The report, line by line (what ``bedrock-cache estimate`` prints)."""
        usage, cost, w = self.workload.usage(), self.cost, self.workload
        plain = self.cost_without_cache_by_kind()
        input_with = cost.uncached_input + cost.cache_read + cost.cache_write
        out = [
            f"model {self.model.spec.model_id} ({self.model.requested_id}), "
            f"{w.requests:,} requests",
            "  without caching",
            _line("input", usage.total_input, plain.uncached_input),
            _line("output", usage.output, plain.output),
            f"  without caching        ${cost.without_cache:>12,.2f}",
            f"  with caching ({w.write_ttl} writes)",
            _line("cache reads", usage.cache_read, cost.cache_read),
            _line("uncached input", usage.uncached_input, cost.uncached_input),
            _line("cache writes", usage.cache_write, cost.cache_write)
            + f"  ({w.cache_writes:,} writes)",
            _line("output", usage.output, cost.output),
            f"  with caching           ${cost.total:>12,.2f}  "
            f"({_change(cost.total, cost.without_cache)})",
            f"    input alone: ${plain.uncached_input:,.2f} -> ${input_with:,.2f} "
            f"({_change(input_with, plain.uncached_input)})",
            "  TTL (other TTL's writes as the traffic shape predicts them)",
        ]
        for ttl, ttl_cost in self.by_ttl.items():
            out.append(
                f"    {ttl:<3} total ${ttl_cost.total:>12,.2f}, "
                f"writes ${ttl_cost.cache_write:,.2f};"
                f" a write pays from its read number {self.break_even[ttl]}"
            )
        out.append(f"  Batch (no caching)     ${self.batch:>12,.2f}  (asynchronous; no caching)")
        if self.provisioned is not None:
            pt = self.provisioned
            out.append(
                f"  Provisioned Throughput ${pt.cost:>12,.2f}  ({pt.units} unit(s) x "
                f"{pt.hours:,.0f} h x ${pt.hourly_usd:,.2f}/h)"
            )
        out.append(
            f"    caching leaves {self.processed_share:.0%} of the input tokens to process: "
            f"reserved capacity serves up to {1 / max(self.processed_share, 1e-9):,.1f}x the "
            "requests where input-bound"
        )
        out.append("  recommendation")
        out.extend(f"    - {line}" for line in self.recommendation())
        return out

    def cost_without_cache_by_kind(self) -> Cost:
        """The same tokens with nothing cached, by kind."""
        usage = self.workload.usage()
        plain = CacheUsage(uncached_input=usage.total_input, output=usage.output)
        return cost_of(plain, self.model)


def _line(label: str, tokens: int, dollars: float) -> str:
    return f"    {label:<15}{tokens:>16,} tokens ${dollars:>12,.2f}"


def _change(new: float, old: float) -> str:
    return f"{new / old - 1:+.0%}" if old else "n/a"


def estimate_savings(
    workload: Workload,
    model: ResolvedModel,
    *,
    traffic: Traffic | None = None,
    provisioned: ProvisionedThroughput | None = None,
) -> SavingsEstimate:
    """The savings math for ``workload`` on ``model``: with and without caching, 5m against 1h,
    the break-even reuse count, Batch, and (given its price) Provisioned Throughput."""
    if not model.spec.supports_caching:
        raise ValueError(
            model.spec.note or f"{model.spec.model_id} does not support prompt caching"
        )
    traffic = traffic or Traffic()
    by_ttl: dict[str, Cost] = {}
    break_even: dict[str, int] = {}
    for ttl in ("5m", "1h"):
        if ttl in model.spec.ttls:
            writes = traffic.expected_writes(workload.requests, ttl)
            if ttl == workload.write_ttl:
                writes = workload.cache_writes
            shaped = replace(workload, cache_writes=min(writes, workload.requests), write_ttl=ttl)
            by_ttl[ttl] = estimate(shaped, model)
            break_even[ttl] = break_even_reads(model, ttl)
    if workload.write_ttl not in by_ttl:
        raise ValueError(
            f"{model.spec.model_id} has no {workload.write_ttl} TTL (has {model.spec.ttls})"
        )
    cost = estimate(workload, model)
    return SavingsEstimate(
        model, workload, cost, by_ttl, break_even, cost.without_cache * BATCH_DISCOUNT, provisioned
    )


@dataclass(frozen=True)
class ObservedTraffic:
    """A workload read back from call records (a trace log): the average call, per period."""

    model_id: str
    workload: Workload
    calls: int
    span_seconds: float | None
    """Seconds between the first and last record, when they carry times."""

    def per_month(self) -> Workload:
        """The workload scaled from the observed span to a 30-day month (as observed if unknown)."""
        if not self.span_seconds:
            return self.workload
        factor = DAYS_PER_MONTH * SECONDS_PER_DAY / self.span_seconds
        w = self.workload
        return replace(
            w,
            requests=round(w.requests * factor),
            cache_writes=max(1, round(w.cache_writes * factor)) if w.cache_writes else 0,
        )


USAGE_KEYS = (
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "uncached_input_tokens",
    "output_tokens",
)


def observed_traffic(records: Iterable[Mapping[str, Any]]) -> ObservedTraffic:
    """The workload of the calls in ``records`` (each a ``CallReport.as_dict()``, e.g. a trace
    log line, possibly with its numbers under ``"usage"``)."""
    totals = Counter[str]()
    models = Counter[str]()
    times: list[float] = []
    calls = writes = 0
    for record in records:
        inner = record.get("usage")
        numbers: Mapping[str, Any] = inner if isinstance(inner, Mapping) else record
        if not any(isinstance(numbers.get(key), int | float) for key in USAGE_KEYS):
            continue
        calls += 1
        for key in USAGE_KEYS:
            value = numbers.get(key)
            totals[key] += int(value) if isinstance(value, int | float) else 0
        if numbers.get("cache_write_5m_tokens") or numbers.get("cache_write_1h_tokens"):
            writes += 1
        model = record.get("model_id") or record.get("model")
        if isinstance(model, str):
            models[model] += 1
        moment = _seconds(record.get("time", record.get("timestamp")))
        if moment is not None:
            times.append(moment)
    if not calls:
        raise ValueError(
            "no call records with usage found: give a trace log (one JSON object per call, with "
            "cache_read_tokens, cache_write_5m_tokens, uncached_input_tokens, output_tokens)"
        )
    if not models:
        raise ValueError("the records name no model_id; give --model")
    cached = (
        totals["cache_read_tokens"]
        + totals["cache_write_5m_tokens"]
        + totals["cache_write_1h_tokens"]
    )
    one_hour = totals["cache_write_1h_tokens"] > totals["cache_write_5m_tokens"]
    workload = Workload(
        requests=calls,
        cached_prefix_tokens=round(cached / calls),
        uncached_tokens=round(totals["uncached_input_tokens"] / calls),
        output_tokens=round(totals["output_tokens"] / calls),
        cache_writes=max(writes, 1) if cached else 0,
        write_ttl="1h" if one_hour else "5m",
    )
    span = max(times) - min(times) if len(times) > 1 else None
    return ObservedTraffic(models.most_common(1)[0][0], workload, calls, span or None)


def _seconds(moment: Any) -> float | None:
    """Epoch seconds of a record's time: a number, or an ISO 8601 string (the trace log's)."""
    if isinstance(moment, int | float):
        return float(moment)
    if isinstance(moment, str):
        try:
            return datetime.fromisoformat(moment).timestamp()
        except ValueError:
            return None
    return None
