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
  TTL before;
- on a model that counts its minimum per segment, a request that reads an edge within the
  minimum of its deepest entry position writes a later one only through a checkpoint that finds
  the entry it read by lookback (on Nova, never): the pairing rule (:func:`_exclusive_pairs`),
  kept by Lagrangian relaxation: each such pair of edges in one request gets a price on reading
  the first and writing the second, given back once; any prices give a bound, a few subgradient
  steps pick good ones;
- a request that reads an edge no entry can end at, through an entry ending deeper on its path,
  needs an earlier request that passed that entry's prefix (within the longest TTL) to have read
  or written the edge (the cover rule, :func:`_covers`, kept the same way).

Relaxations (each only lets the bound be lower than any real schedule, so it stays a bound):

- edges are optimised independently, but for the prices of those two rules: a real request reads one
  prefix and writes segments that end at its checkpoints, which couples edges; dropping the
  coupling can only lower the minimum;
- a read keeps the edge readable as if it had hit the entry ending at the edge, whichever entry
  it hit; and an entry ending deeper counts when such a prefix was passed through less than the
  longest TTL before (that entry may have expired, or never been written);
- the 4-checkpoint cap, the 20-block lookback, the per-segment minimum (but for the pairing
  rule) and the TTL-order rule are dropped: each only forbids placements, never makes one
  cheaper; a live entry a request does not read is taken to live on as if it had.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bedrock_cache import Block, CacheUsage, Layout, ResolvedModel, cost_of
from bedrock_cache._models import TTL, TTL_SECONDS
from bedrock_cache._rules import Placement, position_problem, reaches


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
    write: dict[TTL, float]


def prices_of(model: ResolvedModel) -> Prices:
    def per_token(usage: CacheUsage) -> float:
        return cost_of(usage, model).total

    ttls: tuple[TTL, ...] = model.spec.ttls or ("5m",)
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
    pairs: dict[int, list[tuple[Block, Block]]] = {}
    passed: dict[tuple[str, str], list[int]] = {}  # prefix -> requests that could cache it
    covers: list[tuple[tuple[str, str], int, tuple[int, ...]]] = []
    for number, request in enumerate(requests):
        valid = _entry_positions(request)
        cacheable = _any_at_or_after(valid)
        pairs[number] = _exclusive_pairs(request, valid, endable)
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
        covers += _covers(requests, number, keys, cacheable, deeper_live, endable, passed, longest)
        for key, may, ends in zip(keys, cacheable, valid, strict=True):
            if may:
                last_cached[key] = request.at
                passed.setdefault(key, []).append(number)
            if ends:
                endable.add(key)
    edges = _Edges(requests, prices, tokens, users, deep, endable)
    covered = [c for c in covers if c[0] not in endable]
    return total + _lagrangian_bound(requests, prices, edges, pairs, covered)


@dataclass
class _Edges:
    """Every edge of a trace with what its dynamic programme needs (see :func:`lower_bound`)."""

    requests: Sequence[Request]
    prices: Sequence[Prices]
    tokens: dict[tuple[str, str], int]
    users: dict[tuple[str, str], list[int]]
    deep: dict[tuple[str, str], list[bool]]
    endable: set[tuple[str, str]]

    def cost(
        self, extra: Mapping[tuple[tuple[str, str], int], tuple[float, float]]
    ) -> tuple[float, dict[tuple[tuple[str, str], int], str]]:
        """Total extra cost of all edges, with ``extra`` prices per (edge, request), and what
        each request does with each edge it may cache."""
        total = 0.0
        actions: dict[tuple[tuple[str, str], int], str] = {}
        memo: dict[tuple[object, ...], tuple[float, list[str]]] = {}
        for key, members in self.users.items():
            added = tuple(extra.get((key, n), (0.0, 0.0)) for n in members)
            ends = key in self.endable
            signature = (tuple(members), tuple(self.deep[key]), ends, added)
            if signature not in memo:
                memo[signature] = _edge_cost(
                    self.requests, self.prices, members, self.deep[key], ends, added
                )
            cost, done = memo[signature]
            total += self.tokens[key] * cost
            actions.update(((key, n), action) for n, action in zip(members, done, strict=True))
        return total, actions


#: Subgradient steps on the Lagrange multipliers (each step's value is a lower bound).
LAGRANGE_STEPS = 60

#: One linear rule on the actions of one edge in some requests: terms (edge, request, the
#: actions that count, coefficient), and the most their sum may be in any real placement.
_Rule = tuple[tuple[tuple[tuple[str, str], int, frozenset[str], float], ...], float]
_READ, _WRITE, _CACHE = frozenset({"read"}), frozenset({"write"}), frozenset({"read", "write"})


