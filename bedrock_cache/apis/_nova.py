"""Amazon Nova ``messages-v1`` bodies on InvokeModel: read, mark, and their usage.

Nova's native body is Converse-shaped: ``system`` and message ``content`` hold Converse blocks
and ``cachePoint`` blocks. A block may also carry its marker inline, ``{"text": ...,
"cachePoint": {...}}``, which caches through that block.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from .._layout import CACHE_POINT, Section, cache_point
from .._models import TTL
from ._native import NativeRequest, Origin, list_of_objects, require


def read_nova(body: Mapping[str, Any], model_id: str) -> NativeRequest:
    """The Converse-shaped mirror of a Nova body; raises ``NativeBodyError``."""
    require("messages" in body, "required key [messages] not found")
    origins: list[Origin] = []

    def mirror(items: Any, section: Section, message: int, where: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for index, item in enumerate(list_of_objects(items, where)):
            content = {key: value for key, value in item.items() if key != CACHE_POINT}
            if content:
                result.append(content)
                origins.append(Origin(section, message, index))
            if CACHE_POINT in item:
                marker = item[CACHE_POINT]
                require(isinstance(marker, Mapping), f"{where}.{index}.cachePoint: expected object")
                result.append({CACHE_POINT: dict(marker)})
        return result

    tool_config = dict(body.get("toolConfig") or {})
    converse: dict[str, Any] = {"modelId": model_id}
    if tool_config.get("tools"):
        tool_config["tools"] = mirror(tool_config["tools"], "tools", -1, "tools")
    if tool_config:
        converse["toolConfig"] = tool_config
    if body.get("system"):
        converse["system"] = mirror(body["system"], "system", -1, "system")
    messages = []
    for number, message in enumerate(list_of_objects(body["messages"], "messages")):
        require(message.get("role") in ("user", "assistant"), f"messages.{number}: bad role")
        content = mirror(message.get("content"), "messages", number, f"messages.{number}.content")
        messages.append({"role": message["role"], "content": content})
    converse["messages"] = messages
    inference = body.get("inferenceConfig") or {}
    if isinstance(inference.get("max_new_tokens"), int):
        converse["inferenceConfig"] = {"maxTokens": inference["max_new_tokens"]}
    return NativeRequest("nova", body, converse, tuple(origins), _place)


def _place(
    body: Mapping[str, Any], origins: Sequence[Origin], points: Sequence[tuple[int, TTL | None]]
) -> dict[str, Any]:
    result = copy.deepcopy(dict(body))
    by_list: dict[tuple[str, int], list[tuple[int, TTL | None]]] = defaultdict(list)
    for after, ttl in points:
        origin = origins[after]
        by_list[(origin.section, origin.message)].append((origin.index, ttl))
    for (section, message), places in by_list.items():
        items = _native_list(result, section, message)
        for index, ttl in sorted(places, reverse=True):
            items.insert(index + 1, cache_point(ttl))
    return result


def _native_list(body: dict[str, Any], section: str, message: int) -> list[dict[str, Any]]:
    if section == "tools":
        tools: list[dict[str, Any]] = body["toolConfig"]["tools"]
        return tools
    if section == "system":
        system: list[dict[str, Any]] = body["system"]
        return system
    content: list[dict[str, Any]] = body["messages"][message]["content"]
    return content
