"""Request bodies checked the way Bedrock checks them, before anything else happens.

Unparseable JSON is a ``SerializationException``; JSON of the wrong shape a
``ValidationException`` naming the path of the first wrong value, e.g. ``messages.0.role``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._errors import EmulatedError, validation

_ROLES = ("user", "assistant")
_CACHE_POINT_KEYS = frozenset({"type", "ttl"})


def json_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``)."""
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise EmulatedError(
            "SerializationException", f"The request body is not valid JSON: {exc}"
        ) from None
    if not isinstance(body, dict):
        raise EmulatedError(
            "SerializationException",
            f"The request body must be a JSON object, not {type(body).__name__}",
        )
    return body


def check_converse(body: Mapping[str, Any]) -> None:
    """Raise a ``ValidationException`` for a Converse body Bedrock would not accept."""
    for index, message in enumerate(_list(body, "messages")):
        where = f"messages.{index}"
        if not isinstance(message, Mapping):
            raise validation(f"Malformed input request: {where} must be an object")
        if message.get("role") not in _ROLES:
            raise validation(f"Malformed input request: {where}.role must be one of {_ROLES}")
        _blocks(message, "content", where)
    _blocks(body, "system", "")
    _tool_config(body.get("toolConfig"))
    config = body.get("inferenceConfig")
    if config is not None:
        if not isinstance(config, Mapping):
            raise validation("Malformed input request: inferenceConfig must be an object")
        max_tokens = config.get("maxTokens")
        if max_tokens is not None and (type(max_tokens) is not int or max_tokens < 1):
            raise validation("Malformed input request: inferenceConfig.maxTokens must be >= 1")


def _list(owner: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = owner.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise validation(f"Malformed input request: {where}{key} must be an array")
    return value


def _blocks(owner: Mapping[str, Any], key: str, where: str) -> None:
    prefix = f"{where}." if where else ""
    for index, block in enumerate(_list(owner, key, prefix)):
        path = f"{prefix}{key}.{index}"
        if not isinstance(block, Mapping) or len(block) != 1:
            raise validation(f"Malformed input request: {path} must hold exactly one block kind")
        kind, value = next(iter(block.items()))
        if kind == "cachePoint":
            _cache_point(value, f"{path}.cachePoint")
        elif kind == "text" and not isinstance(value, str):
            raise validation(f"Malformed input request: {path}.text must be a string")
        elif kind != "text" and not isinstance(value, Mapping):
            raise validation(f"Malformed input request: {path}.{kind} must be an object")


def _cache_point(point: Any, path: str) -> None:
    if not isinstance(point, Mapping) or point.get("type") != "default":
        raise validation(f'Malformed input request: {path}.type must be "default"')
    extra = sorted(set(point) - _CACHE_POINT_KEYS)
    if extra:
        raise validation(
            f"Malformed input request: {path}.{extra[0]}: Extra inputs are not permitted"
        )
    if "ttl" in point and point["ttl"] not in ("5m", "1h"):
        raise validation(f'Malformed input request: {path}.ttl must be "5m" or "1h"')


def _tool_config(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, Mapping):
        raise validation("Malformed input request: toolConfig must be an object")
    _blocks(config, "tools", "toolConfig")
    named = [_tool_name(tool, n) for n, tool in enumerate(config.get("tools") or [])]
    names = [name for name in named if name is not None]
    choice = config.get("toolChoice")
    if choice is None:
        return
    kinds = ("auto", "any", "tool")
    if not isinstance(choice, Mapping) or len(choice) != 1 or next(iter(choice)) not in kinds:
        raise validation("Malformed input request: toolConfig.toolChoice must be auto, any or tool")
    if not names:
        raise validation("toolConfig.toolChoice needs at least one tool in toolConfig.tools")
    forced = choice.get("tool")
    if "tool" in choice and (not isinstance(forced, Mapping) or forced.get("name") not in names):
        raise validation(f"toolConfig.toolChoice.tool.name must name one of the tools {names}")


def _tool_name(tool: Mapping[str, Any], index: int) -> str | None:
    """A toolSpec's name, after checking the fields Bedrock requires of it."""
    spec = tool.get("toolSpec")
    if spec is None:
        return None
    path = f"Malformed input request: toolConfig.tools.{index}.toolSpec"
    if not isinstance(spec.get("name"), str) or not spec["name"]:
        raise validation(f"{path}.name must be a non-empty string")
    schema = spec.get("inputSchema")
    if not isinstance(schema, Mapping) or not isinstance(schema.get("json"), Mapping):
        raise validation(f"{path}.inputSchema must be {{'json': {{...JSON schema...}}}}")
    return str(spec["name"])
