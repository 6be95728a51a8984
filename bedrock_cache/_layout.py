"""The neutral layout of a Converse request: its blocks in cache-prefix order.

Bedrock reads a request as one prefix, tools -> system -> messages. Both the planner and the
emulator see it through :class:`Layout`, so they agree on block positions, prefix sizes and
prefix fingerprints (hashes of the exact content, never the text itself).
"""

from __future__ import annotations

import copy
import hashlib
import marshal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from ._frozen import one_step_init
from ._models import TTL
from ._tokens import DefaultEstimator, TokenEstimator, canonical_json
from ._unchanged import Seen, most_shared, plain_copy, remember, same

Section = Literal["tools", "system", "messages"]

#: Content block kinds as the Converse API names them (the first key of a block).
CACHE_POINT = "cachePoint"


@one_step_init
@dataclass(frozen=True)
class Block:
    """One non-checkpoint block of the request, in prefix order."""

    index: int
    """Position among all blocks of the request (tools, then system, then messages)."""
    section: Section
    message: int
    """Index of the message holding it; -1 in tools and system."""
    slot: int
    """Index in its own list (tools, system, or the message's content), checkpoints included."""
    kind: str
    role: str
    """``tool``, ``system``, ``user`` or ``assistant``."""
    tokens: int
    cumulative: int
    """Prefix tokens through this block."""
    fingerprint: str
    """Hash of the exact prefix through this block."""
    first_in_message: bool
    document_format: str = ""


@one_step_init
@dataclass(frozen=True)
class ExistingCheckpoint:
    """A cachePoint the request already carries (placed by the user or the framework)."""

    after: int
    """Index of the block it follows; -1 when nothing precedes it."""
    section: Section
    message: int
    slot: int
    ttl: TTL | None
    first_in_message: bool


@one_step_init
@dataclass(frozen=True)
class Layout:
    """Blocks and existing checkpoints of one Converse request."""

    model_id: str
    blocks: tuple[Block, ...]
    checkpoints: tuple[ExistingCheckpoint, ...]
    message_starts: tuple[int, ...] = ()
    """Index of each message's first block (the next block's index for an empty message)."""

    @property
    def total_tokens(self) -> int:
        return self.blocks[-1].cumulative if self.blocks else 0

    def prefix_tokens(self, after: int) -> int:
        """Tokens before a checkpoint standing after block ``after``."""
        return self.blocks[after].cumulative if after >= 0 else 0

    def section_end(self, section: Section) -> int | None:
        """Index of the last block of a section, if it has any."""
        if section == "messages":
            return len(self.blocks) - 1 if self.message_count else None
        end = (self.message_starts[0] if self.message_starts else len(self.blocks)) - 1
        if section == "system":
            return end if end >= 0 and self.blocks[end].section == "system" else None
        while end >= 0 and self.blocks[end].section != "tools":
            end -= 1
        return end if end >= 0 else None

    def message_range(self, message: int) -> range:
        """Indices of the blocks of message ``message``."""
        starts = self.message_starts
        stop = starts[message + 1] if message + 1 < len(starts) else len(self.blocks)
        return range(starts[message], stop)

    def tokens_through(self, message: int) -> int:
        """Tokens of the prefix through the end of message ``message``."""
        return self.prefix_tokens(self.message_range(message).stop - 1)

    def message_blocks(self, message: int) -> list[Block]:
        return [self.blocks[i] for i in self.message_range(message)]

    @property
    def message_count(self) -> int:
        return len(self.message_starts)

    @classmethod
    def of(
        cls,
        request: Mapping[str, Any],
        estimator: TokenEstimator | None = None,
        memo: LayoutMemo | None = None,
    ) -> Layout:
        """Read a Converse request (the keyword arguments of ``client.converse``).

        With a ``memo`` (one per estimator), blocks already read in an earlier request with the
        same prefix are reused instead of being measured and hashed again.
        """
        return _LayoutBuilder(request, estimator or DefaultEstimator(), memo).build()


