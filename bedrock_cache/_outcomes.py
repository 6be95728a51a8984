"""How a call ended when it did not end well, in Bedrock's billing terms.

``throttled`` (Bedrock refused it for rate or quota; not billed), ``timed_out`` (no answer in
time; Bedrock may still bill the tokens it processed), ``cut`` (a stream that broke off after it
started; billed for what was processed, and its usage is counted when Bedrock reported it) and
``failed`` (any other error).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

from botocore.exceptions import ClientError, ConnectTimeoutError, EventStreamError, ReadTimeoutError

Outcome: TypeAlias = Literal["failed", "throttled", "timed_out", "cut"]
OUTCOMES: tuple[Outcome, ...] = ("failed", "throttled", "timed_out", "cut")

_THROTTLED = frozenset(
    {
        "throttlingexception",
        "servicequotaexceededexception",
        "toomanyrequestsexception",
        "modelnotreadyexception",
    }
)
_TIMED_OUT = frozenset({"modeltimeoutexception"})


def outcome_of(error: BaseException) -> Outcome:
    """The outcome of a call that raised ``error`` (botocore's, or a framework's wrapping it)."""
    if isinstance(error, EventStreamError):
        return "cut"
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError | TimeoutError):
        return "timed_out"
    if isinstance(error, ClientError):
        return outcome_of_code(error.response.get("Error", {}).get("Code"))
    cause = error.__cause__ or error.__context__
    return outcome_of(cause) if isinstance(cause, BaseException) else "failed"


def outcome_of_code(code: Any) -> Outcome:
    """The outcome of a Bedrock error code (``ThrottlingException``...)."""
    name = str(code or "").lower()
    if name in _THROTTLED:
        return "throttled"
    if name in _TIMED_OUT:
        return "timed_out"
    return "failed"


def outcome_of_text(text: str) -> Outcome:
    """The outcome named in an error's text, for frameworks that pass only ``str(error)``."""
    lowered = text.lower()
    if any(code in lowered for code in _THROTTLED):
        return "throttled"
    if any(code in lowered for code in _TIMED_OUT) or "timed out" in lowered:
        return "timed_out"
    return "failed"


def error_code(parsed: Mapping[str, Any]) -> str | None:
    """The error code of a parsed botocore response, ``None`` if it is not an error."""
    error = parsed.get("Error")
    return str(error.get("Code")) if isinstance(error, Mapping) and error.get("Code") else None
