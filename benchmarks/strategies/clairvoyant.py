"""A feasible clairvoyant schedule: real checkpoints per request, chosen knowing the future.

It plans on the uncached run's requests and sends them with its checkpoints through a plain boto3
client, so the emulator prices an achievable placement; the gap between it and the lower bound is
what no placement can be sure to close. Per request, in time order:

- read: the deepest live entry on the request's path, by the first write's lookback where it is
  within reach, else by a checkpoint exactly there (either refreshes it);
- write: at most the remaining checkpoints, at the deepest positions this request shares with
  each future request (where their paths part), with the TTL per position; every set of up to
  the model's cap of such positions and every TTL assignment Bedrock accepts is scored by
  ``tokens x (future reads x read saving - write premium)``, counting the future requests that
  reach the entry before it expires, and the best one is kept (none if nothing pays).

The cache state is followed exactly with the emulator's own :class:`PromptCache`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from bedrock_cache import Layout, with_checkpoints
from bedrock_cache._models import TTL, TTL_SECONDS
from bedrock_cache._rules import Placement, entry_checkpoints, position_problem, request_problem
from bedrock_cache.emulator import ManualClock, PromptCache

from ..bound import Prices, Request, prices_of
from ..calls import Call
from . import Sender, Strategy

#: Candidate write positions scored per request (the deepest shared ones).
MAX_CANDIDATES = 8


def plan(requests: Sequence[Request], bodies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``bodies`` (Converse requests without checkpoints, aligned with ``requests``) with the
    schedule's checkpoints."""
    clock = ManualClock()
    cache = PromptCache(clock)
    live: dict[str, tuple[TTL, float]] = {}  # fingerprint -> (ttl, expires at)
    planned = []
    for number, (request, body) in enumerate(zip(requests, bodies, strict=True)):
        clock.advance(max(0.0, request.at - clock.now()))
        now = clock.now()
        points = _choose(requests, number, live, now)
        sent = with_checkpoints(body, request.layout, points) if points else dict(body)
        outcome = cache.process(Layout.of(sent), request.model.spec)
        for checkpoint in outcome.checkpoints:
            key = request.layout.blocks[checkpoint.after].fingerprint
            if checkpoint.status == "write":
                live[key] = (checkpoint.ttl, now + TTL_SECONDS[checkpoint.ttl])
            elif checkpoint.status == "read" and checkpoint.detail == "exact":
                ttl = live[key][0]
                live[key] = (ttl, now + TTL_SECONDS[ttl])
        planned.append(sent)
    return planned


def _choose(
    requests: Sequence[Request], number: int, live: dict[str, tuple[TTL, float]], now: float
) -> list[tuple[int, Any]]:
    request = requests[number]
    spec = request.model.spec
    layout = request.layout
    if not spec.supports_caching or not layout.blocks:
        return []
    valid = [
        b.index
        for b in layout.blocks
        if b.cumulative >= spec.min_tokens
        and (not spec.max_cached_tokens or b.cumulative <= spec.max_cached_tokens)
        and position_problem(layout, spec, Placement(b.index, b.section, b.message, None)) is None
    ]
    if not valid:
        return []
    hits = [j for j in valid if _alive(live, layout.blocks[j].fingerprint, now)]
    read = max(hits, default=-1)
    future = requests[number + 1 :]
    shared = {_deepest_shared(layout, other.layout, valid) for other in future}
    candidates = sorted(j for j in shared if j is not None and j > read)[-MAX_CANDIDATES:]
    budget = spec.max_checkpoints
    prices = prices_of(request.model)
    chains = {
        (j, ttl): _chain(layout.blocks[j].fingerprint, j, future, now, TTL_SECONDS[ttl])
        for j in candidates
        for ttl in spec.ttls
    }
    best: tuple[float, list[tuple[int, Any]]] = (0.0, [])
    for size in range(1, min(budget, len(candidates)) + 1):
        for chosen in itertools.combinations(candidates, size):
            for ttls in itertools.product(spec.ttls, repeat=size):
                if any(a == "5m" and b == "1h" for a, b in itertools.pairwise(ttls)):
                    continue
                value = _value(layout, read, chosen, ttls, chains, prices)
                if value <= best[0]:
                    continue
                points = _with_read(layout, spec, read, list(zip(chosen, ttls, strict=True)))
                if points is not None:
                    best = (value, points)
    if not best[1] and read >= 0:
        best = (0.0, [(read, spec.ttls[0])])
    return [(j, None if ttl == "5m" else ttl) for j, ttl in best[1]]