_ReadList = tuple[tuple[Block, ...], tuple[ExistingCheckpoint, ...]]


class _Recent(NamedTuple):
    """A request read before: its messages (as :mod:`._unchanged` keeps them) and its blocks."""

    seen: Seen
    blocks: tuple[Block, ...]
    checkpoints: tuple[ExistingCheckpoint, ...]
    starts: tuple[int, ...]


#: Recent requests kept per tools-and-system prefix (concurrent conversations sharing it).
RECENT_PER_PREFIX = 4


class LayoutMemo:
    """Lists read before (tools, system, each message), by prefix fingerprint, position and
    content: each message is measured and hashed once across a conversation's turns. The last
    few requests after each tools-and-system prefix are kept too, so the history a request
    shares with one of them is taken over in one comparison. Bounded (cleared when full); safe
    to share between threads."""

    def __init__(self, max_entries: int = 50_000, max_prefixes: int = 64) -> None:
        self.max_entries = max_entries
        self.max_prefixes = max_prefixes
        self.lists: dict[tuple[Any, ...], _ReadList] = {}
        self.recent: dict[str, tuple[_Recent, ...]] = {}
        self._tools: tuple[Any, tuple[Any, ...]] = (None, ())

    def remember(self, key: tuple[Any, ...], found: _ReadList) -> None:
        if len(self.lists) >= self.max_entries:
            self.lists = {}
        self.lists[key] = found

    def content_keys(self, section: Section, items: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
        """:func:`_content_keys`, except that tool schemas equal to the last ones (compared as
        :mod:`._unchanged` does) take the keys found for those."""
        if section != "tools":
            return _content_keys(section, items)
        copy, keys = self._tools
        if not same(items, copy):
            keys = _content_keys(section, items)
            self._tools = (plain_copy(items), keys)
        return keys

    def closest(self, prefix: str, messages: Sequence[Any]) -> tuple[_Recent | None, int]:
        """The recent request after ``prefix`` sharing the most leading messages, and how many."""
        recents = self.recent.get(prefix, ())
        at, shared = most_shared(messages, [recent.seen for recent in recents])
        return (recents[at] if at is not None else None), shared

    def keep(self, prefix: str, recent: _Recent, replaces: _Recent | None) -> None:
        if prefix not in self.recent and len(self.recent) >= self.max_prefixes:
            self.recent = {}
        others = tuple(r for r in self.recent.get(prefix, ()) if r is not replaces)
        self.recent[prefix] = (recent, *others)[:RECENT_PER_PREFIX]


_NO_SCOPE = canonical_json({"toolChoice": None, "thinking": None})


def block_kind(block: Mapping[str, Any]) -> str:
    """The Converse name of a block's kind, e.g. ``text`` or ``toolResult``."""
    return next(iter(block), "empty")


def _ttl(block: Mapping[str, Any]) -> TTL | None:
    ttl = block.get(CACHE_POINT, {}).get("ttl")
    return ttl if ttl in ("5m", "1h") else None


class _LayoutBuilder:
    def __init__(
        self, request: Mapping[str, Any], estimator: TokenEstimator, memo: LayoutMemo | None
    ) -> None:
        self.request = request
        self.estimator = estimator
        self.memo = memo
        self.blocks: list[Block] = []
        self.checkpoints: list[ExistingCheckpoint] = []
        self.cumulative = 0
        self.fingerprint = ""

    def _message_scope(self) -> str:
        """What keys message blocks beyond their content: BEDROCK.md §8, a tool-choice or
        thinking change invalidates the message entries only (tools and system stay readable)."""
        tool_config = self.request.get("toolConfig") or {}
        fields = self.request.get("additionalModelRequestFields") or {}
        thinking = fields.get("thinking") if isinstance(fields, Mapping) else None
        choice = tool_config.get("toolChoice")
        if choice is None and thinking is None:
            return _NO_SCOPE
        return canonical_json({"toolChoice": choice, "thinking": thinking})

    def build(self) -> Layout:
        tool_config = self.request.get("toolConfig") or {}
        self._add_list("tools", -1, "tool", tool_config.get("tools") or [])
        self._add_list("system", -1, "system", self.request.get("system") or [])
        self.fingerprint = _digest(self.fingerprint + "|messages|" + self._message_scope())
        messages = self.request.get("messages") or []
        prefix = self.fingerprint
        recent, shared = self.memo.closest(prefix, messages) if self.memo else (None, 0)
        starts = self._take_over(recent, shared) if recent is not None else []
        for number in range(shared, len(messages)):
            message = messages[number]
            starts.append(len(self.blocks))
            self._add_list("messages", number, message.get("role", "user"), message["content"])
        blocks, checkpoints = tuple(self.blocks), tuple(self.checkpoints)
        if self.memo is not None:
            seen = remember(messages, recent.seen if recent else None, shared)
            kept = _Recent(seen, blocks, checkpoints, tuple(starts))
            self.memo.keep(prefix, kept, recent)
        model_id = str(self.request.get("modelId", ""))
        return Layout(model_id, blocks, checkpoints, tuple(starts))

    def _take_over(self, recent: _Recent, shared: int) -> list[int]:
        """Take the blocks of the first ``shared`` messages as read for ``recent``: the same
        content after the same prefix gives the same blocks. Returns those messages' starts."""
        whole = shared >= len(recent.starts)
        stop = len(recent.blocks) if whole else recent.starts[shared]
        taken = recent.blocks[len(self.blocks) : stop]
        if taken:
            self.blocks.extend(taken)
            self.cumulative = taken[-1].cumulative
            self.fingerprint = taken[-1].fingerprint
        self.checkpoints.extend(
            cp for cp in recent.checkpoints if cp.section == "messages" and cp.message < shared
        )
        return list(recent.starts[:shared])

    def _add_list(
        self, section: Section, message: int, role: str, items: Sequence[Mapping[str, Any]]
    ) -> None:
        memo = self.memo
        if memo is None:
            self._read_list(section, message, role, items)
            return
        # One lookup per list: the same prefix and the same content give the same blocks.
        key = (self.fingerprint, section, message, role, *memo.content_keys(section, items))
        found = memo.lists.get(key)
        if found is None:
            start, marks = len(self.blocks), len(self.checkpoints)
            self._read_list(section, message, role, items)
            found = (tuple(self.blocks[start:]), tuple(self.checkpoints[marks:]))
            memo.remember(key, found)
            return
        blocks, checkpoints = found
        if blocks:
            self.blocks.extend(blocks)
            self.cumulative = blocks[-1].cumulative
            self.fingerprint = blocks[-1].fingerprint
        self.checkpoints.extend(checkpoints)

    def _read_list(
        self, section: Section, message: int, role: str, items: Sequence[Mapping[str, Any]]
    ) -> None:
        first = True
        for slot, item in enumerate(items):
            if CACHE_POINT in item:
                after = len(self.blocks) - 1
                self.checkpoints.append(
                    ExistingCheckpoint(after, section, message, slot, _ttl(item), first)
                )
                continue
            block = self._read_block(section, message, slot, role, item, first)
            self.blocks.append(block)
            self.cumulative = block.cumulative
            self.fingerprint = block.fingerprint
            first = False

    def _read_block(
        self,
        section: Section,
        message: int,
        slot: int,
        role: str,
        item: Mapping[str, Any],
        first: bool,
    ) -> Block:
        tokens = self.estimator.block_tokens(item)
        marker = f"{section}|{message}|{role}|{int(first)}|"
        kind = block_kind(item)
        doc_format = str(item["document"].get("format", "")) if kind == "document" else ""
        return Block(
            index=len(self.blocks),
            section=section,
            message=message,
            slot=slot,
            kind=kind,
            role=role,
            tokens=tokens,
            cumulative=self.cumulative + tokens,
            fingerprint=_digest(self.fingerprint + marker + canonical_json(item)),
            first_in_message=first,
            document_format=doc_format,
        )


def _content_keys(section: Section, items: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
    """What identifies a list's content for the memo. Tool schemas (plain JSON data) as one
    marshal string: exact (types and key order) and several times cheaper than their repr;
    equal data shared differently may marshal differently, which only costs a memo miss."""
    if section == "tools":
        data: Any = items  # a custom Sequence or Mapping raises ValueError
        try:
            return (marshal.dumps(data),)
        except ValueError:
            pass
    return tuple(map(_content_key, items))


def _content_key(item: Mapping[str, Any]) -> str:
    """One block's content: its text (a str caches its hash); a tool schema's repr (cheaper
    than serializing it); else its canonical JSON (which reduces bytes to a digest)."""
    text = item.get("text")
    if len(item) == 1 and isinstance(text, str):
        return text
    return repr(item) if "toolSpec" in item else canonical_json(item)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cache_point(ttl: TTL | None = None) -> dict[str, Any]:
    """A Converse cachePoint block; without ``ttl`` Bedrock uses the 5-minute default."""
    point: dict[str, Any] = {"type": "default"}
    if ttl is not None and ttl != "5m":
        point["ttl"] = ttl
    return {CACHE_POINT: point}


def with_checkpoints(
    request: Mapping[str, Any], layout: Layout, points: Sequence[tuple[int, TTL | None]]
) -> dict[str, Any]:
    """A copy of ``request`` with a cachePoint after each given block.

    ``points`` are ``(block index, ttl)`` pairs. The input is untouched: only the lists that get
    a cachePoint (and the dicts holding them) are copied; every block is shared with the input.
    """
    result = dict(request)
    if any(layout.blocks[after].section == "messages" for after, _ in points):
        result["messages"] = list(result["messages"])
    copied: dict[tuple[Section, int], list[dict[str, Any]]] = {}
    for after, ttl in sorted(points, key=lambda p: p[0], reverse=True):
        block = layout.blocks[after]
        target = copied.get((block.section, block.message))
        if target is None:
            target = copied[(block.section, block.message)] = _copied_list(result, block)
        target.insert(block.slot + 1, cache_point(ttl))
    return result


def _copied_list(request: dict[str, Any], block: Block) -> list[dict[str, Any]]:
    """Replace the list holding ``block`` (and the containers on its path) by copies."""
    if block.section == "tools":
        config = request["toolConfig"] = dict(request["toolConfig"])
        tools: list[dict[str, Any]] = list(config["tools"])
        config["tools"] = tools
        return tools
    if block.section == "system":
        system: list[dict[str, Any]] = list(request["system"])
        request["system"] = system
        return system
    messages = request["messages"]
    message = messages[block.message] = dict(messages[block.message])
    content: list[dict[str, Any]] = list(message["content"])
    message["content"] = content
    return content


def _container(request: Mapping[str, Any], block: Block) -> Sequence[Mapping[str, Any]]:
    """The request's own list holding ``block`` (tools, system, or a message's content)."""
    if block.section == "tools":
        tools: Sequence[Mapping[str, Any]] = request["toolConfig"]["tools"]
        return tools
    if block.section == "system":
        system: Sequence[Mapping[str, Any]] = request["system"]
        return system
    content: Sequence[Mapping[str, Any]] = request["messages"][block.message]["content"]
    return content


def without_checkpoints(request: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``request`` with every cachePoint removed (what the user's content alone is)."""
    result = copy.deepcopy(dict(request))
    for items in _lists(result):
        items[:] = [item for item in items if CACHE_POINT not in item]
    return result


def _lists(request: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    tool_config = request.get("toolConfig") or {}
    if tool_config.get("tools"):
        yield tool_config["tools"]
    if request.get("system"):
        yield request["system"]
    for message in request.get("messages") or []:
        yield message["content"]
