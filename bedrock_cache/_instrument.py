"""Hooks on a boto3 ``bedrock-runtime`` client: plan each request, record each response.

botocore's ``before-parameter-build`` event hands over the final Converse request, exactly what
Bedrock will see, on every path (sync, async via threads, streaming) of every framework built on
the client. ``after-call`` hands back the parsed response; for streams the event iterator is
wrapped so the final ``metadata`` event is counted exactly once.

A failure in here never fails the call: it is logged (without prompt text) and the request goes
out as the user built it.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from ._session import BedrockCache, PreparedRequest, active_cache
from ._usage import usage_from_converse, usage_from_stream_event
from .apis import INVOKE_OPERATIONS, plan_invoke, tap_invoke_response

logger = logging.getLogger("bedrock_cache")

OPERATIONS = ("Converse", "ConverseStream")
CONTEXT_KEY = "bedrock_cache"
#: Key under which each response (and the stream's metadata event) carries its CallReport dict.
RESPONSE_KEY = "bedrockCache"

_defaults: weakref.WeakKeyDictionary[Any, BedrockCache | None] = weakref.WeakKeyDictionary()


def instrument_client(client: Any, cache: BedrockCache | None = None) -> Any:
    """Hook ``client`` once; ``cache`` plans all its calls (``None``: only within ``activate()``).

    Re-instrumenting with ``cache=None`` keeps an earlier default cache.
    """
    events = client.meta.events
    if client in _defaults:
        if cache is not None:
            _defaults[client] = cache
        return client
    _defaults[client] = cache
    ref = weakref.ref(client)
    for operation in OPERATIONS:
        events.register(
            f"before-parameter-build.bedrock-runtime.{operation}",
            lambda params, context, ref=ref, **_: _before(ref(), params, context),
            unique_id=f"bedrock-cache-plan-{operation}",
        )
        events.register(
            f"after-call.bedrock-runtime.{operation}",
            lambda parsed, context, **_: _after(parsed, context),
            unique_id=f"bedrock-cache-record-{operation}",
        )
    for operation in INVOKE_OPERATIONS:
        events.register(
            f"before-parameter-build.bedrock-runtime.{operation}",
            lambda params, context, ref=ref, **_: _before_invoke(ref(), params, context),
            unique_id=f"bedrock-cache-plan-{operation}",
        )
        events.register(
            f"after-call.bedrock-runtime.{operation}",
            lambda parsed, context, **_: _after_invoke(parsed, context),
            unique_id=f"bedrock-cache-record-{operation}",
        )
    return client


def is_instrumented(client: Any) -> bool:
    return client in _defaults


def _cache_for(client: Any) -> BedrockCache | None:
    return active_cache() or (_defaults.get(client) if client is not None else None)


def _before(client: Any, params: dict[str, Any], context: dict[str, Any]) -> None:
    cache = _cache_for(client)
    if cache is None:
        return
    try:
        prepared = cache.prepare(params)
    except Exception:
        logger.exception("bedrock_cache could not plan this request; sending it unchanged")
        return
    params.clear()
    params.update(prepared.request)
    context[CONTEXT_KEY] = (cache, prepared)


def _after(parsed: dict[str, Any], context: Mapping[str, Any]) -> None:
    entry: tuple[BedrockCache, PreparedRequest] | None = context.get(CONTEXT_KEY)
    if entry is None:
        return
    try:
        if isinstance(parsed.get("usage"), Mapping):
            _record(entry, usage_from_converse(parsed["usage"]), parsed)
        elif "stream" in parsed:
            parsed["stream"] = _StreamTap(parsed["stream"], entry)
    except Exception:
        logger.exception("bedrock_cache could not record this response; the call is unaffected")


def _record(
    entry: tuple[BedrockCache, PreparedRequest], usage: Any, target: dict[str, Any]
) -> None:
    cache, prepared = entry
    report = cache.record(prepared.model.requested_id, usage, prepared.plan)
    target[RESPONSE_KEY] = report.as_dict()


class _StreamTap:
    """Passes a ConverseStream's events through; records usage from the final metadata event."""

    def __init__(self, stream: Any, entry: tuple[BedrockCache, PreparedRequest]) -> None:
        self._stream = stream
        self._entry = entry

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for event in self._stream:
            try:
                usage = usage_from_stream_event(event)
                if usage is not None:
                    _record(self._entry, usage, event["metadata"])
            except Exception:
                logger.exception("bedrock_cache could not record this stream's usage")
            yield event

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _before_invoke(client: Any, params: dict[str, Any], context: dict[str, Any]) -> None:
    """InvokeModel: the same planning on the model's native body (``bedrock_cache.apis``)."""
    cache = _cache_for(client)
    if cache is None:
        return
    try:
        plan_invoke(cache, params, context, CONTEXT_KEY)
    except Exception:
        logger.exception("bedrock_cache could not plan this request; sending it unchanged")


def _after_invoke(parsed: dict[str, Any], context: Mapping[str, Any]) -> None:
    entry: tuple[BedrockCache, PreparedRequest] | None = context.get(CONTEXT_KEY)
    if entry is None:
        return
    try:
        tap_invoke_response(parsed, lambda usage, target: _record(entry, usage, target))
    except Exception:
        logger.exception("bedrock_cache could not record this response; the call is unaffected")
