"""Bedrock's checkpoint rules, in one place.

The emulator rejects a request exactly when :func:`check_request` raises, and decides which
checkpoints create cache entries with :func:`entry_checkpoints`; the planner uses the same two
functions to never place a checkpoint Bedrock would reject or ignore.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

from ._layout import Block, Layout, Section
from ._models import TTL, ModelSpec

UNSUPPORTED_MODEL_MESSAGE = (
    "You invoked an unsupported model or your request did not allow prompt caching. "
    "See the documentation for more information."
)
#: What Bedrock says when a model without extended TTL gets a ``ttl`` key (even ``"5m"``).
TTL_FIELD_MESSAGE = "Malformed input request: cachePoint.ttl: Extra inputs are not permitted"


class CheckpointRuleError(ValueError):
    """A request that Bedrock rejects with a ``ValidationException``."""


class Placement(NamedTuple):  # a tuple: several are built for every request
    """Where a checkpoint stands: right after block ``after`` in a section/message."""

    after: int
    section: Section
    message: int
    ttl: TTL | None
    first_in_message: bool = False
    ttl_key: bool | None = None
    """Does the cachePoint carry a ``ttl`` key? ``None``: as :func:`cache_point` writes it,
    only for a TTL other than the 5-minute default."""

    @property
    def sends_ttl(self) -> bool:
        return self.ttl_key if self.ttl_key is not None else self.ttl not in (None, "5m")


def position_problem(layout: Layout, spec: ModelSpec, place: Placement) -> str | None:
    """Why Bedrock rejects a cachePoint at ``place`` for this model, or ``None`` if it may stand.

    "A cachePoint is a standalone block. It may stand in system, in a message's content and in
    toolConfig.tools" -- on models whose tools are cacheable -- "not as the first block of a
    message, nor right after reasoningContent, a non-PDF document or a video" (per model).
    """
    section, message = place.section, place.message
    starts = section == "messages" and place.first_in_message
    if starts and "message_start" in spec.rejected_positions:
        return "a cachePoint cannot be the first block of a message"
    return _problem_after(layout, spec, place.after, section, message)


def problem_after_block(layout: Layout, spec: ModelSpec, block: Block) -> str | None:
    """:func:`position_problem` of a checkpoint right after ``block``, in the same list."""
    return _problem_after(layout, spec, block.index, block.section, block.message)


def _problem_after(
    layout: Layout, spec: ModelSpec, after: int, section: Section, message: int
) -> str | None:
    """:func:`position_problem` for a checkpoint that is not the first block of its message."""
    rejected = spec.rejected_positions
    if section == "tools" and not spec.tools_cacheable:
        return f"{spec.model_id} does not accept a cachePoint in toolConfig.tools"
    before = layout.blocks[after] if after >= 0 else None
    if before is not None and before.section == section and before.message == message:
        if before.kind == "reasoningContent" and "after_reasoning" in rejected:
            return "a cachePoint cannot follow a reasoningContent block"
        non_pdf = before.kind == "document" and before.document_format != "pdf"
        if non_pdf and "after_document" in rejected:
            return "a cachePoint cannot follow a non-PDF document block"
        if before.kind == "video" and "after_video" in rejected:
            return "a cachePoint cannot follow a video block"
    if "next_to_tool_result" in rejected and _next_to_tool_result(layout, after, section, message):
        return f"{spec.model_id} does not accept a cachePoint next to a toolResult block"
    return None


def _next_to_tool_result(layout: Layout, after: int, section: Section, message: int) -> bool:
    for index in (after, after + 1):
        if 0 <= index < len(layout.blocks):
            block = layout.blocks[index]
            same_list = block.section == section and block.message == message
            if same_list and block.kind == "toolResult":
                return True
    return False


def ttl_problem(spec: ModelSpec, ttls: Sequence[TTL | None]) -> str | None:
    """Why these TTLs (in prefix order) are rejected, or ``None``.

    "A longer TTL must come before a shorter one in tools -> system -> messages order."
    """
    effective = [ttl or "5m" for ttl in ttls]
    for ttl in effective:
        if ttl not in spec.ttls:
            return f"cache TTL {ttl!r} is not supported by {spec.model_id} (supports {spec.ttls})"
    for earlier, later in pairwise(effective):
        if earlier == "5m" and later == "1h":
            return "a cachePoint with a longer TTL (1h) cannot follow one with a shorter TTL (5m)"
    return None


def lookback_positions(spec: ModelSpec, after: int) -> range:
    """Block boundaries where a checkpoint after block ``after`` finds an existing entry, nearest
    first: "from each checkpoint Bedrock checks earlier content-block boundaries, about 20 blocks
    back" (``lookback_blocks``; 0 on models that match the exact position only)."""
    return range(after, max(after - spec.lookback_blocks, 0) - 1, -1)


