"""The same hooks on aiobotocore: an aioboto3 session's per-call clients, or one async client.

aiobotocore clients emit botocore's events (awaiting handlers only when they return awaitables),
so planning, the resend of a rejected plan and the recording of plain responses are the sync
client's own handlers. Only the ConverseStream body differs: an ``AioEventStream`` read with
``async for``, tapped here so its usage is counted once and the call's telemetry stays current
while it yields. Handlers registered on a session are copied to every client it creates, which is
how apps that open a client per call (``async with session.client(...)``) are planned.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import wrapt

from ._faults import fault
from ._instrument import (
    OPERATIONS,
    PLAN_HOOK,
    TappedEventStream,
    _after,
    _answered,
    _before,
    _Call,
    is_instrumented,
    register_hooks,
    remember_owner,
)
from .telemetry._callhooks import ActiveCall, _leave

if TYPE_CHECKING:
    from ._session import BedrockCache


def instrument_async(
    target: Any, cache: BedrockCache | None = None, *, base_models: Mapping[str, str] | None = None
) -> Any:
    """Plan every Converse call of an aiobotocore ``bedrock-runtime`` client, or of every client
    an aioboto3 (or aiobotocore) session creates from now on; returns ``target``.

    Same rules as :func:`~bedrock_cache.instrument_client`: once per target, ``cache=None``
    keeps an earlier cache, ``base_models`` maps profile ARNs to base models.
    """
    events = _events_of(target)
    if not remember_owner(target, cache, base_models):
        register_hooks(target, events, [(op, _before, _after_async) for op in OPERATIONS])
    return target


def wrap_async_clients(wrapper: Callable[..., Any]) -> None:
    """Wrap aiobotocore's ``AioBaseClient._make_api_call`` with ``wrapper``, if installed."""
    try:
        module = importlib.import_module("aiobotocore.client")
    except ImportError:
        return
    wrapt.wrap_function_wrapper(module, "AioBaseClient._make_api_call", wrapper)


def unwrap_async_clients() -> None:
    """Undo :func:`wrap_async_clients`."""
    module = sys.modules.get("aiobotocore.client")
    method = module.AioBaseClient.__dict__["_make_api_call"] if module is not None else None
    if isinstance(method, wrapt.FunctionWrapper):
        module.AioBaseClient._make_api_call = method.__wrapped__  # type: ignore[union-attr]


def is_hooked(client: Any) -> bool:
    """``client`` plans with hooks of its own, or with hooks it copied from an instrumented
    session when it was created (aioboto3's per-call clients)."""
    events = client.meta.events
    emitter = getattr(events, "_emitter", events)  # a client's events alias its emitter's
    handlers = getattr(emitter, "_unique_id_handlers", {})  # botocore keeps no public view
    return is_instrumented(client) or f"{PLAN_HOOK}-{OPERATIONS[0]}" in handlers


def _events_of(target: Any) -> Any:
    meta = getattr(target, "meta", None)
    if meta is not None and hasattr(meta, "events"):  # a client
        return meta.events
    session = getattr(target, "_session", target)  # aioboto3 wraps an aiobotocore session
    get_component = getattr(session, "get_component", None)
    if get_component is None:
        raise TypeError(
            "instrument_async needs an aioboto3 Session, an aiobotocore session or an aiobotocore "
            f"bedrock-runtime client, not {type(target).__name__}"
        )
    return get_component("event_emitter")


def _after_async(parsed: dict[str, Any], context: dict[str, Any]) -> None:
    stream = parsed.get("stream")
    if not hasattr(stream, "__aiter__"):  # a Converse response, or an error
        _after(parsed, context)
        return

    def read(entry: _Call) -> None:
        # The telemetry's own after-call hook (registered last) then finds nothing to end: the
        # tapped stream keeps the call current while it yields and ends it after the last event.
        parsed["stream"] = TappedAsyncEventStream(stream, entry, _leave(context))

    _answered(parsed, context, read)


class TappedAsyncEventStream(TappedEventStream):
    """A ConverseStream's ``AioEventStream`` (same body and events) that records the call once,
    like :class:`~bedrock_cache._instrument.TappedEventStream`, read with ``async for``."""

    def __init__(self, stream: Any, call: _Call, active: ActiveCall | None) -> None:
        super().__init__(stream, call)
        self._stream = stream
        self._active = active

    def __iter__(self) -> Any:
        raise NotImplementedError("an aiobotocore stream: read it with async for")

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._events()

    async def _events(self) -> AsyncIterator[dict[str, Any]]:
        events, active = aiter(self._stream), self._active
        error: Exception | None = None
        try:
            while True:
                token = active.enter() if active is not None else None
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    return
                else:
                    self._observe(event)
                finally:
                    if active is not None and token is not None:
                        active.leave(token)
                yield event
        except Exception as exc:
            error = exc
            self._mark_cut()
            raise
        finally:
            self._end(error)

    def _end(self, error: Exception | None) -> None:
        if self._active is None:
            return
        active, self._active = self._active, None
        try:
            active.end(type(error).__name__ if error else None, error)
        except Exception as exc:
            fault("could not end a stream's telemetry; the stream is unaffected", exc)

    def close(self) -> None:
        super().close()
        self._end(None)
