"""Blocks of a Converse request as text, and their signatures: hashes of fixed-size chunks.

Offsets count characters in a block's *text view*: a text block's text, or the JSON of any other
block as it is sent (keys in the order given). A signature keeps only hashes of that text, so an
earlier block can be compared with the current one without keeping any prompt text.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._layout import Block, Layout, _container
from .._tokens import canonical_json

#: Chunks per block at most; a block's chunk size grows with its length past this many.
MAX_CHUNKS = 128
MIN_CHUNK = 32
#: The characters a JSON document can start with (after whitespace), ``NaN`` and ``Infinity``
#: included as :func:`json.loads` accepts them.
_JSON_STARTS = frozenset('{["-0123456789tfnNI')


def _bytes_as_digest(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "bytes:" + hashlib.sha256(value).hexdigest()
    return str(value)


def block_text(item: Mapping[str, Any]) -> str:
    """The text view of one block (what offsets count in)."""
    text = item.get("text")
    if isinstance(text, str):
        return text
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=_bytes_as_digest)


def normalized(item: Mapping[str, Any]) -> str:
    """The block with whitespace runs collapsed and JSON keys sorted: what drift leaves equal."""
    text = item.get("text")
    if not isinstance(text, str):
        return canonical_json(item)
    if text.lstrip()[:1] in _JSON_STARTS:  # skip the failing parse of plain prose
        try:
            return canonical_json(json.loads(text))
        except ValueError:
            pass
    return " ".join(text.split())


def raw_blocks(request: Mapping[str, Any], layout: Layout) -> Iterator[tuple[Block, Any]]:
    """Each layout block with the request's own item for it."""
    for block in layout.blocks:
        yield block, _container(request, block)[block.slot]


def section_position(layout: Layout, block: Block) -> int:
    """A block's index within its section (message blocks count across all messages); the
    sections stand in the order tools, system, messages."""
    if block.section == "tools":
        return block.index
    if block.section == "messages":
        return block.index - layout.message_starts[0]
    tools_end = layout.section_end("tools")
    return block.index - (tools_end + 1 if tools_end is not None else 0)


def _hash(text: str) -> bytes:
    """8 bytes of Python's own string hash: signatures stay in this process (see below)."""
    return hash(text).to_bytes(8, "little", signed=True)


def _chunk_hashes(text: str, size: int) -> bytes:
    """8 bytes per chunk. Python's own string hash (keyed per process, computed in C) suffices:
    signatures live in this process's memory only and are compared with each other."""
    starts = range(0, len(text), size)
    chunks = map(text.__getitem__, map(slice, starts, range(size, len(text) + size, size)))
    return array("q", map(hash, chunks)).tobytes()  # every step in C: up to 128 chunks a block


def chunk_size(length: int) -> int:
    return max(MIN_CHUNK, -(-length // MAX_CHUNKS))


@dataclass(frozen=True)
class Signature:
    """A block without its text: length, chunk hashes and a hash of its normalized form."""

    length: int
    chunk: int
    chunks: bytes
    normalized: bytes
    section: str
    message: int

    @classmethod
    def of(cls, item: Mapping[str, Any], block: Block) -> Signature:
        text = block_text(item)
        size = chunk_size(len(text))
        return cls(
            len(text),
            size,
            _chunk_hashes(text, size),
            _hash(normalized(item)),
            block.section,
            block.message,
        )

    def first_difference(self, text: str) -> int | None:
        """The start of the first chunk where ``text`` differs from this block, or ``None``."""
        current = _chunk_hashes(text, self.chunk)
        for index in range(0, min(len(current), len(self.chunks)), 8):
            if current[index : index + 8] != self.chunks[index : index + 8]:
                return index // 8 * self.chunk
        if len(text) == self.length:
            return None
        return min(len(text), self.length) // self.chunk * self.chunk

    def same_shape(self, item: Mapping[str, Any]) -> bool:
        """Equal once whitespace and key order are normalized."""
        return self.normalized == _hash(normalized(item))
