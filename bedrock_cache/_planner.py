"""The checkpoint planner: where cachePoints go in one Converse request, and why.

A pure function of (layout, model spec, policy, reuse history, time). Candidates are the stability
boundaries of the request -- after the tool schemas, after the system prompt, after a shared
document, the moving end of the conversation, and a bridge to the last known cache entry -- taken
in order of value while every placed checkpoint still creates an entry Bedrock accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._layout import Block, Layout, Section
from ._models import TTL, TTL_SECONDS, ModelSpec
from ._reuse import ReuseTracker, Sighting
from ._rules import Placement, entry_checkpoints, existing_placements, position_problem
from ._rules import request_problem as _request_problem

Role = Literal["tools", "system", "system_head", "document", "bridge", "conversation"]
#: Checkpoints on content that changes rarely: these may take the longer TTL.
STATIC_ROLES = frozenset({"tools", "system", "system_head", "document"})
#: Block kinds that make up shared context (documents) ahead of a question.
CONTEXT_KINDS = frozenset({"text", "document", "image"})


@dataclass(frozen=True)
class CachePolicy:
    """How the planner may use a request's checkpoints. Every field has a safe default."""

    cache_tools: bool = True
    """Checkpoint after the tool schemas when that pays."""
    cache_system: bool = True
    cache_documents: bool = True
    """Checkpoint between shared context and the question in the last user message."""
    cache_conversation: bool = True
    """Advance a checkpoint at the end of the conversation every turn."""
    static_ttl: Literal["5m", "1h", "auto"] = "5m"
    """TTL of the tools/system/document checkpoints where the model supports 1h. ``auto`` picks
    1h for prefixes seen recurring at gaps longer than five minutes."""
    skip_one_off_writes: bool = False
    """Do not write a prefix the reuse history has never seen (it may never be read)."""
    max_checkpoints: int | None = None
    """Use fewer checkpoints than the model allows (user-placed ones count too)."""

    def __post_init__(self) -> None:
        if self.static_ttl not in ("5m", "1h", "auto"):
            raise ValueError(f"static_ttl must be '5m', '1h' or 'auto', not {self.static_ttl!r}")
        if self.max_checkpoints is not None and self.max_checkpoints < 0:
            raise ValueError("max_checkpoints must be 0 or more (None: the model's maximum)")


@dataclass(frozen=True)
class PlannedCheckpoint:
    """A checkpoint the planner places right after block ``after``."""

    after: int
    section: Section
    message: int
    ttl: TTL
    role: Role
    prefix_tokens: int
    reason: str


@dataclass(frozen=True)
class Plan:
    """The planner's decision for one request."""

    model_id: str
    checkpoints: tuple[PlannedCheckpoint, ...]
    kept: int
    """Checkpoints the request already carried (placed by the user); kept and counted."""
    skipped: tuple[str, ...]
    """Why candidate boundaries got no checkpoint."""

    @property
    def reasons(self) -> list[str]:
        return [cp.reason for cp in self.checkpoints]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "checkpoints": [
                {"role": cp.role, "after_block": cp.after, "ttl": cp.ttl, "reason": cp.reason}
                for cp in self.checkpoints
            ],
            "user_checkpoints": self.kept,
            "skipped": list(self.skipped),
        }


@dataclass(frozen=True)
class _Candidate:
    block: Block
    role: Role
    rank: float
    reason: str


def plan_checkpoints(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy | None = None,
    history: ReuseTracker | None = None,
    now: float = 0.0,
) -> Plan:
    """Plan the checkpoints of one request; never mutates its inputs."""
    policy = policy or CachePolicy()
    manual = existing_placements(layout)
    budget = spec.max_checkpoints
    if policy.max_checkpoints is not None:
        budget = min(budget, policy.max_checkpoints)
    if not spec.supports_caching or not layout.blocks:
        why = spec.note or f"{spec.model_id} does not support prompt caching"
        return Plan(spec.model_id, (), len(manual), (why,) if not spec.supports_caching else ())
    problem = _request_problem(layout, spec, manual)
    if problem is not None:
        return Plan(spec.model_id, (), len(manual), (f"left as built: {problem}",))
    chosen: list[PlannedCheckpoint] = []
    skipped: list[str] = []
    taken = {place.after for place in manual}
    for cand in sorted(_candidates(layout, spec, policy, history, now), key=lambda c: c.rank):
        if cand.block.index in taken:
            continue
        why_not = _why_not(layout, spec, policy, history, manual, chosen, cand, budget)
        if why_not is not None:
            skipped.append(f"{cand.role}: {why_not}")
            continue
        chosen.append(_planned(cand, "5m"))
        taken.add(cand.block.index)
    final = _with_ttls(layout, spec, policy, history, manual, chosen)
    return Plan(spec.model_id, tuple(final), len(manual), tuple(skipped))