def _lagrangian_bound(
    requests: Sequence[Request],
    prices: Sequence[Prices],
    edges: _Edges,
    pairs: Mapping[int, list[tuple[Block, Block]]],
    covers: Sequence[tuple[tuple[str, str], int, tuple[int, ...]]],
) -> float:
    """The edges' least total, strengthened by Lagrangian relaxation of rules the edges, each
    optimised on its own, would break.

    - the pairing rule: within one request, reading the first edge of a pair of
      :func:`_exclusive_pairs` and writing the second exclude each other;
    - the cover rule: a request that reads an edge no entry can end at (through an entry ending
      deeper on its path, see :func:`_covers`) needs an earlier request that passed that entry's
      prefix to have cached the edge: read or written it.

    Each rule gets a multiplier ``mu >= 0`` that prices the actions it counts (by their
    coefficient) and is given back times its limit. Any real placement obeys the rules, so it
    pays no more than before; the edges, still optimised one by one, can only gain. So every
    choice of multipliers gives a lower bound; subgradient steps look for a good one, and the
    best value seen is kept (the first step, all zero, is the plain bound)."""
    rules: list[_Rule] = []
    steps: list[float] = []
    for number, found in pairs.items():
        if not found:
            continue
        model = requests[number].model.spec.model_id
        blocks = {b.index: b for pair in found for b in pair}.values()
        mean = sum(block.tokens for block in blocks) / len(blocks)
        # the first step: the saving on two average blocks of the pairs
        step = 2 * (prices[number].input - prices[number].read) * mean
        for g, h in found:
            first, second = (model, g.fingerprint), (model, h.fingerprint)
            rules.append((((first, number, _READ, 1.0), (second, number, _WRITE, 1.0)), 1.0))
            steps.append(step)
    for key, reader, writers in covers:
        terms = ((key, reader, _READ, 1.0), *((key, q, _CACHE, -1.0) for q in writers))
        rules.append((terms, 0.0))
        steps.append((prices[reader].input - prices[reader].read) * edges.tokens[key])
    mu = [0.0] * len(rules)
    best = -float("inf")
    for step in range(LAGRANGE_STEPS if rules else 1):
        extra: dict[tuple[tuple[str, str], int], list[float]] = {}
        for (terms, _), value in zip(rules, mu, strict=True):
            if not value:
                continue
            for key, number, counted, coefficient in terms:
                added = extra.setdefault((key, number), [0.0, 0.0])
                price = value * coefficient / edges.tokens[key]
                if "read" in counted:
                    added[0] += price
                if "write" in counted:
                    added[1] += price
        total, actions = edges.cost({key: (r, w) for key, (r, w) in extra.items()})
        limits = sum(value * limit for (_, limit), value in zip(rules, mu, strict=True))
        best = max(best, total - limits)
        for index, (terms, limit) in enumerate(rules):
            used = sum(
                coefficient
                for key, number, counted, coefficient in terms
                if actions.get((key, number)) in counted
            )
            mu[index] = max(0.0, mu[index] + steps[index] * (used - limit) / (step + 1))
    return best


def _covers(
    requests: Sequence[Request],
    number: int,
    keys: Sequence[tuple[str, str]],
    cacheable: Sequence[bool],
    deeper_live: Sequence[bool],
    existing: set[tuple[str, str]],
    passed: Mapping[tuple[str, str], list[int]],
    longest: float,
) -> list[tuple[tuple[str, str], int, tuple[int, ...]]]:
    """For each edge of request ``number`` it may read through an entry ending deeper on its
    path: the edge, the request, and the earlier requests one of which must have cached the edge
    for such an entry to be live -- those that passed a deeper prefix of this path where an
    earlier request could create an entry, less than the longest TTL before (the last one to
    write or read that entry did, and reading it reads the edge)."""
    at = requests[number].at
    found: list[tuple[tuple[str, str], int, tuple[int, ...]]] = []
    deeper: set[int] = set()
    for index in reversed(range(len(keys))):
        if cacheable[index] and deeper_live[index]:
            found.append((keys[index], number, tuple(sorted(deeper))))
        if keys[index] in existing:
            deeper.update(q for q in passed.get(keys[index], ()) if at - requests[q].at < longest)
    return found


