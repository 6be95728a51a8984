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
  where the model offers it.

Relaxations (each only lets the bound be lower than any real schedule, so it stays a bound):

- edges are optimised independently: a real request reads one prefix and writes segments that
  end at its checkpoints, which couples edges; dropping the coupling can only lower the minimum;
- a read may refresh the edge for the model's longest TTL (a real read refreshes the hit entry
  with its own TTL, or creates a deeper 1h entry that only some later requests pass through);
- an entry anywhere below the edge counts (a real read needs it on the reader's own path);
- the 4-checkpoint cap, the 20-block lookback (or Nova's exact position), the per-segment minimum
  and the TTL-order rule are dropped: each only forbids placements, never makes one cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bedrock_cache import CacheUsage, Layout, ResolvedModel, cost_of
from bedrock_cache._rules import Placement, position_problem

TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


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
    # edge (model, prefix fingerprint) -> tokens, and the requests that may cache it
    tokens: dict[tuple[str, str], int] = {}
    users: dict[tuple[str, str], list[int]] = {}
    for number, request in enumerate(requests):
        cacheable = _cacheable_from(request)
        for block in request.layout.blocks:
            key = (request.model.spec.model_id, block.fingerprint)
            tokens[key] = block.tokens
            if cacheable[block.index]:
                users.setdefault(key, []).append(number)
    memo: dict[tuple[int, ...], float] = {}
    for key, members in users.items():
        signature = tuple(members)
        if signature not in memo:
            memo[signature] = _edge_cost(requests, prices, members)
        total += tokens[key] * memo[signature]
    return total


def _cacheable_from(request: Request) -> list[bool]:
    """For each block: may this request hold a cache-creating checkpoint at or after it?"""
    spec = request.model.spec
    layout = request.layout
    result = [False] * len(layout.blocks)
    if not spec.supports_caching:
        return result
    later = False
    for block in reversed(layout.blocks):
        fits = block.cumulative >= spec.min_tokens and (
            not spec.max_cached_tokens or block.cumulative <= spec.max_cached_tokens
        )
        place = Placement(block.index, block.section, block.message, None)
        if fits and position_problem(layout, spec, place) is None:
            later = True
        result[block.index] = later
    return result


def _edge_cost(requests: Sequence[Request], prices: Sequence[Prices], members: list[int]) -> float:
    """Least extra cost per token of one edge over its requests (negative: a saving).

    ``best[j]``: from request ``j`` on, with nothing readable at ``j``. A write at ``j`` with TTL
    ``T`` makes ``j+1`` readable if it comes within ``T``; each read keeps the edge readable for the
    longest TTL (relaxation), so reads run on while gaps stay under it.
    """
    times = [requests[n].at for n in members]
    count = len(members)
    longest = max(
        (TTL_SECONDS[t] for n in members for t in requests[n].model.spec.ttls), default=300.0
    )
    saving = [prices[n].read - prices[n].input for n in members]
    # run_end[i], run_saving[i]: a read at i, and every read after it while gaps < longest
    run_end = [0] * (count + 1)
    run_saving = [0.0] * (count + 1)
    run_end[count] = count
    for i in range(count - 1, -1, -1):
        if i + 1 < count and times[i + 1] - times[i] < longest:
            run_end[i], run_saving[i] = run_end[i + 1], saving[i] + run_saving[i + 1]
        else:
            run_end[i], run_saving[i] = i + 1, saving[i]
    best = [0.0] * (count + 1)
    for j in range(count - 1, -1, -1):
        options = [best[j + 1]]
        price = prices[members[j]]
        for ttl, write in price.write.items():
            premium = write - price.input
            if j + 1 < count and times[j + 1] - times[j] < TTL_SECONDS[ttl]:
                options.append(premium + run_saving[j + 1] + best[run_end[j + 1]])
            else:
                options.append(premium + best[j + 1])
        best[j] = min(options)
    return best[0]