def _planned(cand: _Candidate, ttl: TTL) -> PlannedCheckpoint:
    block = cand.block
    return PlannedCheckpoint(
        block.index, block.section, block.message, ttl, cand.role, block.cumulative, cand.reason
    )


def _placement(cp: PlannedCheckpoint) -> Placement:
    return Placement(cp.after, cp.section, cp.message, cp.ttl)


def _why_not(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy,
    history: ReuseTracker | None,
    manual: list[Placement],
    chosen: list[PlannedCheckpoint],
    cand: _Candidate,
    budget: int,
) -> str | None:
    """Why ``cand`` cannot join the checkpoints chosen so far, or ``None``."""
    if len(manual) + len(chosen) >= budget:
        return f"all {budget} checkpoints are in use"
    if policy.skip_one_off_writes and history is not None and _one_off(layout, history, cand):
        return "prefix never seen before (skip_one_off_writes)"
    trial = [*chosen, _planned(cand, "5m")]
    places = manual + [_placement(cp) for cp in trial]
    problem = _request_problem(layout, spec, places)
    if problem is not None:
        return f"Bedrock would reject it ({problem})"
    planned_at = {cp.after for cp in trial}
    for entry in entry_checkpoints(layout, spec, places):
        if entry.after in planned_at and entry.ignored is not None:
            return f"it would cache nothing ({entry.ignored})"
    return None


def _one_off(layout: Layout, history: ReuseTracker, cand: _Candidate) -> bool:
    """A prefix never seen before; a conversation already under way is expected to go on."""
    if cand.role == "bridge" or (cand.role == "conversation" and layout.message_count > 1):
        return False
    return history.get(cand.block.fingerprint) is None


def _candidates(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy,
    history: ReuseTracker | None,
    now: float,
) -> list[_Candidate]:
    found: list[_Candidate] = []
    tools_end = layout.section_end("tools")
    system_end = layout.section_end("system")
    if policy.cache_tools and tools_end is not None and spec.tools_cacheable:
        found.append(_candidate(layout, tools_end, "tools", 5, "tool schemas"))
    if policy.cache_system and system_end is not None:
        # New conversations read the system prompt; within a conversation the tail's lookback does.
        shared = _shared(layout, history, system_end)
        first_turn = not any(b.role == "assistant" for b in layout.blocks)
        what = "system prompt shared across conversations" if shared else "static system prompt"
        rank = 2.5 if shared or first_turn else 4
        found.append(_candidate(layout, system_end, "system", rank, what))
        heads = [b for b in layout.blocks if b.section == "system"]
        if len(heads) > 1:
            found.append(_candidate(layout, heads[0].index, "system_head", 6, "first system block"))
    if layout.message_count:
        found += _conversation_candidates(layout, spec, policy, history, now)
    return [c for c in found if _allowed(layout, spec, c.block)]


def _candidate(layout: Layout, index: int, role: Role, rank: float, what: str) -> _Candidate:
    block = layout.blocks[index]
    return _Candidate(block, role, rank, f"{role}: {what} ({block.cumulative:,} tokens of prefix)")


def _shared(layout: Layout, history: ReuseTracker | None, index: int) -> bool:
    """Seen before followed by other content than now: several conversations share it."""
    sighting = history.get(layout.blocks[index].fingerprint) if history else None
    if sighting is None:
        return False
    following = layout.blocks[index + 1].fingerprint if index + 1 < len(layout.blocks) else None
    return sighting.shared or (following is not None and following not in sighting.continuations)


def _allowed(layout: Layout, spec: ModelSpec, block: Block) -> bool:
    place = Placement(block.index, block.section, block.message, None)
    return position_problem(layout, spec, place) is None