def _exclusive_pairs(
    request: Request, valid: Sequence[bool], existing: set[tuple[str, str]]
) -> list[tuple[Block, Block]]:
    """Pairs of blocks (``g`` before ``h``) of one request that it cannot both read and write, on
    a model that counts its minimum per segment.

    Both end within ``min_tokens`` of the request's deepest entry position. Reading ``g`` means
    reading up to an entry at or past it, which an earlier request created (``existing``: the
    prefixes that were entry positions before). Writing ``h`` after that needs a checkpoint that
    creates an entry at or past ``h``: either the one that finds the read entry by lookback, which
    must then reach back to it, or one ``min_tokens`` past the checkpoint that read it, which lies
    beyond the deepest position. So the pair excludes itself when no earlier entry position from
    ``g`` to just before ``h`` is within the lookback of ``h`` (on Nova, none ever is)."""
    spec = request.model.spec
    if spec.min_tokens_mode != "segment" or not spec.min_tokens:
        return []
    blocks = request.layout.blocks
    ends = [b.cumulative for b, ok in zip(blocks, valid, strict=True) if ok]
    if not ends:
        return []
    deepest = max(ends)
    zone = [b for b in blocks if deepest - spec.min_tokens < b.cumulative <= deepest and b.tokens]
    model = spec.model_id
    entry_before: list[int] = []  # per block: the deepest earlier entry position up to it
    last = -1
    for block in blocks:
        if (model, block.fingerprint) in existing:
            last = block.index
        entry_before.append(last)
    found: list[tuple[Block, Block]] = []
    for j, first in enumerate(zone):
        for second in zone[j + 1 :]:
            read_to = entry_before[second.index - 1]
            if read_to < first.index or not reaches(spec, second.index, read_to):
                found.append((first, second))
    return found


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
    extra: Sequence[tuple[float, float]] = (),
) -> tuple[float, list[str]]:
    """Least extra cost per token of one edge over its requests (negative: a saving), and what
    each request does with the edge in one cheapest policy (``read``, ``write`` or ``""``).

    A dynamic programme backwards over the requests through the edge, on the state before each
    (see the states above). Writing with TTL ``T`` makes the next request find the entry live if
    it comes within ``T``; a read keeps the entry's TTL. An entry ending deeper can serve the
    edge longer than that only if a request that *read* the edge wrote it (in a request that
    writes the edge, every later checkpoint has the same or a shorter TTL: the TTL-order rule),
    so after a read the edge stays in its shadow while every gap stays under the longest TTL;
    there a request reads it only through such an entry on its own path (``deep[i]``).
    ``extra``: per request, a price per token added to reading and to writing the edge (the
    multipliers of :func:`_lagrangian_bound`).
    """
    times = [requests[n].at for n in members]
    ttls = {ttl: TTL_SECONDS[ttl] for ttl in prices[members[0]].write}
    longest = max(ttls.values())
    states = [_NEVER, _SHADOW, _DEAD, *ttls, *(f"{ttl}+" for ttl in ttls)]
    after: dict[str, float] = dict.fromkeys(states, 0.0)
    steps: list[dict[str, tuple[str, str]]] = []  # per request, from the last: state -> choice
    for i in range(len(members) - 1, -1, -1):
        price = prices[members[i]]
        read_extra, write_extra = extra[i] if extra else (0.0, 0.0)
        saving = price.read - price.input + read_extra
        premium = {ttl: write - price.input + write_extra for ttl, write in price.write.items()}
        gap = times[i + 1] - times[i] if i + 1 < len(members) else float("inf")
        shadowed = _SHADOW if gap < longest else _DEAD

        def then(ttl: TTL, shadow: bool, gap: float = gap, shadowed: str = shadowed) -> str:
            """The state the next request finds after this one cached the edge with ``ttl``
            (``shadow``: by reading it). No entry ends at an edge that is not endable: only one
            ending deeper serves it."""
            if not endable or gap >= ttls[ttl]:
                return shadowed if shadow or not endable else _DEAD
            return f"{ttl}+" if shadow else ttl

        def option(
            now: float, action: str, nxt: str, onward: dict[str, float] = after
        ) -> tuple[float, str, str]:
            """What an action costs here and after, what it is, and the state it leads to."""
            return now + onward[nxt], action, nxt

        options: dict[str, list[tuple[float, str, str]]] = {}
        for state in (_NEVER, _DEAD):
            options[state] = [option(0.0, "", state)]
            options[state] += [option(premium[t], "write", then(t, False)) for t in ttls]
        options[_SHADOW] = [option(0.0, "", shadowed)]
        options[_SHADOW] += [option(premium[t], "write", then(t, True)) for t in ttls]
        if deep[i]:
            options[_SHADOW].append(option(saving, "read", shadowed))
        for ttl, seconds in ttls.items():
            # A live entry is read (or, costlier, left: as if it stayed live); writing again
            # only pays to lengthen its TTL.
            for shadow, state in ((False, ttl), (True, f"{ttl}+")):
                options[state] = [option(saving, "read", then(ttl, True))]
                options[state].append(option(0.0, "", then(ttl, shadow)))
                options[state] += [
                    option(premium[t], "write", then(t, shadow)) for t in ttls if ttls[t] > seconds
                ]
        step = {state: min(choices) for state, choices in options.items()}
        after = {state: cost for state, (cost, _, _) in step.items()}
        steps.append({state: (action, nxt) for state, (_, action, nxt) in step.items()})
    actions: list[str] = []
    state = _NEVER
    for step_choice in reversed(steps):
        action, state = step_choice[state]
        actions.append(action)
    return after[_NEVER], actions
