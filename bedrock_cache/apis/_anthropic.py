"""Anthropic Messages bodies (``anthropic_version``) on InvokeModel: read, mark, and their usage.

``cache_control: {"type": "ephemeral", "ttl"?: "5m" | "1h"}`` may stand on tool definitions,
system blocks and content blocks (text, image, document, tool_use, tool_result); it caches the
prefix through the block that carries it, exactly as a Converse ``cachePoint`` right after it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .._models import TTL
from .._tokens import canonical_json
from ._native import NativeRequest, Origin, list_of_objects, require

MARKER = "cache_control"


def cache_control(ttl: TTL | None = None) -> dict[str, Any]:
    """An Anthropic cache marker; without ``ttl`` (or ``5m``) Bedrock uses the 5-minute default."""
    marker: dict[str, Any] = {"type": "ephemeral"}
    if ttl == "1h":
        marker["ttl"] = ttl
    return marker


def read_anthropic(body: Mapping[str, Any], model_id: str) -> NativeRequest:
    """The Converse-shaped mirror of an Anthropic Messages body; raises ``NativeBodyError``."""
    require("anthropic_version" in body, "#: required key [anthropic_version] not found")
    require(isinstance(body.get("max_tokens"), int), "#: required key [max_tokens] not found")
    require("messages" in body, "#: required key [messages] not found")
    reader = _Reader()
    for index, tool in enumerate(list_of_objects(body.get("tools") or [], "tools")):
        reader.add(reader.tools, Origin("tools", -1, index), _tool_spec(tool), tool.get(MARKER))
    system = body.get("system")
    if isinstance(system, str):
        reader.add(reader.system, Origin("system", -1, 0), {"text": system}, None)
    elif system is not None:
        for index, block in enumerate(list_of_objects(system, "system")):
            converse, marker = _content_block(block)
            reader.add(reader.system, Origin("system", -1, index), converse, marker)
    for number, message in enumerate(list_of_objects(body["messages"], "messages")):
        require(message.get("role") in ("user", "assistant"), f"#/messages/{number}: bad role")
        reader.add_message(number, message)
    return NativeRequest(
        "anthropic",
        body,
        _converse(body, model_id, reader),
        tuple(reader.origins),
        _place,
    )


class _Reader:
    def __init__(self) -> None:
        self.tools: list[dict[str, Any]] = []
        self.system: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.origins: list[Origin] = []

    def add(
        self, target: list[dict[str, Any]], origin: Origin, block: dict[str, Any], marker: Any
    ) -> None:
        target.append(block)
        self.origins.append(origin)
        if marker is not None:
            target.append(_cache_point(marker))

    def add_message(self, number: int, message: Mapping[str, Any]) -> None:
        content: list[dict[str, Any]] = []
        self.messages.append({"role": message["role"], "content": content})
        raw = message.get("content")
        if isinstance(raw, str):
            self.add(content, Origin("messages", number, 0), {"text": raw}, None)
            return
        for index, block in enumerate(list_of_objects(raw, f"messages.{number}.content")):
            converse, marker = _content_block(block)
            self.add(content, Origin("messages", number, index), converse, marker)


def _tool_spec(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A Converse toolSpec; Anthropic's server tools keep their own fields."""
    spec = {key: value for key, value in tool.items() if key not in (MARKER, "input_schema")}
    if "input_schema" in tool:
        spec["inputSchema"] = {"json": tool["input_schema"]}
    return {"toolSpec": spec}


def _tool_choice(choice: Any) -> Any:
    """Converse's toolChoice for Anthropic's ``tool_choice`` (``auto`` / ``any`` / ``tool``)."""
    if not isinstance(choice, Mapping) or choice.get("type") not in ("auto", "any", "tool"):
        return choice
    if choice["type"] == "tool":
        return {"tool": {"name": choice.get("name")}}
    return {choice["type"]: {}}


def _cache_point(marker: Any) -> dict[str, Any]:
    require(isinstance(marker, Mapping), "cache_control must be an object")
    require(marker.get("type") == "ephemeral", "cache_control.type: must be 'ephemeral'")
    ttl = marker.get("ttl")
    require(ttl in (None, "5m", "1h"), "cache_control.ttl: must be '5m' or '1h'")
    point: dict[str, Any] = {"type": "default"}
    if ttl is not None:
        point["ttl"] = ttl
    return {"cachePoint": point}