def _conversation_candidates(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy,
    history: ReuseTracker | None,
    now: float,
) -> list[_Candidate]:
    found: list[_Candidate] = []
    last = layout.message_count - 1
    last_blocks = layout.message_blocks(last)
    if policy.cache_documents and _has_document(last_blocks):
        what = "shared context before the question"
        found.append(_candidate(layout, last_blocks[-2].index, "document", 1, what))
    tail = _tail(layout, spec, layout.blocks[-1].index)
    if policy.cache_conversation and tail is not None:
        found.append(
            _candidate(layout, tail.index, "conversation", 3, "moving end of conversation")
        )
        anchor = _anchor(layout, spec, history, tail, now)
        if anchor is not None and tail.index - anchor.index > spec.lookback_blocks:
            gap = tail.index - anchor.index
            limit = spec.lookback_blocks
            why = f"last cache entry is {gap} blocks back, beyond the {limit}-block lookback"
            found.append(_Candidate(anchor, "bridge", 2, f"bridge: {why}"))
    return found


def _has_document(blocks: list[Block]) -> bool:
    """A user message of context then a question: tool results are not shared context."""
    if len(blocks) < 2 or blocks[0].role != "user" or blocks[-1].kind != "text":
        return False
    return all(block.kind in CONTEXT_KINDS for block in blocks[:-1])


def _tail(layout: Layout, spec: ModelSpec, start: int) -> Block | None:
    """The last message block at or before ``start`` where a checkpoint may stand."""
    for block in reversed(layout.blocks[: start + 1]):
        if block.section != "messages":
            return None
        if _allowed(layout, spec, block):
            return block
    return None


def _anchor(
    layout: Layout, spec: ModelSpec, history: ReuseTracker | None, tail: Block, now: float
) -> Block | None:
    """The furthest earlier boundary that probably holds a live entry.

    With history: the last prefix a checkpoint stood at within the TTL. Without: where the
    previous turn's tail stood (the end of the messages before the last assistant message).
    """
    if history is not None:
        for block in reversed(layout.blocks[: tail.index]):
            sighting = history.get(block.fingerprint)
            if sighting is not None and _alive(sighting, now):
                return block
        return None
    earlier = [b for b in layout.blocks[: tail.index] if b.section == "messages"]
    assistants = [b.message for b in earlier if b.role == "assistant"]
    if not assistants:
        return None
    previous = [b for b in earlier if b.message < assistants[-1]]
    return _tail(layout, spec, previous[-1].index) if previous else None


def _alive(sighting: Sighting, now: float) -> bool:
    at = sighting.checkpointed_at
    return at is not None and now - at < TTL_SECONDS["5m"]


def _with_ttls(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy,
    history: ReuseTracker | None,
    manual: Sequence[Placement],
    chosen: list[PlannedCheckpoint],
) -> list[PlannedCheckpoint]:
    """Give static checkpoints 1h where allowed, keeping longer TTLs before shorter ones."""
    ordered = sorted(chosen, key=lambda cp: cp.after)
    result: list[PlannedCheckpoint] = []
    for cp in ordered:
        ttl = _static_ttl(layout, spec, policy, history, cp)
        candidate = PlannedCheckpoint(
            cp.after, cp.section, cp.message, ttl, cp.role, cp.prefix_tokens, cp.reason
        )
        places = [*manual, *(_placement(c) for c in [*result, candidate])]
        if ttl == "1h" and _request_problem(layout, spec, places) is not None:
            candidate = cp  # keep 5m: a 1h here would follow a 5m one
        result.append(candidate)
    return result


def _static_ttl(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy,
    history: ReuseTracker | None,
    cp: PlannedCheckpoint,
) -> TTL:
    if "1h" not in spec.ttls or cp.role not in STATIC_ROLES:
        return "5m"
    if policy.static_ttl == "1h":
        return "1h"
    if policy.static_ttl == "auto" and history is not None:
        sighting = history.get(layout.blocks[cp.after].fingerprint)
        if sighting is not None and TTL_SECONDS["5m"] < sighting.longest_gap <= TTL_SECONDS["1h"]:
            return "1h"
    return "5m"
