"""Where a checkpoint may stand in one request, and the store keys of each place and its groups.

The boundaries are the tool schemas, each system block, message ends (the recent ones, and a
sparse sample further back), the blocks of the closing message (shared context before a
question), and the conversation's end (the request's, or the question's before an assistant
prefill). Each carries the store key of its prefix and of the groups that learn what prefixes of
its kind do: under the same static prefix, under the model, and apart after unseen history or
under a static prefix seen for the first time.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ._layout import Block, Layout
from ._models import ModelSpec
from ._policy import CachePolicy
from ._rules import problem_after_block
from ._store import Observation

Kind = Literal["tools", "system", "message", "context", "tail"]
#: Message ends looked at behind the last message; older ones are sampled at doubling distances.
RECENT_MESSAGES = 8
#: ...or more, up to this many, until they span twice the model's minimum, on models that match
#: entries only at a checkpoint's exact position: a conversation of small messages writes only
#: every ``min_tokens``, and a bridge must find its last entry (lookback finds it elsewhere).
RECENT_MESSAGES_MAX = 32
#: Blocks of the last message looked at (shared context before the question).
LAST_MESSAGE_BLOCKS = 8
#: Block kinds that make up shared context ahead of a question (tool results do not).
CONTEXT_KINDS = frozenset({"text", "document", "image"})
#: Kinds that other requests branch from (a new conversation on a system prompt, a new question
#: on a document), not only the request's own continuation.
BRANCH_KINDS: frozenset[Kind] = frozenset({"tools", "system", "context"})
#: Marks the groups of requests' ends after history no store record knows (a sliding window).
#: A suffix, so ``">tail"`` in a record's groups still says it was seen as a conversation's end.
UNSEEN_HISTORY = "-unseen"
#: Marks the groups of message ends and requests' ends under a static prefix seen for the first
#: time (a system prompt holding a turn's retrieved context, a tenant's first request).
NEW_STATIC = "-new-static"
#: Kinds that come back only as the request's conversation goes on.
FOLLOW_KINDS: frozenset[Kind] = frozenset({"message", "tail"})
#: Marks the groups of message ends and requests' ends with no tools or system prompt ahead of
#: them (one-shot calls with their instructions in the user message): they learn apart from the
#: conversations under a prompt on the same model, which go on as theirs may not.
BARE = "-bare"


@dataclass(slots=True)  # not frozen: one is built for every boundary of every request
class Boundary:
    """A place a checkpoint may stand, with the store keys of its prefix and of its group."""

    block: Block
    kind: Kind
    key: str
    """Store key of the prefix through ``block`` (model and fingerprint)."""
    groups: tuple[str, ...]
    """Store keys of its groups, narrowest first: boundaries of this kind under the same static
    prefix, then under the same model (for when that prefix is new itself)."""
    parent: str
    """Store key of the prefix its narrowest group is under: the model for the tool schemas, the
    tool schemas for a system block, tools and system for the rest."""
    unseen_history: tuple[str, ...] = ()
    """For a request's end: the groups it joins as well when its history is unseen (see
    :func:`history_unseen`); with enough members they alone value such ends."""
    new_static: tuple[str, ...] = ()
    """For a message end or a request's end under tools or a system prompt: the group it joins
    as well when that static prefix is new; with enough members it alone values such ends. A
    conversation goes on under the same system prompt, or (when the prompt holds what changes
    each turn) it never re-sends this prefix: what conversations did under known prompts does
    not tell which."""


@dataclass(frozen=True)
class Head:
    """The boundaries of a request ahead of its closing message, and the store keys of its model,
    tool schemas and static prefix (what keys the groups of the rest)."""

    boundaries: tuple[Boundary, ...]
    root: str
    tools: str
    static: str
    keys: tuple[str, ...] = ()
    """:func:`lookup_keys` of its boundaries."""


def boundaries(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy | None = None,
    *,
    head: Head | None = None,
) -> list[Boundary]:
    """The boundaries of a request the planner considers, in prefix order (what to look up).

    ``head``: :func:`head_of` this request, if the caller kept it from an earlier request with
    the same blocks ahead of the closing message (and the same spec, policy and message count).
    """
    return keyed_boundaries(layout, spec, policy, head=head)[0]


def keyed_boundaries(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy | None = None,
    *,
    head: Head | None = None,
) -> tuple[list[Boundary], list[str]]:
    """:func:`boundaries` and their :func:`lookup_keys` (a kept ``head`` brings its own)."""
    policy = policy or CachePolicy()
    if not spec.supports_caching or not layout.blocks:
        return [], []
    allowed = _Allowed(layout, spec)
    if head is None:
        head = _head(layout, spec, policy, allowed)
    tail = _keyed(spec, head, _last_message(layout, policy, allowed), allowed)
    # The closing message's kinds (context, tail) are never the head's, so no key repeats.
    return [*head.boundaries, *tail], [*head.keys, *lookup_keys(tail)]


#: Message-end boundaries found before (``None``: no block of that message may hold a
#: checkpoint), by model id and the fingerprint of the message's last block, which fixes the
#: message and everything ahead of it, so its boundary too (for that model spec).
Ends = dict[tuple[str, str], tuple[ModelSpec, Boundary | None]]


def head_of(layout: Layout, spec: ModelSpec, policy: CachePolicy, ends: Ends | None = None) -> Head:
    """The part of :func:`boundaries` ahead of the closing message (:func:`closing_message`):
    the tool schemas, the system blocks and the sampled message ends. A function of the blocks
    ahead of the closing message, the number of messages, the spec, the policy and whether the
    request is over the model's cache cap (:func:`_under_cap`). ``ends``: message ends found
    for earlier requests (a chat's history), taken from there and added to it."""
    return _head(layout, spec, policy, _Allowed(layout, spec), ends)


def _head(
    layout: Layout,
    spec: ModelSpec,
    policy: CachePolicy,
    allowed: Callable[[Block], bool],
    ends: Ends | None = None,
) -> Head:
    found: list[tuple[Block, Kind]] = []
    tools_end = layout.section_end("tools")
    if tools_end is not None and spec.tools_cacheable and policy.cache_tools:
        found.append((layout.blocks[tools_end], "tools"))
    system_end = layout.section_end("system")
    if system_end is not None and policy.cache_system:
        first = tools_end + 1 if tools_end is not None else 0
        found += [(layout.blocks[i], "system") for i in range(first, system_end + 1)]
    root = spec.model_id
    tools = store_key(spec, layout.blocks[tools_end].fingerprint) if tools_end is not None else root
    static = (
        store_key(spec, layout.blocks[system_end].fingerprint) if system_end is not None else tools
    )
    found_keys = Head((), root, tools, static)
    head = _keyed(spec, found_keys, found, allowed)
    if layout.message_count and policy.cache_conversation:
        head += _message_ends(layout, spec, found_keys, allowed, ends)
    return Head(tuple(head), root, tools, static, tuple(lookup_keys(head)))


def _keyed(
    spec: ModelSpec, head: Head, found: list[tuple[Block, Kind]], allowed: Callable[[Block], bool]
) -> list[Boundary]:
    """Boundaries of the allowed ones of ``found``, with their store keys and groups."""
    return [_boundary(spec, head, block, kind) for block, kind in found if allowed(block)]


def _boundary(spec: ModelSpec, head: Head, block: Block, kind: Kind) -> Boundary:
    parent, keys, unseen, fresh = _groups(kind, head.root, head.tools, head.static)
    return Boundary(block, kind, store_key(spec, block.fingerprint), keys, parent, unseen, fresh)


@lru_cache(maxsize=1024)  # the same few static prefixes, request after request
def _groups(
    kind: Kind, root: str, tools: str, static: str
) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """For boundaries of ``kind`` under these keys (:class:`Head`): their parent, groups, groups
    after unseen history, and group under a new static prefix (see :class:`Boundary`)."""
    parent = root if kind == "tools" else tools if kind == "system" else static
    parents = (parent, root) if parent != root else (root,)
    bare = BARE if parent == root and kind in FOLLOW_KINDS else ""
    keys = tuple(f"{p}>{kind}{bare}" for p in parents)
    unseen = tuple(f"{key}{UNSEEN_HISTORY}" for key in keys) if kind == "tail" else ()
    new_static = kind in FOLLOW_KINDS and parent != root
    fresh: tuple[str, ...] = (f"{keys[-1]}{NEW_STATIC}",) if new_static else ()
    return parent, keys, unseen, fresh


def store_key(spec: ModelSpec, fingerprint: str) -> str:
    return f"{spec.model_id}:{fingerprint}"


def _message_ends(
    layout: Layout,
    spec: ModelSpec,
    head: Head,
    allowed: Callable[[Block], bool],
    ends: Ends | None,
) -> list[Boundary]:
    """The sampled message ends ahead of the closing message: in each message, after the last
    block a checkpoint may follow."""
    starts, blocks = layout.message_starts, layout.blocks
    found: list[Boundary] = []
    for message in sorted(_sampled_messages(layout, spec) | _under_cap(layout, spec)):
        span = range(starts[message], starts[message + 1])
        if not span:
            continue
        key = (spec.model_id, blocks[span[-1]].fingerprint)
        kept = ends.get(key) if ends is not None else None
        if kept is not None and kept[0] is spec:
            boundary = kept[1]
        else:
            block = _last_allowed(layout, span, allowed)
            boundary = _boundary(spec, head, block, "message") if block is not None else None
            if ends is not None:
                ends[key] = (spec, boundary)
        if boundary is not None:
            found.append(boundary)
    return found


def closing_message(layout: Layout) -> int:
    """The message whose end is the conversation's end: the last one, or the one before an
    assistant message that ends the request (a prefill the answer will replace, so the next
    request never re-sends it). ``-1`` without messages."""
    last = layout.message_count - 1
    if last < 1 or layout.message_starts[last] >= len(layout.blocks):
        return last
    return last - 1 if layout.blocks[layout.message_starts[last]].role == "assistant" else last


def _last_message(
    layout: Layout, policy: CachePolicy, allowed: Callable[[Block], bool]
) -> list[tuple[Block, Kind]]:
    """Shared context ahead of the question in the closing message, and the conversation's end
    (:func:`closing_message`)."""
    closing = closing_message(layout)
    if closing < 0:
        return []
    found: list[tuple[Block, Kind]] = []
    last = layout.message_range(closing)
    tail = _last_allowed(layout, last, allowed)
    if policy.cache_documents and tail is not None:
        start = max(last.start, tail.index - LAST_MESSAGE_BLOCKS)
        context = [layout.blocks[i] for i in range(start, tail.index)]
        found += [(b, "context") for b in context if b.role == "user" and b.kind in CONTEXT_KINDS]
    if policy.cache_conversation and tail is not None:
        found.append((tail, "tail"))
    return found


def _sampled_messages(layout: Layout, spec: ModelSpec) -> set[int]:
    """The last few message indices before the closing message, then every doubling distance
    back."""
    count = max(0, closing_message(layout))
    recent = max(0, count - RECENT_MESSAGES)
    if recent and spec.min_tokens and not spec.lookback_blocks:
        newest = layout.tokens_through(count - 1)
        floor = max(0, count - RECENT_MESSAGES_MAX)
        while recent > floor and newest - layout.tokens_through(recent - 1) < 2 * spec.min_tokens:
            recent -= 1
    chosen = set(range(recent, count))
    distance = RECENT_MESSAGES * 2
    while distance <= count:
        chosen.add(count - distance)
        distance *= 2
    if count:
        chosen.add(0)
    return chosen


def _under_cap(layout: Layout, spec: ModelSpec) -> set[int]:
    """The last message ahead of the closing one that ends within the model's cache cap: past the
    cap nothing new is cached, so the entry there is the one a long chat goes on reading."""
    cap = spec.max_cached_tokens
    if not cap or layout.total_tokens <= cap:
        return set()
    ends = [layout.tokens_through(m) for m in range(max(0, closing_message(layout)))]
    within = bisect_right(ends, cap)
    return {within - 1} if within else set()


def _last_allowed(layout: Layout, span: range, allowed: Callable[[Block], bool]) -> Block | None:
    for index in reversed(span):
        block = layout.blocks[index]
        if allowed(block):
            return block
    return None


class _Allowed:
    """May a checkpoint stand right after a block of one request? Each block judged once."""

    def __init__(self, layout: Layout, spec: ModelSpec) -> None:
        self.layout, self.spec = layout, spec
        self.known: dict[int, bool] = {}

    def __call__(self, block: Block) -> bool:
        known = self.known.get(block.index)
        if known is None:
            problem = problem_after_block(self.layout, self.spec, block)
            known = self.known[block.index] = problem is None
        return known


def lookup_keys(found: Sequence[Boundary]) -> list[str]:
    """The store keys planning a request with these boundaries reads: prefixes and groups. The
    boundaries of one kind in a request share their groups (:func:`_groups`), and each group key
    names its kind, so the first boundary of each kind gives them all, once."""
    keys = [b.key for b in found]
    kinds: set[Kind] = set()
    for b in found:
        if b.kind not in kinds:
            kinds.add(b.kind)
            keys += (*b.groups, *b.unseen_history, *b.new_static)
    return keys


def history_unseen(found: Sequence[Boundary], observations: Mapping[str, Observation]) -> bool:
    """The request carries messages ahead of its last one after a static prefix (tools and
    system) seen before, yet no store record knows any of their ends: the history was cut or
    rewritten (a sliding window, a summary), or this process has not seen the conversation
    before. Whether such a request's end comes back is learned apart as well: a window moving
    on never re-sends it, while conversations that re-send what they sent do."""
    parent = None
    for b in found:
        if b.kind == "message":
            if b.key in observations:
                return False
            parent = parent or b.parent
    return parent is not None and parent in observations


def apart_groups(
    boundary: Boundary, observations: Mapping[str, Observation], *, unseen: bool
) -> tuple[str, ...]:
    """The groups that learn apart what a new prefix at ``boundary`` does: after unseen history
    (``unseen``: :func:`history_unseen`), or under a static prefix seen for the first time."""
    if unseen and boundary.unseen_history:
        return boundary.unseen_history
    if boundary.new_static and boundary.parent not in observations:
        return boundary.new_static
    return ()
