"""Hooks around each planned call of an instrumented client.

From botocore's ``before-call`` until the response is parsed -- for ConverseStream, whenever the
stream yields -- the call is *active*: :func:`active_call` returns the request as sent, and its
span (from the cache's :class:`OpenTelemetry`) is the current span. Report listeners run inside
that window, so the trace log and the span attributes belong to the right call. Registered after
every other hook on those events; a fault is logged and never reaches the call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from botocore.eventstream import EventStream

from .._instrument import CONTEXT_KEY, OPERATIONS
from ..apis._invoke import INVOKE_OPERATIONS
from ._faults import log_fault
from ._otel import CallSpan, OpenTelemetry

_KEY = "bedrock_cache_active_call"


@dataclass
class ActiveCall:
    """The call being made: the instrumentation's record of it, and its span."""

    planned: Any
    """The instrumented client's call (its cache, prepared request, and the caller's original)."""
    span: CallSpan | None

    @property
    def request(self) -> Mapping[str, Any]:
        """The request as sent: planned (in Converse form, also for an InvokeModel body), or the
        caller's own after Bedrock refused our plan."""
        sent: Mapping[str, Any] = (
            self.planned.original if self.planned.resent else self.planned.prepared.request
        )
        return sent

    def enter(self) -> Token[ActiveCall | None]:
        if self.span is not None:
            self.span.attach()
        return _ACTIVE.set(self)

    def leave(self, token: Token[ActiveCall | None]) -> None:
        _ACTIVE.reset(token)
        if self.span is not None:
            self.span.detach()

    def end(self, error: str | None = None, exc: BaseException | None = None) -> None:
        if self.span is not None:
            self.span.end(error, exc)


_ACTIVE: ContextVar[ActiveCall | None] = ContextVar("bedrock_cache_active_call", default=None)


def active_call() -> ActiveCall | None:
    """The planned call running in this context, if any."""
    return _ACTIVE.get()


def hook_events(events: Any) -> None:
    """Make every planned call made through ``events`` (a botocore event emitter: a client's, or
    a session's, which its clients copy) active while it runs (idempotent)."""
    for operation in (*OPERATIONS, *INVOKE_OPERATIONS):
        for event, handler in (
            ("before-call", _before_call),
            ("after-call", _after_call),
            ("after-call-error", _after_call_error),
        ):
            events.register_last(
                f"{event}.bedrock-runtime.{operation}",
                handler,
                unique_id=f"bedrock-cache-{event}-{operation}",
            )


def _before_call(context: dict[str, Any], **_: Any) -> None:
    planned = context.get(CONTEXT_KEY)
    if planned is None:
        return
    try:
        otel: OpenTelemetry | None = getattr(planned.cache, "opentelemetry", None)
        model = planned.prepared.model.requested_id
        span = otel.call_span(model) if otel is not None else None
        call = ActiveCall(planned, span)
        context[_KEY] = (call, call.enter())
    except Exception as exc:
        log_fault("starting the call's telemetry", exc)


def _leave(context: dict[str, Any]) -> ActiveCall | None:
    """The call that ``before-call`` made active, no longer active (``None`` if none was)."""
    found: tuple[ActiveCall, Token[ActiveCall | None]] | None = context.pop(_KEY, None)
    if found is None:
        return None
    call, token = found
    call.leave(token)
    return call


def _after_call(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    try:
        call = _leave(context)
        if call is None:
            return
        error = parsed.get("Error")
        if isinstance(error, Mapping):
            call.end(str(error.get("Code") or "error"))
        elif isinstance(parsed.get("stream"), EventStream):  # ConverseStream
            parsed["stream"] = _ActiveStream(parsed["stream"], call)
        elif parsed.get("body") is not None and not hasattr(parsed["body"], "read"):
            parsed["body"] = _ActiveStream(parsed["body"], call)  # InvokeModelWithResponseStream
        else:
            call.end()
    except Exception as exc:
        log_fault("ending the call's telemetry", exc)


def _after_call_error(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
    try:
        call = _leave(context)
        if call is not None:
            call.end(type(exception).__name__, exception)
    except Exception as exc:
        log_fault("ending the call's telemetry", exc)


class _ActiveStream(EventStream):  # type: ignore[misc]
    """Makes the call active while the stream yields; ends its span after the last event. Still
    botocore's ``EventStream`` (same body), so ``isinstance``, ``close`` and ``copy`` work."""

    def __init__(self, stream: Any, call: ActiveCall) -> None:
        self.__dict__.update(getattr(stream, "__dict__", {}))
        self._stream = stream
        self._call = call

    def __iter__(self) -> Iterator[dict[str, Any]]:
        events = iter(self._stream)
        error: Exception | None = None
        try:
            while True:
                token = self._call.enter()
                try:
                    event = next(events)
                except StopIteration:
                    return
                finally:
                    self._call.leave(token)
                yield event
        except Exception as exc:
            error = exc
            raise
        finally:
            self._call.end(type(error).__name__ if error else None, error)

    def close(self) -> None:
        self._stream.close()
