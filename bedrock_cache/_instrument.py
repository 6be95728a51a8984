"""Hooks on a boto3 ``bedrock-runtime`` client: plan each request, record each response.

botocore's ``before-parameter-build`` event hands over the final Converse request, exactly what
Bedrock will see, on every path (sync, async via threads, streaming) of every framework built on
the client. ``after-call`` hands back the parsed response; for streams the event iterator is
wrapped so the final ``metadata`` event is counted exactly once. InvokeModel calls get the same
treatment on the model's native body (:mod:`bedrock_cache.apis`).

A failure in here never fails the call: it is logged (without prompt text) and the request goes
out as the user built it.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._fallback import rejection_of, restore_body
from ._usage import usage_from_converse, usage_from_stream_event
from .apis._invoke import INVOKE_OPERATIONS, plan_invoke, tap_invoke_response

if TYPE_CHECKING:  # the session imports this module; this one only names its types
    from ._planner import Plan
    from ._session import BedrockCache, PreparedRequest

logger = logging.getLogger("bedrock_cache")

OPERATIONS = ("Converse", "ConverseStream")
CONTEXT_KEY = "bedrock_cache"
#: Key under which each response (and the stream's metadata event) carries its CallReport dict.
RESPONSE_KEY = "bedrockCache"

ACTIVE: ContextVar[BedrockCache | None] = ContextVar("bedrock_cache_active", default=None)


@dataclass
class _Hook:
    """What one instrumented client plans with."""

    cache: BedrockCache | None
    base_models: dict[str, str] = field(default_factory=dict)
    """The framework's base model id for each profile ARN this client calls."""


@dataclass
class _Call:
    """One planned call, from its parameters to its response (in botocore's request context)."""

    cache: BedrockCache
    prepared: PreparedRequest
    original: dict[str, Any]
    """The parameters as the caller built them."""
    resent: bool = False
    """Bedrock rejected our checkpoints and the original went out instead."""

    @property
    def plan(self) -> Plan | None:
        return None if self.resent else self.prepared.plan


#: The one client registry: every instrumented boto3 client, by identity, while it lives.
_hooks: weakref.WeakKeyDictionary[Any, _Hook] = weakref.WeakKeyDictionary()


def instrument_client(
    client: Any,
    cache: BedrockCache | None = None,
    *,
    base_models: Mapping[str, str] | None = None,
) -> Any:
    """Hook ``client`` once; ``cache`` plans all its calls (``None``: only within ``activate()``).

    Re-instrumenting with ``cache=None`` keeps an earlier default cache. ``base_models`` maps
    application inference profile ARNs to the base model the framework was told about
    (langchain-aws ``base_model_id``, LlamaIndex ``model``).
    """
    hints = {arn: base for arn, base in (base_models or {}).items() if arn and base}
    hook = _hooks.get(client)
    if hook is not None:
        hook.cache = cache or hook.cache
        hook.base_models.update(hints)
        return client
    _hooks[client] = _Hook(cache, hints)
    events = client.meta.events
    ref = weakref.ref(client)
    hooks = [(op, _before, _after) for op in OPERATIONS]
    hooks += [(op, _before_invoke, _after_invoke) for op in INVOKE_OPERATIONS]
    for operation, before, after in hooks:
        events.register(
            f"before-parameter-build.bedrock-runtime.{operation}",
            lambda params, context, ref=ref, before=before, **_: before(ref(), params, context),
            unique_id=f"bedrock-cache-plan-{operation}",
        )
        events.register(
            f"needs-retry.bedrock-runtime.{operation}",
            _resend_unplanned,
            unique_id=f"bedrock-cache-resend-{operation}",
        )
        events.register(
            f"after-call.bedrock-runtime.{operation}",
            lambda parsed, context, after=after, **_: after(parsed, context),
            unique_id=f"bedrock-cache-record-{operation}",
        )
    from .telemetry._callhooks import hook_client  # telemetry builds on this module

    hook_client(client)
    return client