def _alive(live: dict[str, tuple[TTL, float]], key: str, now: float) -> bool:
    entry = live.get(key)
    return entry is not None and entry[1] > now


def _deepest_shared(layout: Layout, other: Layout, valid: list[int]) -> int | None:
    """The deepest valid position of ``layout`` whose prefix ``other`` shares."""
    shared = None
    for j in valid:
        if j < len(other.blocks) and other.blocks[j].fingerprint == layout.blocks[j].fingerprint:
            shared = j
        else:
            break
    return shared


def _chain(key: str, j: int, future: Sequence[Request], now: float, ttl: float) -> frozenset[int]:
    """Future requests (by position) through block ``j`` reached while an entry written now
    with ``ttl`` stays alive, each read resetting it."""
    reached = []
    last = now
    for position, other in enumerate(future):
        blocks = other.layout.blocks
        if j < len(blocks) and blocks[j].fingerprint == key:
            if other.at - last >= ttl:
                break
            reached.append(position)
            last = other.at
    return frozenset(reached)


def _value(
    layout: Layout,
    read: int,
    chosen: tuple[int, ...],
    ttls: tuple[TTL, ...],
    chains: dict[tuple[int, TTL], frozenset[int]],
    prices: Prices,
) -> float:
    total = 0.0
    previous = layout.prefix_tokens(read)
    for index, (j, ttl) in enumerate(zip(chosen, ttls, strict=True)):
        readers: set[int] = set()
        for deeper, deeper_ttl in zip(chosen[index:], ttls[index:], strict=True):
            readers |= chains[(deeper, deeper_ttl)]
        segment = layout.prefix_tokens(j) - previous
        saving = len(readers) * (prices.input - prices.read)
        total += segment * (saving - (prices.write[ttl] - prices.input))
        previous = layout.prefix_tokens(j)
    return total


def _with_read(
    layout: Layout, spec: Any, read: int, writes: list[tuple[int, TTL]]
) -> list[tuple[int, TTL]] | None:
    """The writes plus what reads the live entry at ``read``: the first write itself when the
    entry is within its lookback, else an exact checkpoint there; ``None`` if Bedrock would
    reject or ignore them."""
    options = [writes]
    if read >= 0:
        exact = [(read, writes[0][1]), *writes]
        within = spec.lookback_blocks and writes[0][0] - read <= spec.lookback_blocks
        options = [writes, exact] if within else [exact]
    for points in options:
        if len(points) <= spec.max_checkpoints and _accepted(layout, spec, points):
            return points
    return None


def _accepted(layout: Layout, spec: Any, points: list[tuple[int, TTL]]) -> bool:
    places = [
        Placement(j, layout.blocks[j].section, layout.blocks[j].message, ttl) for j, ttl in points
    ]
    if request_problem(layout, spec, places) is not None:
        return False
    return all(e.ignored is None for e in entry_checkpoints(layout, spec, places))


def strategy(requests: Sequence[Request], bodies: Sequence[dict[str, Any]]) -> Strategy:
    """The schedule as a strategy: the i-th call sends the i-th planned request via boto3."""
    planned = plan(requests, bodies)

    def open_schedule(emu: Any, model: str) -> Sender:
        client = emu.client()
        calls: dict[int, int] = {}

        def send(call: Call, caching: bool) -> None:
            # The i-th call of the workload: a retry after a rejection resends the same one.
            number = calls.setdefault(id(call), len(calls))
            client.converse(**(planned[number] if caching else bodies[number]))

        return send

    return Strategy("clairvoyant", "a feasible placement chosen knowing the future", open_schedule)
