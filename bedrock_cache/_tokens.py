"""Token estimation for Converse content blocks.

The default estimator is deterministic and offline; the emulator uses the same function, so the
planner and the emulator agree exactly when no Bedrock is reachable. Against real Bedrock,
:class:`CountTokensEstimator` asks the CountTokens API (memoized by content hash).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

#: Flat estimates where the content cannot be measured without decoding it.
IMAGE_TOKENS = 1_600  # about one 1092x1092 image
VIDEO_TOKENS = 10_000
CHARS_PER_TOKEN = 4
DOCUMENT_BYTES_PER_TOKEN = 6


def canonical_json(value: Any) -> str:
    """One serialization for hashing and counting: sorted keys, no spaces, bytes as hex digests."""
    if type(value) is dict and len(value) == 1:
        text = value.get("text")
        if type(text) is str:  # a text block, the most common: the same string, built directly
            return '{"text":' + _quoted(text) + "}"
    return _ENCODER.encode(value)


def _bytes_digest(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "bytes:" + hashlib.sha256(value).hexdigest()
    raise TypeError(f"cannot serialize {type(value).__name__}")


#: What ``json.dumps(value, sort_keys=True, separators=(",", ":"), default=_bytes_digest)``
#: builds on every call; an encoder keeps no state between calls.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_bytes_digest)
_quoted: Callable[[str], str] = json.encoder.encode_basestring_ascii


def text_tokens(text: str) -> int:
    """About four characters a token, never zero for non-empty text."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def _source_size(source: Mapping[str, Any]) -> int:
    data = source.get("bytes", b"")
    if isinstance(data, str):  # base64 text as sent on the wire: the decoded size
        return len(data) * 3 // 4 - data[-2:].count("=")
    if isinstance(data, bytes | bytearray):
        return len(data)
    text = source.get("text")
    if isinstance(text, str):
        return len(text)
    content = source.get("content")
    return len(canonical_json(content)) if content else 0


def block_tokens(block: Mapping[str, Any]) -> int:
    """Estimated tokens of one Converse block (content, system or tool block)."""
    if "cachePoint" in block:
        return 0
    if "text" in block and isinstance(block["text"], str):
        return text_tokens(block["text"])
    if "toolSpec" in block:
        return text_tokens(canonical_json(block["toolSpec"]))
    if "image" in block:
        return IMAGE_TOKENS
    if "video" in block:
        return VIDEO_TOKENS
    if "document" in block:
        size = _source_size(block["document"].get("source", {}))
        return max(1, size // DOCUMENT_BYTES_PER_TOKEN)
    if "toolUse" in block:
        tool_use = block["toolUse"]
        return text_tokens(tool_use.get("name", "") + canonical_json(tool_use.get("input", {})))
    if "toolResult" in block:
        parts: Sequence[Mapping[str, Any]] = block["toolResult"].get("content", [])
        return 1 + sum(_tool_result_part_tokens(part) for part in parts)
    if "reasoningContent" in block:
        reasoning = block["reasoningContent"].get("reasoningText", {})
        return text_tokens(reasoning.get("text", "")) if reasoning else 1
    return text_tokens(canonical_json(block))


def _tool_result_part_tokens(part: Mapping[str, Any]) -> int:
    if "json" in part:
        return text_tokens(canonical_json(part["json"]))
    return block_tokens(part)


class TokenEstimator(Protocol):
    """Anything that can count the tokens of a Converse block."""

    def block_tokens(self, block: Mapping[str, Any]) -> int: ...


class DefaultEstimator:
    """The deterministic offline estimator (the emulator counts with it too)."""

    def block_tokens(self, block: Mapping[str, Any]) -> int:
        return block_tokens(block)


class CountTokensEstimator:
    """Counts with Bedrock's CountTokens API; memoized by content hash, bounded in size.

    Each block is counted on its own (as a one-block user message, minus the count of an
    empty-ish reference message), so results can be cached per block. Falls back to the
    default estimate if the call fails.
    """

    def __init__(self, client: Any, model_id: str, *, max_entries: int = 4096) -> None:
        self._client = client
        self._model_id = model_id
        self._max = max_entries
        self._memo: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()
        self._baseline: int | None = None

    def block_tokens(self, block: Mapping[str, Any]) -> int:
        if "cachePoint" in block:
            return 0
        key = hashlib.sha256(canonical_json(block).encode()).hexdigest()
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        try:
            tokens = max(0, self._count(_as_message_content(block)) - self._baseline_tokens())
        except Exception:  # CountTokens unavailable: the estimate still lets planning proceed
            return block_tokens(block)
        with self._lock:
            self._memo[key] = tokens
            if len(self._memo) > self._max:
                self._memo.popitem(last=False)
        return tokens

    def _baseline_tokens(self) -> int:
        if self._baseline is None:
            self._baseline = self._count({"text": "."})
        return self._baseline

    def _count(self, content: Mapping[str, Any]) -> int:
        response = self._client.count_tokens(
            modelId=self._model_id,
            input={"converse": {"messages": [{"role": "user", "content": [content]}]}},
        )
        return int(response["inputTokens"])


def _as_message_content(block: Mapping[str, Any]) -> Mapping[str, Any]:
    if "toolSpec" in block:  # tool schemas cannot stand in a message; count their JSON as text
        return {"text": canonical_json(block["toolSpec"])}
    return block