def is_instrumented(client: Any) -> bool:
    """``client`` has been hooked by :func:`instrument_client`."""
    return client in _hooks


def client_cache(client: Any) -> BedrockCache | None:
    """The cache ``client`` plans with outside ``activate()`` blocks, if any."""
    hook = _hooks.get(client)
    return hook.cache if hook is not None else None


def active_cache() -> BedrockCache | None:
    """The cache activated in this context, if any."""
    return ACTIVE.get()


def _planner_for(client: Any, params: Mapping[str, Any]) -> tuple[BedrockCache | None, str | None]:
    """The cache that plans this call (if any) and the framework's base model hint."""
    hook = _hooks.get(client) if client is not None else None
    cache = active_cache() or (hook.cache if hook is not None else None)
    hint = hook.base_models.get(str(params.get("modelId"))) if hook is not None else None
    return cache, hint


def _before(client: Any, params: dict[str, Any], context: dict[str, Any]) -> None:
    cache, hint = _planner_for(client, params)
    if cache is None:
        return
    try:
        prepared = cache.prepare(params, base_model_hint=hint)
    except Exception:
        logger.exception("bedrock_cache could not plan this request; sending it unchanged")
        return
    context[CONTEXT_KEY] = _Call(cache, prepared, dict(params))
    params.clear()
    params.update(prepared.request)


def _resend_unplanned(
    response: Any, request_dict: dict[str, Any], operation: Any, **_: Any
) -> int | None:
    """``needs-retry``: 0 (resend now) when Bedrock rejected the checkpoints we added; the next
    attempt carries the caller's own request. ``None`` leaves the decision to botocore."""
    call = request_dict.get("context", {}).get(CONTEXT_KEY)
    if not isinstance(call, _Call) or call.resent or not call.prepared.plan.checkpoints:
        return None
    reason = rejection_of(response)
    if reason is None:
        return None
    try:
        restore_body(request_dict, operation, call.original)
    except Exception:
        logger.exception(
            "bedrock_cache could not restore a rejected request; Bedrock's error stands"
        )
        return None
    call.resent = True
    if call.cache.resolver.reject(call.prepared.model, reason):
        logger.warning(
            "bedrock_cache: Bedrock rejected our checkpoints for %s (%s); the request was resent "
            "without them and later requests avoid it. Update the model table entry.",
            call.prepared.model.spec.model_id,
            reason,
        )
    return 0


def _after(parsed: dict[str, Any], context: Mapping[str, Any]) -> None:
    entry = context.get(CONTEXT_KEY)
    if not isinstance(entry, _Call):
        return
    try:
        if isinstance(parsed.get("usage"), Mapping):
            _record(entry, usage_from_converse(parsed["usage"]), parsed)
        elif "stream" in parsed:
            parsed["stream"] = _StreamTap(parsed["stream"], entry)
    except Exception:
        logger.exception("bedrock_cache could not record this response; the call is unaffected")


def _record(call: _Call, usage: Any, target: dict[str, Any]) -> None:
    expectation = None if call.resent else call.prepared.expectation
    report = call.cache.record(call.prepared.model, usage, call.plan, expectation)
    target[RESPONSE_KEY] = report.as_dict()


class _StreamTap:
    """Passes a ConverseStream's events through; records usage from the final metadata event."""

    def __init__(self, stream: Any, entry: _Call) -> None:
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
    cache, hint = _planner_for(client, params)
    if cache is None:
        return
    original = dict(params)
    try:
        prepared = plan_invoke(cache, params, hint)
    except Exception:
        logger.exception("bedrock_cache could not plan this request; sending it unchanged")
        return
    if prepared is not None:
        context[CONTEXT_KEY] = _Call(cache, prepared, original)


def _after_invoke(parsed: dict[str, Any], context: Mapping[str, Any]) -> None:
    entry = context.get(CONTEXT_KEY)
    if not isinstance(entry, _Call):
        return
    try:
        tap_invoke_response(parsed, lambda usage, target: _record(entry, usage, target))
    except Exception:
        logger.exception("bedrock_cache could not record this response; the call is unaffected")
