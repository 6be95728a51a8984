"""The smallest JSON value that fits a tool's input schema (for forced tool choice).

Bedrock's model must call a tool when ``toolChoice`` is ``any`` or ``tool``; the emulator answers
with an input every validator of that schema accepts: required properties only, the first enum
value, minimum lengths and bounds, ``$ref`` followed into ``$defs`` / ``definitions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MAX_DEPTH = 32  # recursive schemas end in the smallest value of their type
#: Sample strings for common ``format`` values (an empty string fits none of them).
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def minimal_instance(schema: Any) -> Any:
    """A minimal instance of JSON schema ``schema`` (an empty object for an empty schema)."""
    root = schema if isinstance(schema, Mapping) else {}
    return _instance(root, root, 0) if root else {}


def _instance(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    schema = _resolved(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for combinator in ("allOf", "anyOf", "oneOf"):
        options = schema.get(combinator)
        if options and isinstance(options[0], Mapping):
            merged = {k: v for k, v in schema.items() if k != combinator}
            return _instance({**merged, **_resolved(options[0], root)}, root, depth)
    kind = _kind(schema)
    if kind == "object":
        return _object(schema, root, depth)
    if kind == "array":
        items = schema.get("items")
        item: Mapping[str, Any] = items if isinstance(items, Mapping) else {}
        count = _whole(schema.get("minItems"))
        return (
            [_instance(item, root, depth + 1) for _ in range(count)] if depth < _MAX_DEPTH else []
        )
    return _scalar(kind, schema)


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    rest = {k: v for k, v in schema.items() if k != "$ref"}
    return {**target, **rest} if isinstance(target, Mapping) else rest


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    return "object" if "properties" in schema else "null"


def _object(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    if depth >= _MAX_DEPTH:
        return {}
    return {
        name: _instance(properties.get(name) or {}, root, depth + 1)
        for name in schema.get("required") or []
    }


def _scalar(kind: str, schema: Mapping[str, Any]) -> Any:
    if kind == "string":
        return _FORMATS.get(str(schema.get("format")), "x" * _whole(schema.get("minLength")))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        if not isinstance(low, int | float) or isinstance(low, bool):
            return 0
        value = low + (1 if "exclusiveMinimum" in schema else 0)
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return None


def _whole(value: Any) -> int:
    """A count keyword (``minItems``, ``minLength``); 0 when absent or not a small number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return min(max(value, 0), 64)
    return 0
