"""Reading requests and call records from a file: a JSON array, or JSON Lines.

Both the lint and the estimator read them. A line may be a Converse request (boto3 keyword
form), or a record of a call (such as a trace-log line) that holds its request under
``"request"`` and its numbers at the top level.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Keys of which a Converse request has at least one.
REQUEST_KEYS = frozenset({"messages", "system", "toolConfig"})


class InputError(ValueError):
    """A file the command cannot read; the message says what to give instead."""


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every JSON object in ``path`` (a JSON array of objects, or one object per line)."""
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            loaded = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} is not valid JSON ({exc}); give a JSON array") from exc
        return [_object(item, path, f"item {n}") for n, item in enumerate(loaded)]
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(_object(json.loads(line), path, f"line {number}"))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path} line {number} is not JSON ({exc.msg}); give a JSON array or one JSON "
                "object per line"
            ) from exc
    return records


def _object(value: Any, path: str | Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{path} {where} is not a JSON object; give Converse requests or records")
    return value


def request_of(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Converse request a record is or holds, if any."""
    if REQUEST_KEYS & record.keys():
        return dict(record)
    inner = record.get("request")
    if isinstance(inner, Mapping) and REQUEST_KEYS & inner.keys():
        found = dict(inner)
        if "modelId" not in found and isinstance(record.get("model_id"), str):
            found["modelId"] = record["model_id"]
        return found
    return None


def requests_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Converse requests the records are or hold, in order."""
    return [r for r in (request_of(record) for record in records) if r is not None]


def read_requests(path: str | Path) -> list[dict[str, Any]]:
    """The Converse requests in ``path``; :class:`InputError` if it holds none."""
    requests = requests_of(read_records(path))
    if not requests:
        raise InputError(
            f"{path} holds no Converse requests: give a JSON array or JSON Lines of requests "
            "(modelId, system, messages, toolConfig), or a trace log recorded with request text"
        )
    return requests