def reaches(spec: ModelSpec, after: int, entry: int) -> bool:
    """Whether a checkpoint after block ``after`` reads an entry standing after block ``entry``."""
    return entry in lookback_positions(spec, after)


def existing_placements(layout: Layout) -> list[Placement]:
    """The checkpoints a request already carries, as placements."""
    return [
        Placement(cp.after, cp.section, cp.message, cp.ttl, cp.first_in_message, cp.ttl is not None)
        for cp in layout.checkpoints
    ]


def check_request(layout: Layout, spec: ModelSpec) -> None:
    """Raise :class:`CheckpointRuleError` exactly where Bedrock rejects the checkpoints."""
    problem = request_problem(layout, spec, existing_placements(layout))
    if problem is not None:
        raise CheckpointRuleError(problem)


def request_problem(layout: Layout, spec: ModelSpec, places: Sequence[Placement]) -> str | None:
    """Why a request with checkpoints at ``places`` is rejected, or ``None``."""
    if not places:
        return None
    if not spec.supports_caching:
        return UNSUPPORTED_MODEL_MESSAGE
    if not spec.accepts_ttl_field and any(place.sends_ttl for place in places):
        # BEDROCK.md §8: only extended-TTL models accept the key at all.
        return f"{TTL_FIELD_MESSAGE} ({spec.model_id} takes no ttl; leave it out for 5m)"
    if len(places) > spec.max_checkpoints:
        return (
            f"The request has {len(places)} cachePoint blocks; {spec.model_id} allows at most "
            f"{spec.max_checkpoints}."
        )
    for place in places:
        problem = position_problem(layout, spec, place)
        if problem is not None:
            return problem
    ordered = sorted(places, key=lambda p: p.after)
    return ttl_problem(spec, [p.ttl for p in ordered])


class EntryCheckpoint(NamedTuple):  # a tuple: several are built for every request
    """A checkpoint's effect on the cache: an entry at ``after``, or why it makes none."""

    after: int
    ttl: TTL
    prefix_tokens: int
    ignored: str | None = None


def entry_checkpoints(
    layout: Layout, spec: ModelSpec, places: Sequence[Placement]
) -> list[EntryCheckpoint]:
    """Which checkpoints create (or read) cache entries, in prefix order.

    "A checkpoint only creates a cache entry if the cumulative prefix before it meets the model's
    minimum"; in ``segment`` mode "each further checkpoint needs another min tokens". Below it the
    request still succeeds and nothing is cached. Past ``max_cached_tokens`` nothing is cached.
    """
    result: list[EntryCheckpoint] = []
    last_entry = 0
    for place in sorted(places, key=lambda p: p.after):
        ttl: TTL = place.ttl or (spec.ttls[0] if spec.ttls else "5m")
        prefix = layout.prefix_tokens(place.after)
        ignored = _ignored_reason(spec, prefix, last_entry, any_entry=bool(result))
        if ignored is None and any(e.after == place.after and not e.ignored for e in result):
            ignored = "another checkpoint already stands at this position"
        result.append(EntryCheckpoint(place.after, ttl, prefix, ignored))
        if ignored is None:
            last_entry = prefix
    return result


def _ignored_reason(
    spec: ModelSpec, prefix: int, last_entry: int, *, any_entry: bool
) -> str | None:
    if spec.max_cached_tokens and prefix > spec.max_cached_tokens:
        return f"prefix of {prefix} tokens is over {spec.model_id}'s {spec.max_cached_tokens} cap"
    needed = spec.min_tokens
    measured = prefix - last_entry if spec.min_tokens_mode == "segment" and any_entry else prefix
    if measured < needed:
        what = "segment since the previous checkpoint" if measured != prefix else "prefix"
        return f"{what} is {measured} tokens, below {spec.model_id}'s minimum of {needed}"
    return None
