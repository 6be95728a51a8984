"""The emulator's prompt cache: what Bedrock reads, writes and ignores for one request.

Entries are keyed by (base model, fingerprint of the exact prefix), so profile prefixes share the
base model's cache. The checkpoint rules themselves live in :mod:`bedrock_cache._rules`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from .._layout import Layout
from .._models import TTL, TTL_SECONDS, ModelSpec
from .._rules import (
    EntryCheckpoint,
    check_request,
    entry_checkpoints,
    existing_placements,
    lookback_positions,
)
from ._clock import Clock

#: Entries held before the first sweep of expired ones; later sweeps at twice the live count.
SWEEP_AT = 256

Status = Literal["read", "write", "ignored"]


@dataclass(frozen=True)
class CheckpointOutcome:
    """What happened at one checkpoint of a request."""

    after: int
    """Index of the block the checkpoint follows."""
    ttl: TTL
    prefix_tokens: int
    status: Status
    detail: str
    """``exact``, ``lookback from block N``, ``new entry``, or why it was ignored."""


@dataclass(frozen=True)
class CacheOutcome:
    """The cache's effect on one request's input tokens."""

    total_input: int
    cache_read: int
    cache_write: int
    write_by_ttl: tuple[tuple[TTL, int], ...]
    checkpoints: tuple[CheckpointOutcome, ...]

    @property
    def uncached_input(self) -> int:
        return self.total_input - self.cache_read - self.cache_write

    def usage(self, output_tokens: int) -> dict[str, Any]:
        """The Converse ``usage`` object Bedrock would return."""
        usage: dict[str, Any] = {
            "inputTokens": self.uncached_input,
            "outputTokens": output_tokens,
            "totalTokens": self.total_input + output_tokens,
            "cacheReadInputTokens": self.cache_read,
            "cacheWriteInputTokens": self.cache_write,
        }
        if self.cache_write:
            usage["cacheDetails"] = [
                {"ttl": ttl, "inputTokens": tokens} for ttl, tokens in self.write_by_ttl if tokens
            ]
        return usage


@dataclass
class _Entry:
    ttl: TTL
    expires_at: float


class PromptCache:
    """Cache entries of every model, with TTLs on the given clock. Thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._sweep_at = SWEEP_AT
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Entries held: the live ones, and expired ones not swept yet."""
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every entry (as if the cache had expired everywhere)."""
        with self._lock:
            self._entries.clear()

    def _sweep(self, now: float) -> None:
        # Expired entries are otherwise dropped only when looked up; amortised O(1) per write.
        if len(self._entries) <= self._sweep_at:
            return
        for key in [k for k, entry in self._entries.items() if entry.expires_at <= now]:
            del self._entries[key]
        self._sweep_at = max(SWEEP_AT, 2 * len(self._entries))

    def process(self, layout: Layout, spec: ModelSpec) -> CacheOutcome:
        """Apply one request to the cache; raises ``CheckpointRuleError`` where Bedrock rejects."""
        check_request(layout, spec)
        checkpoints = entry_checkpoints(layout, spec, existing_placements(layout))
        with self._lock:
            return self._apply(layout, spec, checkpoints)

    def _apply(
        self, layout: Layout, spec: ModelSpec, checkpoints: list[EntryCheckpoint]
    ) -> CacheOutcome:
        now = self._clock.now()
        hits = {
            cp.after: self._lookup(layout, spec, cp.after, now)
            for cp in checkpoints
            if cp.ignored is None
        }
        read_upto = max((hit for hit in hits.values() if hit is not None), default=-1)
        outcomes: list[CheckpointOutcome] = []
        writes: list[tuple[TTL, int]] = []
        written_upto = read_upto
        for cp in checkpoints:
            if cp.ignored is not None:
                outcomes.append(_outcome(cp, "ignored", cp.ignored))
            elif cp.after <= read_upto:
                hit = hits.get(cp.after)
                detail = "exact" if hit == cp.after else f"lookback from block {hit}"
                outcomes.append(_outcome(cp, "read", detail if hit is not None else "covered"))
            else:
                tokens = cp.prefix_tokens - layout.prefix_tokens(written_upto)
                writes.append((cp.ttl, tokens))
                written_upto = cp.after
                key = (spec.model_id, layout.blocks[cp.after].fingerprint)
                self._entries[key] = _Entry(cp.ttl, now + TTL_SECONDS[cp.ttl])
                outcomes.append(_outcome(cp, "write", "new entry"))
        self._sweep(now)
        return CacheOutcome(
            total_input=layout.total_tokens,
            cache_read=layout.prefix_tokens(read_upto),
            cache_write=sum(tokens for _, tokens in writes),
            write_by_ttl=_by_ttl(writes),
            checkpoints=tuple(outcomes),
        )

    def _lookup(self, layout: Layout, spec: ModelSpec, after: int, now: float) -> int | None:
        """The block boundary at or up to ``lookback_blocks`` before ``after`` holding a live entry.

        A hit resets the entry's TTL ("5 minutes by default, reset by every hit").
        """
        for position in lookback_positions(spec, after):
            key = (spec.model_id, layout.blocks[position].fingerprint)
            entry = self._entries.get(key)
            if entry is None:
                continue
            if entry.expires_at <= now:
                del self._entries[key]
                continue
            entry.expires_at = now + TTL_SECONDS[entry.ttl]
            return position
        return None


def _outcome(cp: EntryCheckpoint, status: Status, detail: str) -> CheckpointOutcome:
    return CheckpointOutcome(cp.after, cp.ttl, cp.prefix_tokens, status, detail)


def _by_ttl(writes: list[tuple[TTL, int]]) -> tuple[tuple[TTL, int], ...]:
    totals: dict[TTL, int] = {}
    for ttl, tokens in writes:
        totals[ttl] = totals.get(ttl, 0) + tokens
    return tuple(totals.items())
