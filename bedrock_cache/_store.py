"""Reuse observations: which prefixes recur, at which gaps, and where cache entries stand.

The planner learns from traffic through a :class:`ReuseStore`: one ``lookup`` before planning a
request (a single round trip for all its boundary fingerprints) and one ``record`` after. Only
fingerprints (hashes of an exact prefix) and times are stored, never text, so a store may be
shared by a fleet. The store only persists; how an observation changes when a prefix is seen
again is decided here, in :meth:`Observation.seen_again`, so every store behaves alike.

:class:`InProcessStore` (bounded, least recently seen forgotten first) is the default.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ._frozen import one_step_init, replaced
from ._models import TTL, TTL_SECONDS, entry_alive


@one_step_init
@dataclass(frozen=True)
class Observation:
    """What is known of one prefix fingerprint. Primitives only, so it serializes as is.

    A *group* observation (keyed by a group fingerprint, see :attr:`group`) counts prefixes of
    one kind under one parent instead: ``seen`` members, of which ``recurred_5m`` / ``recurred_1h``
    were seen again within five minutes / within the hour of their first sighting.
    """

    seen: int
    """Requests that carried this prefix (members, for a group)."""
    last_seen: float
    """Clock time of the latest of them."""
    recurred_5m: int = 0
    """Gaps between consecutive sightings of at most five minutes."""
    recurred_1h: int = 0
    """Gaps over five minutes and at most an hour (longer gaps: ``seen - 1`` minus both)."""
    entry_at: float | None = None
    """When a checkpoint here last wrote or read a cache entry."""
    entry_ttl: str = ""
    """That entry's TTL (``"5m"`` or ``"1h"``), ``""`` when none was placed."""
    group: str = ""
    """Keys of the groups this prefix belongs to (its kind under its parent), space-separated."""
    first_seen: float | None = None
    """Clock time of the first sighting (``None`` in records written before it was kept)."""
    waiting: tuple[float, ...] = ()
    """For a group: first sightings of its newest members not seen again yet (at most
    :data:`MAX_WAITING`): one an hour old has not come back within the hour, one ten minutes old
    may still."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Observation:
        """From the dict of its JSON (``dataclasses.asdict``); unknown keys are ignored."""
        known = {name: value for name, value in data.items() if name in _FIELDS}
        if "waiting" in known:  # JSON has lists, not tuples
            known["waiting"] = tuple(known["waiting"])
        return cls(**known)

    @classmethod
    def first(cls, now: float, group: str = "") -> Observation:
        """A prefix seen for the first time."""
        return cls(seen=1, last_seen=now, group=group, first_seen=now)

    def seen_again(self, now: float) -> Observation:
        """This prefix (or a new member of this group) seen once more at ``now``."""
        quick, slow = gap_counts(now - self.last_seen)
        return replaced(
            self,
            seen=self.seen + 1,
            last_seen=max(now, self.last_seen),
            recurred_5m=self.recurred_5m + quick,
            recurred_1h=self.recurred_1h + slow,
        )

    def with_entry(self, now: float, ttl: TTL) -> Observation:
        """A checkpoint here wrote or read a cache entry with ``ttl`` at ``now``."""
        return replaced(self, entry_at=now, entry_ttl=ttl)

    def entry_alive(self, now: float) -> bool:
        """A cache entry placed here is still live at ``now`` (the one liveness check)."""
        if self.entry_at is None or self.entry_ttl not in TTL_SECONDS:
            return False
        ttl: TTL = "1h" if self.entry_ttl == "1h" else "5m"
        return entry_alive(self.entry_at, ttl, now)


def gap_counts(gap: float) -> tuple[int, int]:
    """What a gap adds to ``recurred_5m`` and ``recurred_1h``: (1, 0) within five minutes, (0, 1)
    past them but within the hour, (0, 0) past the hour."""
    if gap <= TTL_SECONDS["5m"]:
        return 1, 0
    return 0, int(gap <= TTL_SECONDS["1h"])


#: Members a group remembers as waiting for their second sighting; older ones count as failed.
MAX_WAITING = 16

_FIELDS = frozenset(Observation.__dataclass_fields__)


@runtime_checkable
class ReuseStore(Protocol):
    """Where reuse observations live. Implementations must be thread-safe and bounded.

    A store that fails or times out should raise; the caller then plans without observations.
    """

    def lookup(self, fingerprints: Sequence[str]) -> dict[str, Observation]:
        """The known observations among ``fingerprints`` (unknown ones are absent)."""
        ...

    def record(self, now: float, observations: Mapping[str, Observation]) -> None:
        """Store these observations (replacing earlier ones); ``now`` may drive expiry."""
        ...


class InProcessStore:
    """The default store: a bounded, thread-safe map in this process."""

    def __init__(self, max_entries: int = 50_000) -> None:
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive int, not {max_entries!r}")
        self._max = max_entries
        self._seen: OrderedDict[str, Observation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def lookup(self, fingerprints: Sequence[str]) -> dict[str, Observation]:
        seen = self._seen
        with self._lock:
            known = seen.keys() & fingerprints  # in C: most of a request's keys are known
            return dict(zip(known, map(seen.__getitem__, known), strict=True))

    def record(self, now: float, observations: Mapping[str, Observation]) -> None:
        seen = self._seen
        with self._lock:
            seen.update(observations)
            for fingerprint in observations:  # most recently seen last
                seen.move_to_end(fingerprint)
            while len(seen) > self._max:
                seen.popitem(last=False)
