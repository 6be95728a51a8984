"""What a cache entry is worth: expected reads from observed traffic, priced by the model.

Writing a segment of a prefix with TTL ``t`` pays a premium ``write(t) - input`` per token now;
each later request that reads it saves ``input - read`` per token. The expected number of reads
comes from how often the prefix (or, for a prefix never seen before, others of its kind under
the same parent) recurred within ``t`` -- an entry lives on while every gap stays under its TTL,
so with probability ``p`` of the next gap staying under it, the entry serves ``p / (1 - p)`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._models import TTL, TTL_SECONDS, ModelSpec
from ._store import Observation

#: A prefix's own recurrence rate within a TTL: (gaps within it + 0.25) / (gaps + 0.75). Seen
#: again once within the TTL gives 0.71 (writing pays, even at 1h); once past it 0.14 (it does not).
OWN_PRIOR_WITHIN = 0.25
OWN_PRIOR_GAPS = 0.75
#: A new prefix's rate is its group's: members that recurred / (members + 1). Before the group
#: has any member, a conversation's own end is not written (traffic that never repeats then
#: costs what it costs without caching), while tool schemas, system prompts, history ahead of
#: the last message and context ahead of a question -- content written to be re-sent -- risk one
#: 5m write: 0.4 gives 0.67 expected reads, which pays the premium.
SHARED_PRIOR = 0.4

#: Expected reads are capped: beyond this, more precision changes no decision.
MAX_READS = 50.0


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
) -> float:
    """Probability that a prefix is requested again within ``ttl``.

    From its own gaps when it was seen before (the gap since its last sighting counts too); for
    a new prefix from how many of its group recurred within ``ttl`` (``learn=False``: zero).
    """
    if own is not None:
        gap = now - own.last_seen
        within = _within(own.recurred_5m, own.recurred_1h, ttl)
        within += gap <= TTL_SECONDS[ttl]
        return (within + OWN_PRIOR_WITHIN) / (own.seen + OWN_PRIOR_GAPS)
    if not learn:
        return 0.0
    if group is None or group.seen == 0:
        return SHARED_PRIOR if shared and ttl == "5m" else 0.0
    return _within(group.recurred_5m, group.recurred_1h, ttl) / (group.seen + 1)


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
        return Observation(seen=1, last_seen=now)
    return replace(group, seen=group.seen + 1, last_seen=now)


def member_recurred(group: Observation, gap: float) -> Observation:
    """A group one of whose members was seen again ``gap`` seconds after its first sighting."""
    quick = group.recurred_5m + (gap <= TTL_SECONDS["5m"])
    slow = group.recurred_1h + (TTL_SECONDS["5m"] < gap <= TTL_SECONDS["1h"])
    return replace(group, recurred_5m=quick, recurred_1h=slow)
