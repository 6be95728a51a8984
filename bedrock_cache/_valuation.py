"""What a cache entry is worth: expected reads from observed traffic, priced by the model.

Writing a segment of a prefix with TTL ``t`` pays a premium ``write(t) - input`` per token now;
each later request that reads it saves ``input - read`` per token. The expected number of reads
comes from how often the prefix (or, for a prefix never seen before, others of its kind under
the same parent) recurred within ``t`` -- an entry lives on while every gap stays under its TTL,
so with probability ``p`` of the next gap staying under it, the entry serves ``p / (1 - p)`` reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._frozen import replaced
from ._models import TTL, TTL_SECONDS, ModelSpec
from ._store import MAX_WAITING, Observation, gap_counts

#: A prefix's own recurrence rate within a TTL blends its gaps with a steady-traffic estimate:
#: arrivals at the prefix's mean gap recur within ``t`` with probability ``1 - exp(-t / mean)``,
#: weighted as this many gaps. It tells 5m from 1h before any gap past five minutes was seen: a
#: prefix seen every two minutes will also be seen within the hour, one seen every ten seconds
#: gains nothing from 1h.
STEADY_WEIGHT = 1.0
#: Records written before first sightings were kept: (gaps within the TTL + 0.25) / (gaps + 0.75).
OWN_PRIOR_WITHIN = 0.25
OWN_PRIOR_GAPS = 0.75
#: A new prefix's rate is its group's: members that recurred within five minutes / (members + 1),
#: and within the hour that plus the share of the rest that came back later (see ``_later``).
#: Before the group has any member, tool schemas, system prompts, history ahead of the last
#: message and context ahead of a question -- content written to be re-sent -- risk one 5m write:
#: 0.4 gives 0.67 expected reads, which pays the premium. A conversation's own end risks it only
#: on a static prefix seen before (a new conversation on a shared prompt), so traffic that never
#: repeats costs at most one premium more than without caching.
SHARED_PRIOR = 0.4

#: Expected reads are capped (a prefix's future is finite), high enough that a prefix which
#: nearly always recurs within five minutes but sometimes not still takes 1h (its 5m entry
#: would be written again after each longer gap).
MAX_READS = 200.0


@dataclass(frozen=True)
class TokenPrices:
    """Per-token saving of a read and premium of a write, relative to the input price."""

    saving: float
    premium_5m: float
    premium_1h: float

    @classmethod
    def of(cls, spec: ModelSpec) -> TokenPrices:
        """From the model's prices; Claude's rule of thumb where a price is not published."""
        prices = spec.prices
        base = prices.input or 1.0
        read = prices.cache_read if prices.cache_read is not None else 0.1 * base
        write_5m = prices.cache_write_5m if prices.cache_write_5m is not None else 1.25 * base
        write_1h = prices.cache_write_1h if prices.cache_write_1h is not None else 2.0 * base
        return cls(
            saving=(base - read) / base,
            premium_5m=max(0.0, write_5m - base) / base,
            premium_1h=max(0.0, write_1h - base) / base,
        )

    def premium(self, ttl: TTL) -> float:
        return self.premium_1h if ttl == "1h" else self.premium_5m

    def value(self, reads: float, ttl: TTL) -> float:
        """Net saving per token of writing a segment that ``reads`` later requests read."""
        return reads * self.saving - self.premium(ttl)


def recurrence(
    own: Observation | None,
    group: Observation | None,
    now: float,
    ttl: TTL,
    *,
    learn: bool,
    shared: bool = False,
    newest_open: bool = False,
) -> float:
    """Probability that a prefix is requested again within ``ttl``.

    From its own gaps when it was seen before (the gap since its last sighting counts too); for
    a new prefix from how many of its group recurred within ``ttl`` (``learn=False``: zero).
    ``newest_open``: the group's newest member, seen within five minutes, may still recur, so
    it counts as the prior until its window closes (a second conversation on a shared prompt
    starting before the first one's next turn).
    """
    if own is not None:
        gap = now - own.last_seen
        within = _within(own.recurred_5m, own.recurred_1h, ttl)
        within += gap <= TTL_SECONDS[ttl]
        if own.first_seen is None:
            return (within + OWN_PRIOR_WITHIN) / (own.seen + OWN_PRIOR_GAPS)
        steady = _steady(TTL_SECONDS[ttl], (now - own.first_seen) / own.seen)
        return (within + STEADY_WEIGHT * steady) / (own.seen + STEADY_WEIGHT)
    if not learn:
        return 0.0
    if group is None or group.seen == 0:
        return SHARED_PRIOR if (shared or newest_open) and ttl == "5m" else 0.0
    quick = group.recurred_5m / (group.seen + 1)
    if ttl == "1h":
        return quick + (1.0 - quick) * _later(group, now)
    if newest_open and now - group.last_seen <= TTL_SECONDS["5m"]:
        # the newest member counts as the prior until its window closes, unless it came back
        # already: then it is among those that did, not counted twice
        pending = SHARED_PRIOR if group.last_seen in group.waiting else 0.0
        return min(1.0, (group.recurred_5m + pending) / group.seen)
    return quick


def _later(group: Observation, now: float) -> float:
    """Chance a member not back within five minutes comes back within the hour: of those past
    five minutes, the ones that came back, against the others weighted by how much of the hour
    they have had (a member ten minutes old has had a tenth of it)."""
    five, hour = TTL_SECONDS["5m"], TTL_SECONDS["1h"]
    waiting = group.waiting
    exposure: float = max(0, group.seen - group.recurred_5m - group.recurred_1h - len(waiting))
    if waiting and now - min(waiting) > five:  # else none has waited five minutes yet
        ages = (now - first for first in waiting)
        exposure += sum(min(1.0, (age - five) / (hour - five)) for age in ages if age > five)
    return group.recurred_1h / (group.recurred_1h + exposure + 1)


def _steady(ttl_seconds: float, mean_gap: float) -> float:
    """Chance the next gap stays within a TTL, for arrivals at a steady mean gap."""
    return 1.0 - math.exp(-ttl_seconds / max(mean_gap, 1e-3))


def _within(quick: int, slow: int, ttl: TTL) -> int:
    return quick + slow if ttl == "1h" else quick


def expected_reads(probability: float) -> float:
    """Reads an entry serves while each next gap stays within its TTL with ``probability``."""
    if probability >= 1.0:
        return MAX_READS
    return min(MAX_READS, probability / (1.0 - probability))


def member_added(group: Observation | None, now: float) -> Observation:
    """A group that got one more member (a prefix of its kind seen for the first time)."""
    if group is None:
        return Observation(seen=1, last_seen=now, waiting=(now,))
    waiting = (*group.waiting[1 - MAX_WAITING :], now)
    return replaced(group, seen=group.seen + 1, last_seen=now, waiting=waiting)


def member_recurred(group: Observation, first: float, now: float) -> Observation:
    """A group one of whose members, first seen at ``first``, was seen again at ``now``."""
    quick, slow = gap_counts(now - first)
    waiting = group.waiting
    if first in waiting:
        at = waiting.index(first)
        waiting = (*waiting[:at], *waiting[at + 1 :])
    return replaced(
        group,
        recurred_5m=group.recurred_5m + quick,
        recurred_1h=group.recurred_1h + slow,
        waiting=waiting,
    )
