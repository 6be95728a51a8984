"""Cache usage of one call, read from every shape it arrives in, and aggregated safely.

Bedrock's own arithmetic: total input = inputTokens + cacheReadInputTokens + cacheWriteInputTokens.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._frozen import one_step_init
from ._outcomes import OUTCOMES, Outcome


@one_step_init
@dataclass(frozen=True)
class CacheUsage:
    """Tokens of one or more calls, split by how Bedrock billed them."""

    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    uncached_input: int = 0
    output: int = 0

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h

    @property
    def total_input(self) -> int:
        return self.cache_read + self.cache_write + self.uncached_input

    @property
    def hit_rate(self) -> float:
        """Token hit rate: read / (read + write + uncached); 0.0 with no input."""
        return self.cache_read / self.total_input if self.total_input else 0.0

    def __add__(self, other: CacheUsage) -> CacheUsage:
        return CacheUsage(  # field by field: this runs for every recorded call
            self.cache_read + other.cache_read,
            self.cache_write_5m + other.cache_write_5m,
            self.cache_write_1h + other.cache_write_1h,
            self.uncached_input + other.uncached_input,
            self.output + other.output,
        )

    def as_dict(self) -> dict[str, int | float]:
        """Plain numbers for trace metadata and JSON logs."""
        return {
            "cache_read_tokens": self.cache_read,
            "cache_write_5m_tokens": self.cache_write_5m,
            "cache_write_1h_tokens": self.cache_write_1h,
            "uncached_input_tokens": self.uncached_input,
            "output_tokens": self.output,
            "total_input_tokens": self.total_input,
            "token_hit_rate": round(self.hit_rate, 4),
        }


def _int(mapping: Mapping[str, Any], key: str) -> int:
    value = mapping.get(key)
    return int(value) if isinstance(value, (int, float)) else 0


def usage_from_converse(usage: Mapping[str, Any]) -> CacheUsage:
    """From a Converse ``usage`` object (camelCase), or the ConverseStream ``metadata.usage``.

    ``cacheDetails`` splits the writes by TTL; writes it does not cover count as 5-minute writes.
    """
    write = _int(usage, "cacheWriteInputTokens")
    by_ttl = {"5m": 0, "1h": 0}
    for detail in usage.get("cacheDetails") or []:
        if detail.get("ttl") in by_ttl:
            by_ttl[detail["ttl"]] += _int(detail, "inputTokens")
    read, uncached = _int(usage, "cacheReadInputTokens"), _int(usage, "inputTokens")
    return _split_writes(read, write, by_ttl["1h"], uncached, _int(usage, "outputTokens"))


def _split_writes(read: int, write: int, write_1h: int, uncached: int, output: int) -> CacheUsage:
    """Usage whose writes are split by TTL; writes the 1-hour count does not cover are 5m."""
    write_1h = min(write_1h, write)
    return CacheUsage(read, write - write_1h, write_1h, uncached, output)


def usage_from_stream_event(event: Mapping[str, Any]) -> CacheUsage | None:
    """From a ConverseStream event; ``None`` for every event but the final ``metadata`` one."""
    metadata = event.get("metadata")
    if not isinstance(metadata, Mapping) or "usage" not in metadata:
        return None
    return usage_from_converse(metadata["usage"])


#: The closing metrics of an InvokeModel response stream.
INVOCATION_METRICS = "amazon-bedrock-invocationMetrics"


def usage_from_native(usage: Mapping[str, Any]) -> CacheUsage:
    """From a ``usage`` object of any shape Bedrock returns: Converse, an Anthropic Messages
    body (``input_tokens``...) or a Nova InvokeModel body (``cacheReadInputTokenCount``...)."""
    if "input_tokens" in usage or "cache_creation_input_tokens" in usage:
        return usage_from_anthropic(usage)
    if "cacheReadInputTokenCount" in usage or "cacheWriteInputTokenCount" in usage:
        return usage_from_nova(usage)
    return usage_from_converse(usage)


def usage_from_anthropic(usage: Mapping[str, Any]) -> CacheUsage:
    """From an Anthropic ``usage`` object (the body's, or a stream's ``message_start`` one).

    ``input_tokens`` is the uncached input; ``cache_creation`` splits the writes by TTL.
    """
    details = usage.get("cache_creation")
    return _split_writes(
        _int(usage, "cache_read_input_tokens"),
        _int(usage, "cache_creation_input_tokens"),
        _int(details, "ephemeral_1h_input_tokens") if isinstance(details, Mapping) else 0,
        _int(usage, "input_tokens"),
        _int(usage, "output_tokens"),
    )


def usage_from_nova(usage: Mapping[str, Any]) -> CacheUsage:
    """From a Nova InvokeModel ``usage`` (or a stream's ``metadata.usage``): ``inputTokens`` is
    the uncached input; Nova writes 5-minute entries only."""
    return _invoke_counts(usage, "inputTokens", "outputTokens")


def usage_from_invocation_metrics(metrics: Mapping[str, Any]) -> CacheUsage:
    """From a stream's ``amazon-bedrock-invocationMetrics`` (no split of writes by TTL)."""
    return _invoke_counts(metrics, "inputTokenCount", "outputTokenCount")


def _invoke_counts(counts: Mapping[str, Any], uncached: str, output: str) -> CacheUsage:
    """InvokeModel's ``cacheRead/WriteInputTokenCount`` with the given input and output keys."""
    return CacheUsage(
        cache_read=_int(counts, "cacheReadInputTokenCount"),
        cache_write_5m=_int(counts, "cacheWriteInputTokenCount"),
        uncached_input=_int(counts, uncached),
        output=_int(counts, output),
    )


def usage_from_langchain(usage_metadata: Mapping[str, Any]) -> CacheUsage:
    """From a LangChain ``AIMessage.usage_metadata``.

    langchain-aws counts reads and writes inside ``input_tokens`` (before 0.2.2x it passed
    Bedrock's uncached ``inputTokens`` through, with Bedrock's ``totalTokens``; the larger of
    ``input_tokens`` and ``total_tokens - output_tokens`` is the total input either way). When
    Bedrock sends ``cacheDetails`` it reports writes as ``ephemeral_5m/1h_input_tokens`` and sets
    ``cache_creation`` to 0, so the true write count is the sum of the three.
    """
    details: Mapping[str, Any] = usage_metadata.get("input_token_details") or {}
    read = _int(details, "cache_read")
    write_1h = _int(details, "ephemeral_1h_input_tokens")
    write_5m = _int(details, "cache_creation") + _int(details, "ephemeral_5m_input_tokens")
    output = _int(usage_metadata, "output_tokens")
    total_input = max(
        _int(usage_metadata, "input_tokens"), _int(usage_metadata, "total_tokens") - output
    )
    return CacheUsage(
        cache_read=read,
        cache_write_5m=write_5m,
        cache_write_1h=write_1h,
        uncached_input=max(0, total_input - read - write_5m - write_1h),
        output=output,
    )


def usage_from_llama_index(response: Any) -> CacheUsage | None:
    """From a LlamaIndex ``ChatResponse``/``CompletionResponse`` of ``BedrockConverse``.

    Bedrock's own ``usage`` in ``raw`` is preferred (it has ``cacheDetails``); otherwise
    ``additional_kwargs`` (``prompt_tokens`` is the uncached input there). ``None`` when the
    response carries no usage, as every streamed chunk but the last.
    """
    raw = getattr(response, "raw", None)
    if isinstance(raw, Mapping):
        if isinstance(raw.get("usage"), Mapping):
            return usage_from_native(raw["usage"])
        from_event = usage_from_stream_event(raw)
        if from_event is not None:
            return from_event
        if isinstance(raw.get(INVOCATION_METRICS), Mapping):  # an InvokeModel stream's last chunk
            return usage_from_invocation_metrics(raw[INVOCATION_METRICS])
    extra: Mapping[str, Any] = getattr(response, "additional_kwargs", None) or {}
    if "prompt_tokens" not in extra and "cache_read_input_tokens" not in extra:
        return None
    return CacheUsage(
        cache_read=_int(extra, "cache_read_input_tokens"),
        cache_write_5m=_int(extra, "cache_creation_input_tokens"),
        uncached_input=_int(extra, "prompt_tokens"),
        output=_int(extra, "completion_tokens"),
    )


#: Calls whose detail :class:`CacheStats` keeps by default (totals are kept for every call).
RECENT_CALLS = 1000


@one_step_init
@dataclass(frozen=True)
class CallRecord:
    """One counted call, as kept in :meth:`CacheStats.recent`."""

    model_id: str
    usage: CacheUsage
    cost: float
    cost_without_cache: float
    outcome: Outcome | None = None
    """How the call ended if not well (``failed``, ``throttled``, ``timed_out``, ``cut``)."""


@dataclass
class _Tally:
    usage: CacheUsage = field(default_factory=CacheUsage)
    requests: int = 0
    requests_with_read: int = 0
    cost: float = 0.0
    cost_without_cache: float = 0.0
    ended: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))


