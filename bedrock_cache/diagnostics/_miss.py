"""The runtime miss explainer: why a call did not read what an earlier call cached.

Before a call, :meth:`MissExplainer.expect` compares the request with the prefixes of earlier
requests -- their fingerprints, checkpoint entries and per-block chunk hashes, never their text --
and notes what the call should read and what changed. After the call, :meth:`Expectation.explain`
turns the usage Bedrock reported into a :class:`Miss`, or ``None`` when the call read what was
expected. Memory is bounded (least recently seen prefixes are forgotten first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple, overload

from .._frozen import one_step_init
from .._layout import Block, Layout, _container
from .._models import TTL_SECONDS, ModelSpec
from .._rules import EntryCheckpoint, Placement, entry_checkpoints
from .._usage import CacheUsage
from ._blocks import Signature, block_text, section_position
from ._detectors import dynamic_span_near

MissCause = Literal[
    "first_seen", "prefix_changed", "expired", "below_minimum", "lookback_exceeded", "model_changed"
]
#: Known continuations kept per prefix (different conversations after one shared prefix).
MAX_SUCCESSORS = 4
#: Block signatures kept (by prefix fingerprint) per remembered prefix, so a request longer than
#: ``max_prefixes`` blocks does not hash its forgotten part again on every turn.
SIGNATURES_PER_PREFIX = 4
EXCERPT_CHARS = 40


@dataclass(frozen=True)
class Miss:
    """Why one call did not read (all of) its prefix from the cache.

    ``section``/``block`` locate the first block that differs or was not read (``block`` counts
    within the section; message blocks count across all messages), ``offset`` is the character
    in that block's text where the change starts, ``idle_seconds`` how long an expired entry
    went unused. ``excerpt`` is only set when the explainer was asked for excerpts.
    """

    cause: MissCause
    message: str
    section: str | None = None
    block: int | None = None
    offset: int | None = None
    idle_seconds: float | None = None
    excerpt: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Miss:
        """The inverse of :meth:`as_dict` (e.g. from a response's ``bedrockCache`` report)."""
        names = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass
class _Next:
    """A block seen right after a prefix, and whether a cache entry stood at or beyond it."""

    fingerprint: str
    signature: Signature | None
    """Set by the time ``cached_beyond`` is (only then is it compared with). A text block's
    signature is a function of its fingerprint, so it waits for the request that needs it."""
    cached_beyond: bool


@dataclass
class _Entry:
    ttl_seconds: float
    last_used: float


class _Located(NamedTuple):
    block: Block
    section_block: int
    offset: int | None = None
    excerpt: str | None = None


@one_step_init
@dataclass(frozen=True)
class Expectation:
    """What one request should read, judged before it was sent; :meth:`explain` its usage."""

    supports_caching: bool
    model_id: str
    below_minimum: str | None = None
    changed: tuple[_Located, str] | None = None
    stale: tuple[_Located, float] | None = None
    out_of_reach: tuple[_Located, int, int] | None = None
    other_model: str | None = None
    expects_read: bool = False
    first: _Located | None = None

    def explain(self, usage: CacheUsage) -> Miss | None:
        """The call's miss, given the usage Bedrock reported; ``None`` if it read as expected."""
        if not self.supports_caching:
            return None
        if self.changed is not None:  # even when nothing is cached now: the change is why
            where, what = self.changed
            return _miss("prefix_changed", where, what)
        if usage.cache_read == 0 and usage.cache_write == 0:
            if self.below_minimum is None:
                return None
            return Miss("below_minimum", self.below_minimum)
        if self.out_of_reach is not None:
            where, distance, limit = self.out_of_reach
            what = (
                f"the last cache entry is {distance} blocks before the nearest checkpoint, beyond "
                f"{self.model_id}'s {limit}-block lookback; add a checkpoint closer to it"
            )
            return _miss("lookback_exceeded", where, what)
        if self.stale is not None:
            return _expired(*self.stale)
        if usage.cache_read == 0:
            return self._cold()
        return None

    def _cold(self) -> Miss:
        if self.other_model is not None:
            return Miss(
                "model_changed",
                f"this prefix was cached for {self.other_model}, not {self.model_id}: a cache "
                "entry belongs to one model, so switching models writes the prefix again",
            )
        if self.expects_read:
            return _expired(self.first, None)
        where = self.first
        return Miss(
            "first_seen",
            "no earlier request shares this prefix; the first call writes it",
            where.block.section if where else None,
            where.section_block if where else None,
        )


def _miss(cause: MissCause, where: _Located, what: str) -> Miss:
    block = where.block
    at = f"{block.section} block {where.section_block}"
    if block.section == "messages":
        at += f" (message {block.message})"
    if where.offset is not None:
        at += f", char {where.offset}"
    section, offset = block.section, where.offset
    return Miss(cause, f"{at}: {what}", section, where.section_block, offset, None, where.excerpt)


def _expired(where: _Located | None, idle: float | None) -> Miss:
    idle_text = f" after {_duration(idle)} idle" if idle is not None else ""
    message = (
        f"the cache entry expired{idle_text}; traffic is sparser than the TTL -- use ttl='1h' "
        "(static_ttl='1h') where the model supports it, or accept one write per idle period"
    )
    return Miss(
        "expired",
        message,
        where.block.section if where else None,
        where.section_block if where else None,
        idle_seconds=round(idle, 3) if idle is not None else None,
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class MissExplainer:
    """Remembers the prefixes of earlier requests (as hashes) to explain each call's misses.

    Args:
        max_prefixes: prefixes remembered at most (oldest forgotten first).
        excerpts: include a short excerpt of the current request around a change in
            :attr:`Miss.excerpt` (off by default: no prompt text leaves the call).
    """

    def __init__(self, max_prefixes: int = 4096, *, excerpts: bool = False) -> None:
        if max_prefixes < 1:
            raise ValueError("max_prefixes must be at least 1")
        self.max_prefixes = max_prefixes
        self.excerpts = excerpts
        self._next: OrderedDict[tuple[str, str], list[_Next]] = OrderedDict()
        self._entries: OrderedDict[str, dict[str, _Entry]] = OrderedDict()
        self._signatures: dict[str, Signature] = {}
        self._last_walk: dict[str, tuple[Sequence[Block], int]] = {}
        self._touched = 0
        """Links added to or moved within ``_next`` so far."""
        self._statics_moved: dict[str, int] = {}
        """``_touched`` when each model's static links were last moved to the recent end."""
        self._lock = threading.Lock()

    def expect(
        self,
        request: Mapping[str, Any],
        layout: Layout,
        spec: ModelSpec,
        places: Sequence[Placement],
        now: float,
    ) -> Expectation:
        """Judge ``request`` (as the user built it) with checkpoints at ``places``, then
        remember it."""
        if not spec.supports_caching or not layout.blocks:
            return Expectation(spec.supports_caching, spec.model_id)
        entries = entry_checkpoints(layout, spec, places)
        active = [e for e in entries if e.ignored is None]
        with self._lock:
            read = self._reachable(layout, spec, active, now)
            expectation = self._judge(request, layout, spec, entries, active, read, now)
            self._remember(request, layout, spec, active, read, now)
        return expectation

    def _judge(
        self,
        request: Mapping[str, Any],
        layout: Layout,
        spec: ModelSpec,
        entries: list[EntryCheckpoint],
        active: list[EntryCheckpoint],
        reachable: int | None,
        now: float,
    ) -> Expectation:
        model = spec.model_id
        below = _below_minimum(layout, spec, entries)
        deepest_known, other_model = self._deepest_entries(layout, model)
        stale = reach = None
        if deepest_known is not None and (reachable is None or deepest_known > reachable):
            entry = self._entries[layout.blocks[deepest_known].fingerprint][model]
            where = self._locate(layout, deepest_known)
            if now - entry.last_used >= entry.ttl_seconds:
                stale = (where, now - entry.last_used)
            else:
                after = min((e.after for e in active if e.after >= deepest_known), default=None)
                if after is not None:
                    reach = (where, after - deepest_known, spec.lookback_blocks)
        return Expectation(
            True,
            model,
            below_minimum=below,
            changed=self._changed(request, layout, model),
            stale=stale,
            out_of_reach=reach,
            other_model=other_model,
            expects_read=reachable is not None,
            first=self._locate(layout, 0),
        )

    def _locate(
        self, layout: Layout, index: int, offset: int | None = None, text: str = ""
    ) -> _Located:
        block = layout.blocks[index]
        excerpt = None
        if self.excerpts and offset is not None and text:
            excerpt = text[max(0, offset - 10) : offset + EXCERPT_CHARS - 10]
        return _Located(block, section_position(layout, block), offset, excerpt)

    def _reachable(
        self, layout: Layout, spec: ModelSpec, active: list[EntryCheckpoint], now: float
    ) -> int | None:
        """The deepest live entry a checkpoint of this request reads: at its position or within
        ``lookback_blocks`` before it (Bedrock's "simplified cache management")."""
        best: int | None = None
        for cp in active:
            for position in range(cp.after, max(cp.after - spec.lookback_blocks, 0) - 1, -1):
                entry = self._entry(layout, position, spec.model_id)
                if entry is not None and now - entry.last_used < entry.ttl_seconds:
                    best = max(best if best is not None else -1, position)
                    break
        return best

    def _entry(self, layout: Layout, position: int, model: str) -> _Entry | None:
        return self._entries.get(layout.blocks[position].fingerprint, {}).get(model)

    def _deepest_entries(self, layout: Layout, model: str) -> tuple[int | None, str | None]:
        """The deepest block holding an entry for ``model``; and, when the deepest block holding
        any entry holds none for ``model``, the model it was cached for. One walk back."""
        other = None
        for block in reversed(layout.blocks):
            models = self._entries.get(block.fingerprint)
            if not models:
                continue
            if model in models:
                return block.index, other
            if other is None:
                other = next(iter(models))
        return None, other

    def _changed(
        self, request: Mapping[str, Any], layout: Layout, model: str
    ) -> tuple[_Located, str] | None:
        """Where this request leaves the closest earlier one inside that one's cached prefix,
        if the change looks accidental (static sections, or drift of the same content)."""
        index = 0
        for block in reversed(layout.blocks):
            if (model, block.fingerprint) in self._next:
                index = block.index + 1
                break
        else:
            if (model, "") not in self._next:
                return None
        if index >= len(layout.blocks):
            return None
        previous = _before(layout.blocks, index)
        block = layout.blocks[index]
        known = self._next.get((model, previous), [])
        candidates = [n.signature for n in known if n.cached_beyond and n.signature]
        if not candidates or any(n.fingerprint == block.fingerprint for n in known):
            return None
        item = _container(request, block)[block.slot]
        text = block_text(item)
        signature = max(candidates, key=lambda candidate: _agreeing_chars(candidate, text))
        if signature.same_shape(item):
            what = _drift_reason(layout, index, signature, text)
            return self._locate(layout, index, signature.first_difference(text), text), what
        start = signature.first_difference(text)
        if start is None:
            what = "toolChoice or extended-thinking settings changed (keys every message block)"
            return self._locate(layout, index, None), what
        newest = block.message == layout.message_count - 1
        if block.section == "messages" and newest:
            return None  # a new question, not a defect
        span = dynamic_span_near(text, start, start + signature.chunk)
        if block.section == "messages" and span is None:
            return None  # another conversation, not a defect
        offset = span.start if span is not None else start
        what = (
            f"{span.description} changes on every request inside the cached prefix; move it "
            "after the last checkpoint (e.g. into the user message)"
            if span is not None
            else "the content changed inside the cached prefix since the previous request"
        )
        return self._locate(layout, index, offset, text), what

    def _remember(
        self,
        request: Mapping[str, Any],
        layout: Layout,
        spec: ModelSpec,
        active: list[EntryCheckpoint],
        read: int | None,
        now: float,
    ) -> None:
        """Remember ``layout``'s links and entries; ``read``: the position of the entry it
        reads (at a checkpoint, or by lookback from one), whose TTL the read resets."""
        model = spec.model_id
        deepest = max((e.after for e in active), default=-1)
        start, flagged = self._walked(layout, model, deepest)
        self._last_walk[model] = (layout.blocks, flagged)
        successors = self._next
        previous = _before(layout.blocks, start)
        for block in layout.blocks[start:]:
            key = (model, previous)
            fingerprint = block.fingerprint
            known = successors.get(key)
            if known is None:
                known = successors[key] = []
            else:
                successors.move_to_end(key)
            for found in known:
                if found.fingerprint == fingerprint:
                    break
            else:
                found = _Next(fingerprint, self._signature(request, block, lazy=True), False)
                known.append(found)
                del known[:-MAX_SUCCESSORS]
            if block.index <= deepest:
                found.cached_beyond = True
                if found.signature is None:
                    found.signature = self._signature(request, block)
            previous = fingerprint
        self._next.setdefault((model, previous), [])  # the end of the prefix is known too
        self._touched += len(layout.blocks) - start + 1
        for cp in active:
            fingerprint = layout.blocks[cp.after].fingerprint
            models = self._entries.pop(fingerprint, {})
            models[model] = _Entry(TTL_SECONDS[cp.ttl], now)
            self._entries[fingerprint] = models
        if read is not None:
            entry = self._entry(layout, read, model)
            if entry is not None:
                entry.last_used = now
        for store in (self._next, self._entries):
            while len(store) > self.max_prefixes:
                store.popitem(last=False)

    def _walked(self, layout: Layout, model: str, deepest: int) -> tuple[int, int]:
        """Where :meth:`_remember` starts walking ``layout``, and through which block the links
        are then marked ``cached_beyond``. Links more than ``max_prefixes`` blocks back would be
        forgotten at once, so they are not walked; nor are the blocks shared with the model's
        previous request (a chat re-sends its history), which were walked then, unless their
        links were forgotten since or this request caches deeper than that one did. The static
        blocks' links are moved to the recent end often enough that a tools-and-system prefix in
        use is never forgotten."""
        blocks = layout.blocks
        floor = max(0, len(blocks) - self.max_prefixes - 1)
        last = self._last_walk.get(model)
        if last is None:
            return floor, deepest
        earlier, flagged = last
        shared = _shared_blocks(blocks, earlier)
        start = shared if deepest <= flagged else min(shared, flagged + 1)
        if start <= floor:
            return floor, deepest
        statics = layout.message_starts[0] if layout.message_starts else len(blocks)
        successors = self._next
        if (model, _before(blocks, start)) not in successors:
            return floor, deepest
        # Each link added or moved brings the oldest one at most one step nearer to being
        # forgotten, and forgetting it takes (max_prefixes - statics) / 2 such steps at least:
        # moving the static links before that many keeps them (every other link this request
        # shares with the last was moved or added since the last such move, by a walk).
        moved = self._statics_moved.get(model)
        if moved is None or self._touched - moved >= (self.max_prefixes - statics) // 2:
            try:  # a walk from ``floor`` moves every key again, in order: an early move is fine
                previous = _before(blocks, floor)
                for block in blocks[floor : min(start, statics)]:
                    successors.move_to_end((model, previous))
                    previous = block.fingerprint
            except KeyError:
                return floor, deepest
            self._touched += max(0, min(start, statics) - floor)
            self._statics_moved[model] = self._touched
        return start, max(deepest, min(flagged, start - 1))

    @overload
    def _signature(self, request: Mapping[str, Any], block: Block) -> Signature: ...
    @overload
    def _signature(
        self, request: Mapping[str, Any], block: Block, *, lazy: bool
    ) -> Signature | None: ...
    def _signature(
        self, request: Mapping[str, Any], block: Block, *, lazy: bool = False
    ) -> Signature | None:
        """The block's signature; the prefix fingerprint fixes it, so each is computed once.
        ``lazy``: ``None`` for a text block, whose fingerprint fixes its text, so any later
        request carrying it gives the same signature (a chat's newest question seldom needs
        one)."""
        signature = self._signatures.get(block.fingerprint)
        if signature is None:
            item = _container(request, block)[block.slot]
            if lazy and isinstance(item.get("text"), str):
                return None
            if len(self._signatures) >= SIGNATURES_PER_PREFIX * self.max_prefixes:
                self._signatures = {}
            signature = self._signatures[block.fingerprint] = Signature.of(item, block)
        return signature


def _before(blocks: Sequence[Block], index: int) -> str:
    """The fingerprint of the prefix before block ``index`` (``""`` before the first)."""
    return blocks[index - 1].fingerprint if index else ""


def _shared_blocks(blocks: Sequence[Block], earlier: Sequence[Block]) -> int:
    """How many leading blocks two requests share: a block's fingerprint covers its whole prefix,
    so the shared blocks are those up to the last equal fingerprint (found by bisection, after
    a chat's usual cases: all of the earlier request, or all but its last question)."""
    low, high = 0, min(len(blocks), len(earlier))
    for shared in (high, high - 1):
        if shared > 0 and blocks[shared - 1].fingerprint == earlier[shared - 1].fingerprint:
            return shared
    while low < high:
        middle = (low + high + 1) // 2
        if blocks[middle - 1].fingerprint == earlier[middle - 1].fingerprint:
            low = middle
        else:
            high = middle - 1
    return low


def _agreeing_chars(signature: Signature, text: str) -> float:
    """How far ``text`` agrees with an earlier block (identical text agrees all the way)."""
    start = signature.first_difference(text)
    return float("inf") if start is None else start


def _below_minimum(layout: Layout, spec: ModelSpec, entries: list[EntryCheckpoint]) -> str | None:
    ignored = [e.ignored for e in entries if e.ignored is not None]
    if entries and len(ignored) == len(entries):
        return f"nothing cached: {ignored[0]}"
    if not entries and layout.total_tokens < spec.min_tokens:
        return (
            f"the prompt is about {layout.total_tokens:,} tokens, below {spec.model_id}'s "
            f"minimum of {spec.min_tokens:,} for a cache entry"
        )
    return None


def _drift_reason(layout: Layout, index: int, signature: Signature, text: str) -> str:
    if signature.first_difference(text) is None:
        return "toolChoice or extended-thinking settings changed (keys every message block)"
    kind = layout.blocks[index].kind
    if kind != "text":
        return "the same content was serialized with another key order or spacing"
    return "whitespace or JSON key order changed; serialize the prefix the same way every time"
