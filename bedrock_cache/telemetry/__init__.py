"""Telemetry: OpenTelemetry spans and metrics, the JSONL trace log, and the HTML report.

Every :class:`~bedrock_cache.BedrockCache` writes a trace log when given ``trace_log=PATH`` or
when ``BEDROCK_CACHE_TRACE_LOG`` is set, and reports to OpenTelemetry when ``opentelemetry-api``
is installed and a provider is configured. ``bedrock-cache report LOG -o report.html`` (or
:func:`write_report`) turns a trace log into one self-contained HTML page.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from ._otel import OpenTelemetry, opentelemetry_available
from ._report import render_report, write_report
from ._tracelog import (
    TRACE_LOG_ENV,
    TRACE_LOG_REQUESTS_ENV,
    TraceLog,
    read_trace_log,
    trace_record,
)

if TYPE_CHECKING:
    from .._session import BedrockCache

__all__ = [
    "TRACE_LOG_ENV",
    "TRACE_LOG_REQUESTS_ENV",
    "OpenTelemetry",
    "TraceLog",
    "read_trace_log",
    "render_report",
    "trace_record",
    "write_report",
]


def attach_telemetry(
    cache: BedrockCache,
    trace_log: str | os.PathLike[str] | TraceLog | None,
    opentelemetry: OpenTelemetry | bool | None,
) -> tuple[TraceLog | None, OpenTelemetry | None]:
    """Add ``cache``'s trace log and OpenTelemetry listeners; returns what was attached.

    ``trace_log``: a path or :class:`TraceLog`; ``None`` falls back to ``BEDROCK_CACHE_TRACE_LOG``.
    ``opentelemetry``: an :class:`OpenTelemetry`, ``False`` for none, ``None``/``True`` for the
    global providers (``None`` quietly skips it when ``opentelemetry-api`` is not installed).
    """
    log = _trace_log(trace_log)
    otel = _opentelemetry(opentelemetry)
    for listener in (log, otel):
        if listener is not None:
            cache.add_listener(listener)
    return log, otel


def _trace_log(trace_log: str | os.PathLike[str] | TraceLog | None) -> TraceLog | None:
    if isinstance(trace_log, TraceLog):
        return trace_log
    if trace_log is not None:
        if not isinstance(trace_log, str | os.PathLike):
            raise TypeError("trace_log must be a file path or a bedrock_cache.telemetry.TraceLog")
        return TraceLog.at(trace_log)
    path = os.environ.get(TRACE_LOG_ENV, "").strip()
    requests = os.environ.get(TRACE_LOG_REQUESTS_ENV, "").strip().lower() in ("1", "true", "yes")
    return TraceLog.at(path, include_request=requests) if path else None


def _opentelemetry(opentelemetry: OpenTelemetry | bool | None) -> OpenTelemetry | None:
    if isinstance(opentelemetry, OpenTelemetry):
        return opentelemetry
    if opentelemetry is False or (opentelemetry is None and not opentelemetry_available()):
        return None
    if opentelemetry not in (None, True):
        raise TypeError("opentelemetry must be an OpenTelemetry(...), True, False or None")
    return _global_opentelemetry()


@functools.cache
def _global_opentelemetry() -> OpenTelemetry:
    """One instance (one set of instruments) on the global providers for every cache."""
    return OpenTelemetry()