@dataclass(frozen=True)
class StatsSnapshot:
    """Totals of a :class:`CacheStats`, overall or for one model."""

    usage: CacheUsage
    requests: int
    """Calls whose usage Bedrock reported (and billed)."""
    requests_with_read: int
    cost: float
    cost_without_cache: float
    failed: int = 0
    """Calls that ended in an error other than the ones below (not billed when rejected)."""
    throttled: int = 0
    """Calls Bedrock refused for rate or quota (not billed)."""
    timed_out: int = 0
    """Calls that got no answer in time (Bedrock may bill what it processed; usage unknown)."""
    cut: int = 0
    """Streams that broke off after they started; their usage is in the totals when Bedrock
    reported it before the break."""

    @property
    def unfinished(self) -> int:
        """Calls that did not end well: failed + throttled + timed out + cut."""
        return self.failed + self.throttled + self.timed_out + self.cut

    @property
    def token_hit_rate(self) -> float:
        """read / (read + write + uncached) over all requests."""
        return self.usage.hit_rate

    @property
    def request_hit_rate(self) -> float:
        """Share of requests that read anything from the cache."""
        return self.requests_with_read / self.requests if self.requests else 0.0

    @property
    def saved(self) -> float:
        """Dollars saved against the same traffic without caching (negative: caching cost more)."""
        return self.cost_without_cache - self.cost

    def as_dict(self) -> dict[str, int | float]:
        return {
            **self.usage.as_dict(),
            "requests": self.requests,
            "request_hit_rate": round(self.request_hit_rate, 4),
            "cost_usd": round(self.cost, 6),
            "cost_without_cache_usd": round(self.cost_without_cache, 6),
            "saved_usd": round(self.saved, 6),
            "failed": self.failed,
            "throttled": self.throttled,
            "timed_out": self.timed_out,
            "cut": self.cut,
        }


