"""The checkpoint planner: where cachePoints go in one Converse request, and why.

A pure function of (layout, model spec, policy, observations, time), in four steps:

1. **Boundaries** -- where a checkpoint may stand and what it would close, with the store keys
   of each and of its groups (:mod:`._boundaries`).
2. **Read point** -- the deepest boundary holding a live entry we placed: reading it is free, so
   a checkpoint reaches it (by lookback, or a bridge exactly there).
3. **Valuation** -- each deeper boundary's expected reads within each TTL, from how often that
   prefix (or, when new, others of its kind under the same parent, and for a new system prompt
   or document also this conversation going on) recurred; a system block seen before by its own
   recurrence alone. The end of a request whose history no record knows, and the message ends
   under a system prompt seen for the first time, are valued apart once such ends have been
   seen often enough.
4. **Allocation** -- the checkpoints and TTLs maximising the expected saving, by dynamic
   programming over the boundaries: a segment is written once at its checkpoint's TTL and read
   as often as that checkpoint's prefix recurs. Within the model's limit (user-placed ones
   count), the minimum-token rule, the token cap and the TTL order (1h before 5m); nothing that
   will not pay is written.

What the store learns from the request afterwards is :mod:`._observed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ._boundaries import (
    BRANCH_KINDS,
    Boundary,
    Kind,
    apart_groups,
    boundaries,
    history_unseen,
    store_key,
)
from ._by_identity import ByIdentity
from ._layout import Block, Layout
from ._models import TTL, ModelSpec
from ._observed import recurrences
from ._plan import Plan, PlannedCheckpoint, Role
from ._policy import CachePolicy
from ._rules import Placement, entry_checkpoints, existing_placements, reaches
from ._rules import request_problem as _request_problem
from ._store import Observation
from ._valuation import TokenPrices, expected_reads, recurrence

#: Recurrence assumed for tools and system under ``static_ttl="1h"`` (three expected reads).
ASSERTED_RECURRENCE = 0.75
#: Members a group needs, none of which recurred, before it alone says "these do not recur".
GROUP_EVIDENCE = 4
#: Expected-saving tie-break: a checkpoint must earn this many tokens' worth to be spent...
CHECKPOINT_COST = 1.0
#: ...except after the tool schemas or a system block, where a spare checkpoint costs nothing
#: (the same tokens are written either way) and keeps that entry readable if what follows
#: starts to change.
STATIC_CHECKPOINT_BONUS = 0.5


class PlanContext(NamedTuple):
    """What every step of one planning pass needs, threaded as one (immutable) value."""

    layout: Layout
    spec: ModelSpec
    policy: CachePolicy
    prices: TokenPrices
    observations: Mapping[str, Observation]
    now: float
    ttls: tuple[TTL, ...]
    """TTLs the planner may choose from, longest first."""
    unseen_history: bool
    """:func:`history_unseen` of this request."""


@dataclass(slots=True)  # not frozen: built for every option of every request
class _Option:
    boundary: Boundary
    ttl: TTL
    reads: float
    value: float
    """Net saving per token of the segment this checkpoint closes."""


def plan_checkpoints(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy | None = None,
    observations: Mapping[str, Observation] | None = None,
    now: float = 0.0,
    *,
    found: Sequence[Boundary] | None = None,
    learned: Mapping[str, Observation] | None = None,
) -> Plan:
    """Plan the checkpoints of one request; never mutates its inputs.

    ``observations`` are what the reuse store knows of the keys of :func:`boundaries` (and of
    their groups); without them every prefix is new. ``found``: those boundaries, and
    ``learned``: their :func:`recurrences`, if the caller has them already.
    """
    policy = policy or CachePolicy()
    manual = existing_placements(layout)
    if not spec.supports_caching or not layout.blocks:
        why = spec.note or f"{spec.model_id} does not support prompt caching"
        return Plan(spec.model_id, (), len(manual), (why,) if not spec.supports_caching else ())
    problem = _request_problem(layout, spec, manual)
    if problem is not None:
        return Plan(spec.model_id, (), len(manual), (f"left as built: {problem}",))
    budget = spec.max_checkpoints - len(manual)
    if policy.max_checkpoints is not None:
        budget = min(budget, policy.max_checkpoints - len(manual))
    ttls: tuple[TTL, ...] = ("1h", "5m") if "1h" in spec.ttls else ("5m",)
    if policy.static_ttl == "5m":
        ttls = ("5m",)
    known = observations or {}
    if found is None:
        found = boundaries(layout, spec, policy)
    if learned is None:
        learned = recurrences(found, known, now)
    if learned:
        known = {**known, **learned}
    unseen = history_unseen(found, known)
    context = PlanContext(layout, spec, policy, _prices(spec), known, now, ttls, unseen)
    read = _read_point(context, found)
    deeper = found[_after(found, read) :] if read is not None else found
    options = _valued(context, deeper, read.cumulative if read is not None else 0)
    small = [b for b in deeper if b.block.cumulative < spec.min_tokens]
    if small and not any(b.block.cumulative >= spec.min_tokens for b in deeper):
        tokens = small[-1].block.cumulative
        skipped_small = (
            f"prefix is {tokens:,} tokens, below {spec.model_id}'s minimum of {spec.min_tokens:,}"
        )
    else:
        skipped_small = ""
    skipped = [_NOT_PAYING[b.kind] for b, o in zip(deeper, options, strict=True) if not o]
    if skipped_small:
        skipped.append(skipped_small)
    chosen = _allocate(context, read, [o for o in options if o], budget) if budget > 0 else []
    planned = _validated(context, manual, chosen, skipped)
    return Plan(spec.model_id, tuple(planned), len(manual), tuple(s for s in skipped if s))


#: Token prices by model spec (a spec is immutable; kept while it is the one in use).
_prices = ByIdentity(TokenPrices.of, limit=256)


def _read_point(context: PlanContext, found: Sequence[Boundary]) -> Block | None:
    """The deepest boundary holding a live entry we placed."""
    for boundary in reversed(found):
        seen = context.observations.get(boundary.key)
        if seen is not None and seen.entry_alive(context.now):
            return boundary.block
    return None


def _after(found: Sequence[Boundary], block: Block) -> int:
    """Where the boundaries past ``block`` start (``found`` is in prefix order)."""
    index = len(found)
    while index and found[index - 1].block.index > block.index:
        index -= 1
    return index


def _valued(
    context: PlanContext, deeper: Sequence[Boundary], floor: int = 0
) -> list[list[_Option]]:
    """Each boundary's worthwhile TTLs with their value per token, best first.

    A prefix recurs whenever a longer one through it does, so its chance is at least theirs. A
    new prefix of a :data:`BRANCH_KINDS` kind has two ways back: other requests branching there
    (its group's rate) and this request going on (the conversation's chance). A new system
    prompt under a conversation's first question is then worth more than that question's end,
    which on a model counting its minimum per segment it would otherwise lose to.
    """
    result: list[list[_Option]] = []
    below: dict[TTL, float] = dict.fromkeys(context.ttls, 0.0)
    goes_on: dict[TTL, float] = below  # the chance through the deepest non-branch boundary
    continued = False  # a deeper prefix of this request was seen before
    for i in reversed(range(len(deeper))):
        boundary = deeper[i]
        odds = _extension_odds(context, deeper[i - 1], boundary) if i else 1.0
        branch = boundary.kind in BRANCH_KINDS
        new = branch and boundary.key not in context.observations
        chances: dict[TTL, float] = {}
        moving = _goes_on_only(boundary, context.observations.get(boundary.key), continued)
        for ttl, chance in _chances(context, boundary, moving=moving).items():
            chance *= odds
            if new:  # either channel brings it back: 1 - P(neither)
                chance = 1.0 - (1.0 - goes_on[ttl]) * (1.0 - chance)
            chances[ttl] = max(below[ttl], chance)
        if not branch:
            goes_on = chances
        below = chances
        continued = continued or boundary.key in context.observations
        result.append(_options(context, boundary, chances, floor if moving else None))
    return result[::-1]


def _extension_odds(context: PlanContext, parent: Boundary, boundary: Boundary) -> float:
    """How likely a block seen for the first time comes back with the system blocks before it:
    1 / (times those were seen + 1.5), two in three when they are new too. It discounts a later
    system block (system blocks are written to be re-sent) and a block ahead of the question
    that adds less than the model's minimum (a time stamp, a user id), which could hold a
    checkpoint only in place of the system prompt's: a block that changes on every request so
    never takes the static prefix's checkpoint, and the instructions after a timestamp block
    (the minute's requests read them) are still written the first time. A document ahead of
    the question is valued by its kind (other documents, the conversation going on), and a
    block seen before by its own recurrence, which measures this directly: one of a few
    documents loaded into the system prompt after shared instructions recurs as its own gaps
    say, not as its share of the instructions' traffic."""
    observations = context.observations
    if parent.kind != "system" or boundary.key in observations:
        return 1.0
    small = boundary.block.cumulative - parent.block.cumulative < context.spec.min_tokens
    if boundary.kind != "system" and not (boundary.kind == "context" and small):
        return 1.0
    before = observations.get(parent.key)
    return 1.0 / ((before.seen if before is not None else 0) + 1.5)


def _chances(context: PlanContext, boundary: Boundary, *, moving: bool = False) -> dict[TTL, float]:
    """The boundary's chance of recurring within each TTL the planner may choose.
    ``moving``: it comes back only as its conversation goes on (:func:`_goes_on_only`)."""
    own = context.observations.get(boundary.key)
    if own is not None and boundary.kind == "message" and moving:
        # it recurs because the conversation goes on, and the new end's checkpoint serves
        # that; as a branch point it is still unproven
        own = None
    group = _group(context.observations, boundary.groups) if own is None else None
    if own is None:
        apart = _group(
            context.observations,
            apart_groups(boundary, context.observations, unseen=context.unseen_history),
        )
        if apart is not None and apart.seen >= GROUP_EVIDENCE:  # else: as conversations do
            group = apart
    learn = not context.policy.skip_one_off_writes
    shared = boundary.kind in ("tools", "system", "context", "message")
    newest_open = boundary.kind == "tail" and _parent_recurs(context, boundary)
    asserted = context.policy.static_ttl == "1h" and boundary.kind in ("tools", "system")
    chances: dict[TTL, float] = {}
    for ttl in context.ttls:
        chance = recurrence(
            own, group, context.now, ttl, learn=learn, shared=shared, newest_open=newest_open
        )
        # With static_ttl="1h" the caller vouches that the tools and system recur.
        chances[ttl] = max(chance, ASSERTED_RECURRENCE) if asserted else chance
    return chances


def _goes_on_only(boundary: Boundary, own: Observation | None, continued: bool) -> bool:
    """The prefix comes back only as its conversation goes on: a conversation's end, or a
    message end not seen before, seen before only as a conversation's end, or ahead of a longer
    prefix of this request that was seen before (``continued``) -- not a point other requests
    branch from."""
    if boundary.kind == "tail":
        return True
    return boundary.kind == "message" and (own is None or ">tail" in own.group or continued)


def _parent_recurs(context: PlanContext, boundary: Boundary) -> bool:
    """The static prefix (tools and system) above a conversation was seen before: a new
    conversation on a shared prompt, not a one-off request."""
    return boundary.parent != context.spec.model_id and boundary.parent in context.observations


def _group(observations: Mapping[str, Observation], keys: Sequence[str]) -> Observation | None:
    """The narrowest group that has learned something -- a member recurred, or enough members
    came that none recurring says something -- else the broadest one known (a system prompt
    that just changed, say at the minute, inherits what conversations did under the last one)."""
    known = [observations[key] for key in keys if key in observations]
    learned = (g for g in known if g.recurred_5m + g.recurred_1h or g.seen >= GROUP_EVIDENCE)
    return next(learned, known[-1] if known else None)


def _options(
    context: PlanContext,
    boundary: Boundary,
    chances: Mapping[TTL, float],
    floor: int | None = None,
) -> list[_Option]:
    """``floor``: for a prefix that comes back only as its conversation goes on, where the
    segment its checkpoint would write starts (see :func:`_moving_end_hour`)."""
    spec, policy = context.spec, context.policy
    if spec.max_cached_tokens and boundary.block.cumulative > spec.max_cached_tokens:
        return []
    result: list[_Option] = []
    for ttl, chance in chances.items():
        forced = policy.static_ttl == "1h" and "1h" in context.ttls
        if forced and boundary.kind in ("tools", "system") and ttl != "1h":
            continue
        reads = expected_reads(chance)
        value = context.prices.value(reads, ttl)
        if ttl == "1h" and floor is not None and "5m" in chances:
            value = _moving_end_hour(context, boundary, chances, floor)
        if value > 0:
            result.append(_Option(boundary, ttl, reads, value))
    return sorted(result, key=lambda o: -o.value)


def _moving_end_hour(
    context: PlanContext, boundary: Boundary, chances: Mapping[TTL, float], floor: int
) -> float:
    """Net saving per token of writing a prefix that comes back only as its conversation goes
    on (:func:`_goes_on_only`: its end, or a message end in it) for the hour, not five minutes.
    A point other requests branch from (shared examples) is valued by its own reads instead.

    The entry there keeps the whole conversation readable until the next turn writes its own,
    so the hour's extra premium, paid on the segment written now (past ``floor``, the entry
    this request reads), insures the whole prefix against the next turn coming after five
    minutes but within the hour, when it would be written again. A conversation written afresh
    (after a pause, say) is written for five minutes, and the small turns after it for the hour
    where the next gap may pass five minutes.
    """
    prices = context.prices
    prefix = boundary.block.cumulative
    segment = max(1, prefix - floor)
    later = max(0.0, chances["1h"] - chances["5m"])
    rewrite = prices.premium_5m + prices.saving  # writing the prefix again instead of reading it
    short = prices.value(expected_reads(chances["5m"]), "5m")
    return short + later * rewrite * prefix / segment - (prices.premium_1h - prices.premium_5m)


# -- allocation --------------------------------------------------------------------------------

Chosen = tuple[Block, TTL, Role, str]


@dataclass(slots=True)  # not frozen: built for every option of every request
class _Choice:
    total: float
    picks: tuple[_Option, ...]


def _allocate(
    context: PlanContext, read: Block | None, options: list[list[_Option]], budget: int
) -> list[Chosen]:
    """The best checkpoints for this request, in prefix order."""
    if read is None:
        return _described(_best(context, options, budget, read_upto=0, placed=None))
    # Reading the live entry is free: a written checkpoint reaches it by lookback, or a bridge
    # stands exactly on it (and then the minimum counts from there, and its TTL bounds the rest).
    lookback = context.spec.lookback_blocks
    reached = None
    if lookback:
        reached = _best(
            context, options, budget, read_upto=read.cumulative, placed=None, reach=read
        )
    ttl = _entry_ttl(context, read)
    bridged = _best(
        context, options, budget - 1, read_upto=read.cumulative, placed=read, ceiling=ttl
    )
    bridged_total = (bridged.total if bridged else 0.0) - CHECKPOINT_COST
    if reached is not None and reached.total >= bridged_total:
        return _described(reached)
    why = "bridge: reads the live cache entry at this prefix"
    if bridged is not None and lookback:
        gap = bridged.picks[0].boundary.block.index - read.index
        if gap > lookback:
            why = (
                f"bridge: the cache entry is {gap} blocks back, past the {lookback}-block lookback"
            )
    return [(read, ttl, "bridge", why), *_described(bridged)]


def _entry_ttl(context: PlanContext, block: Block) -> TTL:
    seen = context.observations.get(store_key(context.spec, block.fingerprint))
    ttl: TTL = "1h" if seen is not None and seen.entry_ttl == "1h" else "5m"
    return ttl if ttl in context.spec.ttls else "5m"


def _best(
    context: PlanContext,
    options: list[list[_Option]],
    budget: int,
    *,
    read_upto: int,
    placed: Block | None,
    ceiling: TTL = "1h",
    reach: Block | None = None,
) -> _Choice | None:
    """The most valuable picks (at most ``budget``), by dynamic programming in prefix order.

    A pick closes the segment since the previous pick (or the read point, ``read_upto`` tokens)
    and earns its tokens times its value. TTLs never increase along the prefix and stay within
    ``ceiling``; the first pick reads the entry at ``reach`` (by lookback) when given; each pick
    must create an entry (the minimum rule, counted from the previous checkpoint placed here).
    """
    if budget <= 0 or not options:
        return None
    empty = _Choice(0.0, ())
    best: _Choice | None = None
    layer: dict[tuple[int, TTL], _Choice] = {}
    for count in range(1, min(budget, len(options)) + 1):  # at most one pick per boundary
        nxt: dict[tuple[int, TTL], _Choice] = {}
        for i, opts in enumerate(options):
            block = opts[0].boundary.block
            far = reach is not None and not reaches(context.spec, block.index, reach.index)
            if count == 1 and far:
                continue
            if count == 1:
                before = [(empty, placed.cumulative if placed else None, ceiling)]
            else:
                before = [
                    (choice, options[j][0].boundary.block.cumulative, ttl)
                    for (j, ttl), choice in layer.items()
                    if j < i
                ]
            for opt in opts:
                for choice, previous, bound in before:
                    if _TTL_RANK[opt.ttl] > _TTL_RANK[bound]:
                        continue
                    if not _creates_entry(context.spec, block.cumulative, previous):
                        continue
                    start = max(previous or 0, read_upto)
                    gain = (block.cumulative - start) * opt.value + _spent(opt.boundary)
                    total = choice.total + gain
                    key = (i, opt.ttl)
                    if total > 0 and (key not in nxt or total > nxt[key].total):
                        nxt[key] = _Choice(total, (*choice.picks, opt))
        layer = nxt
        if not layer:  # no pick extends any of the last layer's: nor will one more
            break
        for choice in layer.values():
            if best is None or choice.total > best.total:
                best = choice
    return best


_TTL_RANK: dict[TTL, int] = {"5m": 0, "1h": 1}


def _spent(boundary: Boundary) -> float:
    static = boundary.kind in ("tools", "system")
    return STATIC_CHECKPOINT_BONUS if static else -CHECKPOINT_COST


def _creates_entry(spec: ModelSpec, prefix: int, previous: int | None) -> bool:
    """The minimum rule: the prefix reaches ``min_tokens`` and, in ``segment`` mode, so does the
    segment since the previous checkpoint placed in this request."""
    if prefix < spec.min_tokens:
        return False
    if spec.min_tokens_mode == "segment" and previous is not None:
        return prefix - previous >= spec.min_tokens
    return True


def _described(choice: _Choice | None) -> list[Chosen]:
    if choice is None:
        return []
    return [(o.boundary.block, o.ttl, _role(o.boundary), _reason(o)) for o in choice.picks]


#: What a checkpoint after each kind of boundary closes, as its reason says.
_CLOSES: dict[Kind, str] = {
    "tools": "tool schemas",
    "system": "system prompt",
    "message": "prefix shared with earlier requests",
    "context": "shared context before the question",
    "tail": "moving end of conversation",
}
_ROLES: dict[Kind, Role] = {
    "tools": "tools",
    "system": "system",
    "message": "shared",
    "context": "document",
    "tail": "conversation",
}


#: Why a boundary of each kind got no checkpoint when none of its TTLs would pay.
_NOT_PAYING: dict[Kind, str] = {
    kind: f"{role}: not expected to be read enough to pay for a write"
    for kind, role in _ROLES.items()
}


def _reason(option: _Option) -> str:
    boundary = option.boundary
    tokens = boundary.block.cumulative
    return (
        f"{_role(boundary)}: {_CLOSES[boundary.kind]} ({tokens:,} tokens of prefix); "
        f"{option.reads:.1f} expected reads within {option.ttl}"
    )


def _role(boundary: Boundary) -> Role:
    return _ROLES[boundary.kind]


def _validated(
    context: PlanContext, manual: list[Placement], chosen: list[Chosen], skipped: list[str]
) -> list[PlannedCheckpoint]:
    """Keep each chosen checkpoint only if Bedrock accepts it and it creates or reads an entry
    next to the user's own checkpoints (which the allocation did not see)."""
    layout, spec = context.layout, context.spec
    kept: list[PlannedCheckpoint] = []
    for block, ttl, role, reason in chosen:
        trial = PlannedCheckpoint(
            block.index, block.section, block.message, ttl, role, block.cumulative, reason
        )
        places = manual + [_placement(cp) for cp in [*kept, trial]]
        problem = _request_problem(layout, spec, places)
        if problem is None:
            entries = entry_checkpoints(layout, spec, places)
            ignored = [e.ignored for e in entries if e.after == block.index and e.ignored]
            problem = ignored[0] if ignored else None
        if problem is not None:
            skipped.append(f"{role}: {problem}")
            continue
        kept.append(trial)
    return kept


def _placement(cp: PlannedCheckpoint) -> Placement:
    return Placement(cp.after, cp.section, cp.message, cp.ttl)
