"""What the emulated model answers: scripted replies, or a deterministic default."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .._layout import without_checkpoints
from .._tokens import CHARS_PER_TOKEN, canonical_json
from ._schema import minimal_instance

StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer of the emulated model: Converse content blocks and a stop reason.

    Build it with :meth:`text` or :meth:`tool_use`; queue it with ``BedrockEmulator.script``.
    """

    content: tuple[Mapping[str, Any], ...]
    stop_reason: StopReason = "end_turn"

    @classmethod
    def text(cls, text: str) -> Reply:
        """A plain text answer (``stopReason`` ``end_turn``)."""
        return cls(({"text": text},))

    @classmethod
    def tool_use(
        cls,
        name: str,
        tool_input: Mapping[str, Any] | None = None,
        *,
        tool_use_id: str | None = None,
        text: str | None = None,
    ) -> Reply:
        """A request to call tool ``name`` (``stopReason`` ``tool_use``), optionally after text.

        Without ``tool_use_id`` a deterministic ``tooluse_...`` id is derived from the request.
        """
        call: dict[str, Any] = {"name": name, "input": dict(tool_input or {})}
        if tool_use_id is not None:
            call["toolUseId"] = tool_use_id
        prefix: tuple[Mapping[str, Any], ...] = ({"text": text},) if text else ()
        return cls((*prefix, {"toolUse": call}), "tool_use")


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def default_reply(request: Mapping[str, Any]) -> Reply:
    """A short text derived from a hash of the last user message, checkpoints ignored.

    Caching never changes an answer, so adding a cachePoint must not change this one either.
    """
    messages = without_checkpoints(request).get("messages") or []
    users: list[Mapping[str, Any]] = [m for m in messages if m.get("role") == "user"]
    digest = _digest(users[-1].get("content", []) if users else [])[:12]
    return Reply.text(
        f"Emulated answer {digest}. The local Bedrock emulator answers every distinct "
        "prompt with the same text each time."
    )


def forced_tool_reply(request: Mapping[str, Any]) -> Reply | None:
    """The tool call a forced ``toolChoice`` demands, or ``None`` when the model may answer.

    ``{"any": {}}``: "the model must request at least one tool (no text is generated)" -- the
    first tool; ``{"tool": {"name": n}}``: tool ``n``. Its input is the smallest value that fits
    the tool's JSON schema.
    """
    config = request.get("toolConfig") or {}
    choice = config.get("toolChoice") or {}
    specs = [tool["toolSpec"] for tool in config.get("tools") or [] if "toolSpec" in tool]
    if "tool" in choice:
        wanted = choice["tool"].get("name")
        specs = [spec for spec in specs if spec.get("name") == wanted]
    elif "any" not in choice:
        return None
    if not specs:
        return None
    schema = (specs[0].get("inputSchema") or {}).get("json")
    return Reply.tool_use(specs[0]["name"], minimal_instance(schema))


def render(reply: Reply, request: Mapping[str, Any]) -> tuple[list[dict[str, Any]], StopReason]:
    """The reply's content blocks for this request: tool ids filled in, text cut at maxTokens."""
    blocks: list[dict[str, Any]] = []
    for block in reply.content:
        if "toolUse" in block:
            blocks.append({"toolUse": _with_tool_use_id(block["toolUse"], request)})
        else:
            blocks.append(dict(block))
    max_tokens = (request.get("inferenceConfig") or {}).get("maxTokens")
    if reply.stop_reason == "end_turn" and isinstance(max_tokens, int):
        return _truncated(blocks, max_tokens * CHARS_PER_TOKEN)
    return blocks, reply.stop_reason


def _with_tool_use_id(call: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    if call.get("toolUseId"):
        return dict(call)
    seed = [call["name"], call.get("input"), without_checkpoints(request).get("messages")]
    return {"toolUseId": "tooluse_" + _digest(seed)[:22], **call}


def _truncated(
    blocks: list[dict[str, Any]], max_chars: int
) -> tuple[list[dict[str, Any]], StopReason]:
    text = "".join(str(block.get("text", "")) for block in blocks)
    if len(text) <= max_chars:
        return blocks, "end_turn"
    return [{"text": text[:max_chars]}], "max_tokens"


@dataclass(frozen=True)
class SimulatedLatency:
    """SIMULATED model latency, not a measurement of Bedrock: off unless you pass one.

    The server sleeps ``base_ms + per_uncached_token_ms * (input not read from cache)
    + per_output_token_ms * output`` before answering, so cache hits answer visibly faster.
    """

    base_ms: float = 0.0
    per_uncached_token_ms: float = 0.0
    per_output_token_ms: float = 0.0

    def __post_init__(self) -> None:
        for name in ("base_ms", "per_uncached_token_ms", "per_output_token_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be milliseconds, 0 or more; got {value!r}")

    def seconds(self, uncached_tokens: int, output_tokens: int) -> float:
        total_ms = (
            self.base_ms
            + self.per_uncached_token_ms * uncached_tokens
            + self.per_output_token_ms * output_tokens
        )
        return max(0.0, total_ms) / 1000.0

    def sleep(self, uncached_tokens: int, output_tokens: int) -> None:
        time.sleep(self.seconds(uncached_tokens, output_tokens))
