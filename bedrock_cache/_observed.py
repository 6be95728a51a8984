"""What the reuse store learns from one planned request.

Each boundary is seen once more (a new one joins its groups; a group learns when a member recurs),
and the entries the plan wrote or read are noted (a hit resets an entry's TTL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._boundaries import BRANCH_KINDS, Boundary, apart_groups, history_unseen, store_key
from ._models import TTL, ModelSpec
from ._plan import Plan, PlannedCheckpoint
from ._rules import reaches
from ._store import Observation
from ._valuation import member_added, member_recurred


def _member_of(
    boundary: Boundary, spec: ModelSpec, observations: Mapping[str, Observation], unseen: bool
) -> tuple[str, ...]:
    """The groups a new prefix at ``boundary`` joins. A branch point whose whole prefix is under
    the model's minimum joins none: it can never hold a cache entry, and its group's rate is what
    values writing the next new one. A short utility prompt that recurs every turn (rewriting
    the question) says nothing of the long prompts beside it that hold each turn's context."""
    if boundary.kind in BRANCH_KINDS and boundary.block.cumulative < spec.min_tokens:
        return ()
    return (*boundary.groups, *apart_groups(boundary, observations, unseen=unseen))


def observed(
    found: Sequence[Boundary],
    observations: Mapping[str, Observation],
    plan: Plan,
    spec: ModelSpec,
    now: float,
    *,
    learned: Mapping[str, Observation] | None = None,
) -> dict[str, Observation]:
    """What the store should hold after this request: each boundary seen once more (new ones
    join their group; a group learns when a member recurs), and the entries the plan wrote or
    read (a hit resets an entry's TTL). ``learned``: the :func:`recurrences`, if known."""
    updates: dict[str, Observation] = {}
    groups = dict(learned) if learned is not None else recurrences(found, observations, now)
    unseen = history_unseen(found, observations)
    for boundary in found:
        own = observations.get(boundary.key)
        if own is None:
            joins = _member_of(boundary, spec, observations, unseen)
            updates[boundary.key] = Observation.first(now, " ".join(joins))
            for key in joins:
                groups[key] = member_added(groups.get(key) or observations.get(key), now)
        else:
            updates[boundary.key] = own.seen_again(now)
    for cp in plan.checkpoints:
        key = store_key(spec, cp_fingerprint(found, cp))
        updates[key] = (updates.get(key) or Observation.first(now)).with_entry(now, cp.ttl)
    _refresh_read(found, observations, plan, spec, now, updates)
    updates.update(groups)
    return updates


def recurrences(
    found: Sequence[Boundary], observations: Mapping[str, Observation], now: float
) -> dict[str, Observation]:
    """Groups that learn from this request: a member seen for the second time recurred."""
    groups: dict[str, Observation] = {}
    for boundary in found:
        own = observations.get(boundary.key)
        if own is None or own.seen != 1 or not own.group:
            continue
        for key in own.group.split():
            known = groups.get(key) or observations.get(key)
            if known is not None:
                groups[key] = member_recurred(known, own.last_seen, now)
    return groups


def cp_fingerprint(found: Sequence[Boundary], cp: PlannedCheckpoint) -> str:
    # from the end: most checkpoints stand at a request's last boundaries
    return next(b.block.fingerprint for b in reversed(found) if b.block.index == cp.after)


def _refresh_read(
    found: Sequence[Boundary],
    observations: Mapping[str, Observation],
    plan: Plan,
    spec: ModelSpec,
    now: float,
    updates: dict[str, Observation],
) -> None:
    """The entry a checkpoint reached by lookback was read, which resets its TTL."""
    for boundary in reversed(found):
        own = observations.get(boundary.key)
        if own is None or not own.entry_alive(now):
            continue
        index = boundary.block.index
        if any(reaches(spec, cp.after, index) for cp in plan.checkpoints):
            ttl: TTL = "1h" if own.entry_ttl == "1h" else "5m"
            current = updates.get(boundary.key) or own
            updates[boundary.key] = current.with_entry(now, ttl)
        return
