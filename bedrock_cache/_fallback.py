"""The last line of defence against a stale model table.

When Bedrock rejects a request with a ``ValidationException`` about the checkpoints we added,
the request was not processed and is not billed (BEDROCK.md §8): it is sent again, once, exactly
as the caller built it, through botocore's own retry loop (``needs-retry``), so sync, stream and
every framework on the client get the same treatment. What Bedrock refused is remembered per
model (see :meth:`ModelResolver.reject`) so later requests do not repeat it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.serialize import create_serializer

from ._resolve import Rejection

_ABOUT_CHECKPOINTS = re.compile(
    r"cache_?point|cache_control|prompt caching|extra inputs|\bttl\b", re.IGNORECASE
)
#: Words of a rejection message -> what to stop sending; the first match wins.
_REASONS: tuple[tuple[re.Pattern[str], Rejection], ...] = (
    (re.compile(r"\bttl\b|extra inputs", re.IGNORECASE), "ttl"),
    (re.compile(r"toolConfig|\btools\b", re.IGNORECASE), "tools"),
    (re.compile(r"tool_?result", re.IGNORECASE), "next_to_tool_result"),
    (re.compile(r"reasoning", re.IGNORECASE), "after_reasoning"),
    (re.compile(r"document", re.IGNORECASE), "after_document"),
    (re.compile(r"video", re.IGNORECASE), "after_video"),
    (re.compile(r"first block|start of|message start", re.IGNORECASE), "message_start"),
)


def rejection_of(response: Any) -> Rejection | None:
    """What Bedrock refused, when ``response`` (botocore's ``(http, parsed)`` pair) is a
    ``ValidationException`` about cache checkpoints; ``None`` for every other answer."""
    if not isinstance(response, tuple) or len(response) != 2 or not isinstance(response[1], dict):
        return None
    error = response[1].get("Error")
    if not isinstance(error, Mapping) or error.get("Code") != "ValidationException":
        return None
    message = str(error.get("Message", ""))
    if not _ABOUT_CHECKPOINTS.search(message):
        return None
    return next((reason for pattern, reason in _REASONS if pattern.search(message)), "checkpoints")


def restore_body(request_dict: dict[str, Any], operation: Any, original: Mapping[str, Any]) -> None:
    """Make botocore's next attempt send ``original`` (the caller's parameters) instead."""
    protocol = operation.service_model.metadata["protocol"]
    serialized = create_serializer(protocol, include_validation=False).serialize_to_request(
        dict(original), operation
    )
    request_dict["body"] = serialized["body"]