class CacheStats:
    """Aggregates usage per model and overall; safe under threads and asyncio (one lock).

    Totals cover every call ever recorded; the detail of the last ``recent`` calls is kept in
    :meth:`recent` (older detail is dropped, so memory stays flat in long-running apps).
    """

    def __init__(self, recent: int = RECENT_CALLS) -> None:
        if isinstance(recent, bool) or not isinstance(recent, int) or recent < 0:
            raise ValueError(
                f"recent must be a whole number of calls to keep in detail (0 or more, e.g. "
                f"1000), not {recent!r}"
            )
        self._lock = threading.Lock()
        self._by_model: dict[str, _Tally] = {}
        self._recent: deque[CallRecord] = deque(maxlen=recent)

    def record(
        self,
        model_id: str,
        usage: CacheUsage,
        *,
        cost: float = 0.0,
        cost_without_cache: float = 0.0,
    ) -> None:
        with self._lock:
            tally = self._tally(model_id)
            tally.usage = tally.usage + usage
            tally.requests += 1
            tally.requests_with_read += usage.cache_read > 0
            tally.cost += cost
            tally.cost_without_cache += cost_without_cache
            self._recent.append(CallRecord(model_id, usage, cost, cost_without_cache))

    def record_outcome(self, model_id: str, outcome: Outcome) -> None:
        """Count a call that ended badly (its usage, if any, is recorded with :meth:`record`)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        with self._lock:
            tally = self._tally(model_id)
            tally.ended[outcome] += 1
            self._recent.append(CallRecord(model_id, CacheUsage(), 0.0, 0.0, outcome))

    def _tally(self, model_id: str) -> _Tally:
        """The model's tally (held lock); a new one only for a model not seen before."""
        tally = self._by_model.get(model_id)
        if tally is None:
            tally = self._by_model[model_id] = _Tally()
        return tally

    def recent(self) -> list[CallRecord]:
        """The last calls recorded, oldest first (at most ``recent`` of them)."""
        with self._lock:
            return list(self._recent)

    def total(self) -> StatsSnapshot:
        with self._lock:
            return _snapshot(list(self._by_model.values()))

    def by_model(self) -> dict[str, StatsSnapshot]:
        with self._lock:
            return {model: _snapshot([tally]) for model, tally in self._by_model.items()}

    def summary(self) -> str:
        """A few readable lines: tokens by kind, hit rates, dollars spent and saved."""
        lines = [_summary_line("all models", self.total())]
        per_model = self.by_model()
        if len(per_model) > 1:
            lines += [_summary_line(model, snap) for model, snap in sorted(per_model.items())]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def reset(self) -> None:
        with self._lock:
            self._by_model.clear()
            self._recent.clear()


def _snapshot(tallies: list[_Tally]) -> StatsSnapshot:
    usage = CacheUsage()
    for tally in tallies:
        usage = usage + tally.usage
    return StatsSnapshot(
        usage=usage,
        requests=sum(t.requests for t in tallies),
        requests_with_read=sum(t.requests_with_read for t in tallies),
        cost=sum(t.cost for t in tallies),
        cost_without_cache=sum(t.cost_without_cache for t in tallies),
        **{outcome: sum(t.ended[outcome] for t in tallies) for outcome in OUTCOMES},
    )


def _summary_line(label: str, snap: StatsSnapshot) -> str:
    u = snap.usage
    return (
        f"{label}: {snap.requests:,} request{'' if snap.requests == 1 else 's'}, "
        f"cache read {u.cache_read:,} / write "
        f"{u.cache_write:,} (1h {u.cache_write_1h:,}) / uncached {u.uncached_input:,} / output "
        f"{u.output:,} tokens; token hit rate {snap.token_hit_rate:.1%}, request hit rate "
        f"{snap.request_hit_rate:.1%}; cost ${snap.cost:.4f} vs ${snap.cost_without_cache:.4f} "
        f"without caching (saved ${snap.saved:.4f})" + _unfinished(snap)
    )


def _unfinished(snap: StatsSnapshot) -> str:
    counts = [f"{getattr(snap, o)} {o.replace('_', ' ')}" for o in OUTCOMES if getattr(snap, o)]
    return f"; not completed: {', '.join(counts)}" if counts else ""