def _content_block(block: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """The Converse block for one Anthropic block, and its cache marker (a marker inside a
    tool_result's content caches through the whole tool_result)."""
    kind = block.get("type")
    marker = block.get(MARKER)
    if kind == "text":
        return {"text": str(block.get("text", ""))}, marker
    if kind == "image":
        source = block.get("source") or {}
        media = str(source.get("media_type", "image/png"))
        image = {"format": media.rsplit("/", 1)[-1], "source": {"bytes": source.get("data", "")}}
        return {"image": image}, marker
    if kind == "document":
        return _document(block), marker
    if kind == "tool_use":
        call = {
            "toolUseId": block.get("id"),
            "name": block.get("name"),
            "input": block.get("input"),
        }
        return {"toolUse": call}, marker
    if kind == "tool_result":
        return _tool_result(block, marker)
    if kind == "thinking":
        reasoning = {"text": block.get("thinking", ""), "signature": block.get("signature")}
        return {"reasoningContent": {"reasoningText": reasoning}}, marker
    if kind == "redacted_thinking":
        return {"reasoningContent": {"redactedContent": block.get("data", "")}}, marker
    require(isinstance(kind, str), "each content block needs a 'type'")
    rest = {key: value for key, value in block.items() if key not in ("type", MARKER)}
    return {str(kind): rest}, marker


def _document(block: Mapping[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        media = str(source.get("media_type", "application/pdf"))
        doc = {
            "format": media.rsplit("/", 1)[-1],
            "name": str(block.get("title") or "document"),
            "source": {"bytes": source.get("data", "")},
        }
        return {"document": doc}
    # Plain-text and custom-content documents reach the model as text.
    data = source.get("data")
    return {"text": data if isinstance(data, str) else canonical_json(source.get("content"))}


def _tool_result(block: Mapping[str, Any], marker: Any) -> tuple[dict[str, Any], Any]:
    raw = block.get("content", "")
    parts: list[dict[str, Any]] = []
    if isinstance(raw, str):
        parts.append({"text": raw})
    else:
        for part in list_of_objects(raw, "tool_result.content"):
            converse, inner = _content_block(part)
            parts.append(converse)
            marker = marker if marker is not None else inner
    result: dict[str, Any] = {"toolUseId": block.get("tool_use_id"), "content": parts}
    if block.get("is_error"):
        result["status"] = "error"
    return {"toolResult": result}, marker


def _converse(body: Mapping[str, Any], model_id: str, reader: _Reader) -> dict[str, Any]:
    converse: dict[str, Any] = {
        "modelId": model_id,
        "messages": reader.messages,
        "inferenceConfig": {"maxTokens": body["max_tokens"]},
    }
    if reader.system:
        converse["system"] = reader.system
    if reader.tools or body.get("tool_choice") is not None:
        converse["toolConfig"] = {"tools": reader.tools}
        if body.get("tool_choice") is not None:
            converse["toolConfig"]["toolChoice"] = _tool_choice(body["tool_choice"])
    if body.get("thinking") is not None:
        converse["additionalModelRequestFields"] = {"thinking": body["thinking"]}
    return converse


def _place(
    body: Mapping[str, Any], origins: Sequence[Origin], points: Sequence[tuple[int, TTL | None]]
) -> dict[str, Any]:
    result = copy.deepcopy(dict(body))
    for after, ttl in points:
        _native_block(result, origins[after]).setdefault(MARKER, cache_control(ttl))
    return result


def _native_block(body: dict[str, Any], origin: Origin) -> dict[str, Any]:
    """The body's block at ``origin``; a string system or content becomes one text block."""
    if origin.section == "tools":
        tool: dict[str, Any] = body["tools"][origin.index]
        return tool
    holder, key = (
        (body, "system")
        if origin.section == "system"
        else (
            body["messages"][origin.message],
            "content",
        )
    )
    if isinstance(holder[key], str):
        holder[key] = [{"type": "text", "text": holder[key]}]
    block: dict[str, Any] = holder[key][origin.index]
    return block
