"""Reuse history: which prefixes recur, how often, at which gaps, and where entries were written.

Only fingerprints (hashes of the exact prefix) are kept, never text; memory is bounded (least
recently seen entries are forgotten first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

MAX_CONTINUATIONS = 4


@dataclass(frozen=True)
class Sighting:
    """What the tracker knows of one prefix fingerprint."""

    count: int
    last_seen: float
    longest_gap: float = 0.0
    """Longest time between two sightings (0 until seen twice)."""
    checkpointed_at: float | None = None
    """When a planned checkpoint last stood at this prefix (an entry was written or read)."""
    continuations: frozenset[str] = field(default_factory=frozenset)
    """Fingerprints of the blocks seen right after this prefix (at most a few)."""

    @property
    def shared(self) -> bool:
        """Seen followed by different content: the prefix is shared by several conversations."""
        return len(self.continuations) > 1


class ReuseTracker:
    """Bounded, thread-safe memory of prefix fingerprints."""

    def __init__(self, max_entries: int = 20_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._seen: OrderedDict[str, Sighting] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def get(self, fingerprint: str) -> Sighting | None:
        with self._lock:
            return self._seen.get(fingerprint)

    def observe(
        self,
        now: float,
        seen: Iterable[tuple[str, str | None]],
        checkpointed: Iterable[str] = (),
    ) -> None:
        """Record prefixes seen in one request, each with the fingerprint of what followed it,
        and the prefixes a checkpoint stood at."""
        with self._lock:
            for fingerprint, continuation in seen:
                self._sight(fingerprint, continuation, now)
            for fingerprint in checkpointed:
                known = self._seen.get(fingerprint) or Sighting(1, now)
                self._seen[fingerprint] = replace(known, checkpointed_at=now)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)

    def _sight(self, fingerprint: str, continuation: str | None, now: float) -> None:
        old = self._seen.pop(fingerprint, None)
        if old is None:
            conts = frozenset([continuation] if continuation else [])
            self._seen[fingerprint] = Sighting(1, now, continuations=conts)
            return
        conts = old.continuations
        if continuation and continuation not in conts and len(conts) < MAX_CONTINUATIONS:
            conts = conts | {continuation}
        gap = max(old.longest_gap, now - old.last_seen) if now > old.last_seen else old.longest_gap
        self._seen[fingerprint] = replace(
            old, count=old.count + 1, last_seen=now, longest_gap=gap, continuations=conts
        )
