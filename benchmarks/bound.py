"""The clairvoyant lower bound: no checkpoint placement can make a trace cheaper than this.

Input: the requests of a run (without checkpoints) with their arrival times. The requests form a
tree of distinct prefixes (one node per block-aligned prefix, keyed by model and the prefix's
fingerprint); every edge is one block of ``k`` tokens. A request's input cost splits over the
edges on its path: an edge is *read* (cache-read price), *written* (cache-write price of the
entry that covers it, 5m or 1h), or *uncached* (input price). So

    cost = input price of everything + sum over edges and requests of k x (read saving or write
    premium)

and the bound minimises each edge's term on its own, by a dynamic programme over the requests
that pass through the edge in time order: "write at which TTL, when; read until when".

What a real placement must satisfy and the bound keeps (so it is tight where it matters):

- an edge is cached in a request only if that request can hold a checkpoint at or after it whose
  prefix is within the model's minimum and cache cap, at a position Bedrock accepts
  (:func:`bedrock_cache._rules.position_problem`); models without caching cache nothing;
- reading an edge needs an entry written earlier, whose last write or hit is less than its TTL
  ago (the emulator's ``expires_at <= now`` rule); a write pays the premium of its TTL, and 1h only
  where the model offers it;
- an entry ends at the edge only if some request could create one there (a valid position at or
  past the minimum); otherwise only entries ending deeper serve it. An entry ending at the edge
  lives on from read to read only while each gap stays under the TTL it was written with (a hit
  keeps an entry's own TTL). Past that, a request still reads the edge only through an entry
  ending deeper on its own path: at a prefix of that path where an earlier request could create
  an entry, and which an earlier request that could cache it passed through less than the longest
  TTL before.

Relaxations (each only lets the bound be lower than any real schedule, so it stays a bound):

- edges are optimised independently: a real request reads one prefix and writes segments that
  end at its checkpoints, which couples edges; dropping the coupling can only lower the minimum;
- a read keeps the edge readable as if it had hit the entry ending at the edge, whichever entry
  it hit; and an entry ending deeper counts when such a prefix was passed through less than the
  longest TTL before (that entry may have expired, or never been written);
- the 4-checkpoint cap, the 20-block lookback (or Nova's exact position), the per-segment minimum
  and the TTL-order rule are dropped: each only forbids placements, never makes one cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bedrock_cache import CacheUsage, Layout, ResolvedModel, cost_of
from bedrock_cache._models import TTL_SECONDS
from bedrock_cache._rules import Placement, position_problem


@dataclass(frozen=True)
class Request:
    """One request of a trace: when it arrived, its layout (no checkpoints) and model."""

    at: float
    layout: Layout
    model: ResolvedModel
    output_tokens: int = 0


@dataclass(frozen=True)
class Prices:
    """USD per token of one model: input, cache read, and cache write per TTL it offers."""

    input: float
    read: float
    write: dict[str, float]


def prices_of(model: ResolvedModel) -> Prices:
    def per_token(usage: CacheUsage) -> float:
        return cost_of(usage, model).total

    ttls = model.spec.ttls or ("5m",)
    return Prices(
        input=per_token(CacheUsage(uncached_input=1)),
        read=per_token(CacheUsage(cache_read=1)),
        write={
            ttl: per_token(
                CacheUsage(cache_write_5m=1) if ttl == "5m" else CacheUsage(cache_write_1h=1)
            )
            for ttl in ttls
        },
    )


def lower_bound(requests: Sequence[Request]) -> float:
    """The least total cost (input and output, USD) any placement could reach on ``requests``,
    which must be in the order they were sent."""
    prices = [prices_of(r.model) for r in requests]
    total = 0.0
    for request, price in zip(requests, prices, strict=True):
        output = cost_of(CacheUsage(output=request.output_tokens), request.model).total
        total += request.layout.total_tokens * price.input + output
    # edge (model, prefix fingerprint) -> tokens, the requests that may cache it, and for each of
    # them whether an entry ending deeper on its path may still be live (see _edge_cost)
    tokens: dict[tuple[str, str], int] = {}
    users: dict[tuple[str, str], list[int]] = {}
    deep: dict[tuple[str, str], list[bool]] = {}
    # prefixes where some request could create an entry (a valid checkpoint position), and when
    # a request that could cache through them last came
    endable: set[tuple[str, str]] = set()
    last_cached: dict[tuple[str, str], float] = {}
    for number, request in enumerate(requests):
        valid = _entry_positions(request)
        cacheable = _any_at_or_after(valid)
        model = request.model.spec.model_id
        longest = max((TTL_SECONDS[t] for t in request.model.spec.ttls), default=TTL_SECONDS["5m"])
        keys = [(model, block.fingerprint) for block in request.layout.blocks]
        # for each block: may an entry ending deeper on this path still be live?
        deeper_live = _any_after(
            [
                key in endable and key in last_cached and request.at - last_cached[key] < longest
                for key in keys
            ]
        )
        for index, (block, key) in enumerate(zip(request.layout.blocks, keys, strict=True)):
            tokens[key] = block.tokens
            if cacheable[index]:
                users.setdefault(key, []).append(number)
                deep.setdefault(key, []).append(deeper_live[index])
        for key, may, ends in zip(keys, cacheable, valid, strict=True):
            if may:
                last_cached[key] = request.at
            if ends:
                endable.add(key)
    memo: dict[tuple[tuple[int, ...], tuple[bool, ...], bool], float] = {}
    for key, members in users.items():
        signature = (tuple(members), tuple(deep[key]), key in endable)
        if signature not in memo:
            memo[signature] = _edge_cost(requests, prices, members, deep[key], key in endable)
        total += tokens[key] * memo[signature]
    return total


def _entry_positions(request: Request) -> list[bool]:
    """For each block: would a checkpoint right after it create a cache entry in this request
    (the model caches, the prefix is within its minimum and cap, and Bedrock accepts it there)?"""
    spec = request.model.spec
    layout = request.layout
    if not spec.supports_caching:
        return [False] * len(layout.blocks)
    result = []
    for block in layout.blocks:
        fits = block.cumulative >= spec.min_tokens and (
            not spec.max_cached_tokens or block.cumulative <= spec.max_cached_tokens
        )
        place = Placement(block.index, block.section, block.message, None)
        result.append(fits and position_problem(layout, spec, place) is None)
    return result


def _any_at_or_after(flags: list[bool]) -> list[bool]:
    result, seen = [False] * len(flags), False
    for index in reversed(range(len(flags))):
        seen = seen or flags[index]
        result[index] = seen
    return result


def _any_after(flags: list[bool]) -> list[bool]:
    return [*_any_at_or_after(flags)[1:], False]


#: States of one edge before one of its requests: never written; an entry ending at it is live
#: with TTL ``T`` (``T+`` when also in the shadow); not live, but in the shadow of a read (below);
#: or nothing can serve it.
_NEVER, _SHADOW, _DEAD = "never", "shadow", "dead"


def _edge_cost(
    requests: Sequence[Request],
    prices: Sequence[Prices],
    members: list[int],
    deep: list[bool],
    endable: bool,
) -> float:
    """Least extra cost per token of one edge over its requests (negative: a saving).

    A dynamic programme backwards over the requests through the edge, on the state before each
    (see the states above). Writing with TTL ``T`` makes the next request find the entry live if
    it comes within ``T``; a read keeps the entry's TTL. An entry ending deeper can serve the
    edge longer than that only if a request that *read* the edge wrote it (in a request that
    writes the edge, every later checkpoint has the same or a shorter TTL: the TTL-order rule),
    so after a read the edge stays in its shadow while every gap stays under the longest TTL;
    there a request reads it only through such an entry on its own path (``deep[i]``).
    """
    times = [requests[n].at for n in members]
    ttls = {ttl: TTL_SECONDS[ttl] for ttl in prices[members[0]].write}
    longest = max(ttls.values())
    states = [_NEVER, _SHADOW, _DEAD, *ttls, *(f"{ttl}+" for ttl in ttls)]
    after: dict[str, float] = dict.fromkeys(states, 0.0)
    for i in range(len(members) - 1, -1, -1):
        price = prices[members[i]]
        saving = price.read - price.input
        gap = times[i + 1] - times[i] if i + 1 < len(members) else float("inf")
        shadowed = after[_SHADOW] if gap < longest else after[_DEAD]
        # cost from the next request on, after caching the edge here: by the TTL of the entry
        # ending at it, and whether a read put it in the shadow
        onward: dict[tuple[str, bool], float] = {}
        for ttl, seconds in ttls.items():
            live = gap < seconds
            if not endable:  # no entry ends here: only one ending deeper serves the edge
                onward[ttl, True] = onward[ttl, False] = shadowed
                continue
            onward[ttl, True] = after[f"{ttl}+"] if live else shadowed
            onward[ttl, False] = after[ttl] if live else after[_DEAD]
        premium = {ttl: write - price.input for ttl, write in price.write.items()}
        fresh = _writes(premium, onward, shadow=False)
        now = {
            _NEVER: min([after[_NEVER], *fresh.values()]),
            _DEAD: min([after[_DEAD], *fresh.values()]),
            _SHADOW: min([shadowed, *_writes(premium, onward, shadow=True).values()]),
        }
        if deep[i]:
            now[_SHADOW] = min(now[_SHADOW], saving + shadowed)
        for ttl, seconds in ttls.items():
            # A live entry is read; writing again only pays to lengthen its TTL.
            read = saving + onward[ttl, True]
            for shadow, state in ((False, ttl), (True, f"{ttl}+")):
                longer = _writes(premium, onward, shadow=shadow)
                now[state] = min([read, *(c for t, c in longer.items() if ttls[t] > seconds)])
        after = now
    return after[_NEVER]


def _writes(
    premium: dict[str, float], onward: dict[tuple[str, bool], float], *, shadow: bool
) -> dict[str, float]:
    """Cost of writing the edge here with each TTL, and of everything after."""
    return {ttl: cost + onward[ttl, shadow] for ttl, cost in premium.items()}
