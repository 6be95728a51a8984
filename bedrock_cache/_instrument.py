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

import weakref
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.eventstream import EventStream

from ._fallback import rejection_of, restore_body
from ._faults import fault
from ._outcomes import error_code, outcome_of, outcome_of_code
from ._usage import usage_from_converse, usage_from_stream_event
from ._validation import invalid, keeps_verdict
from .apis._invoke import INVOKE_OPERATIONS, plan_invoke, tap_invoke_response

if TYPE_CHECKING:  # the session imports this module; this one only names its types
    from ._plan import Plan
    from ._session import BedrockCache, PreparedRequest

OPERATIONS = ("Converse", "ConverseStream")
CONTEXT_KEY = "bedrock_cache"
#: ``unique_id`` prefix of the planning hook on each operation's ``before-parameter-build``.
PLAN_HOOK = "bedrock-cache-plan"
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
    usage_seen: bool = False
    """The stream's usage has been recorded (kept here, so copies of the stream share it)."""
    cut: bool = False
    """The stream has been counted as cut."""

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
    if not remember_owner(client, cache, base_models):
        hooks = [(op, _before, _after) for op in OPERATIONS]
        hooks += [(op, _before_invoke, _after_invoke) for op in INVOKE_OPERATIONS]
        register_hooks(client, client.meta.events, hooks)
    return client


Handler = Callable[..., None]


def remember_owner(
    owner: Any, cache: BedrockCache | None, base_models: Mapping[str, str] | None
) -> bool:
    """Note the cache and base models ``owner`` (a client, or a session whose clients share its
    hooks) plans with; ``True`` if it was hooked already (only these are updated then)."""
    hints = {arn: base for arn, base in (base_models or {}).items() if arn and base}
    hook = _hooks.get(owner)
    if hook is not None:
        hook.cache = cache or hook.cache
        hook.base_models.update(hints)
        return True
    _hooks[owner] = _Hook(cache, hints)
    return False


def register_hooks(owner: Any, events: Any, hooks: list[tuple[str, Handler, Handler]]) -> None:
    """Register ``(operation, plan, record)`` hooks and the telemetry hooks on ``events`` (a
    botocore event emitter), planning with what :func:`remember_owner` noted for ``owner``."""
    ref = weakref.ref(owner)
    for operation, before, after in hooks:
        events.register(
            f"before-parameter-build.bedrock-runtime.{operation}",
            lambda params, context, model, ref=ref, before=before, **_: before(
                ref(), params, context, model
            ),
            unique_id=f"{PLAN_HOOK}-{operation}",
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
        events.register(
            f"after-call-error.bedrock-runtime.{operation}",
            lambda exception, context, **_: _after_error(exception, context),
            unique_id=f"bedrock-cache-record-error-{operation}",
        )
    from .telemetry._callhooks import hook_events  # telemetry builds on this module

    hook_events(events)


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


def _before(client: Any, params: dict[str, Any], context: dict[str, Any], operation: Any) -> None:
    cache, hint = _planner_for(client, params)
    if cache is None:
        return
    try:
        prepared = cache.prepare(params, base_model_hint=hint)
    except Exception as exc:
        if not _rejected(params, operation):  # else botocore's own error follows
            fault("could not plan a request; it was sent as built", exc)
        return
    try:
        if prepared.plan.checkpoints and not keeps_verdict(
            params, prepared.request, prepared.plan, operation
        ):
            return  # a block our checkpoint would move is invalid: botocore names it as built
    except Exception as exc:
        fault("could not check a planned request; it was sent as built", exc)
        return
    context[CONTEXT_KEY] = _Call(cache, prepared, dict(params))
    params.clear()
    params.update(prepared.request)


def _rejected(params: Mapping[str, Any], operation: Any) -> bool:
    """botocore will reject the caller's own request (so planning it could fail)."""
    try:
        return invalid(params, operation)
    except Exception:
        return False


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
    except Exception as exc:
        fault("could not restore a request Bedrock rejected; its error stands", exc)
        return None
    call.resent = True
    if call.cache.resolver.reject(call.prepared.model, reason):
        fault(
            f"Bedrock rejected our checkpoints for {call.prepared.model.spec.model_id} ({reason}); "
            "the request was resent as built and later requests avoid it. Update the model table"
        )
    return 0


def _answered(
    parsed: dict[str, Any], context: Mapping[str, Any], read: Callable[[_Call], None]
) -> None:
    """Record a planned call's answer: an error code as the call's outcome, else ``read`` it."""
    entry = context.get(CONTEXT_KEY)
    if not isinstance(entry, _Call):
        return
    try:
        code = error_code(parsed)
        if code is not None:
            entry.cache.record_outcome(entry.prepared.model, outcome_of_code(code))
        else:
            read(entry)
    except Exception as exc:
        fault("could not record a response; the call is unaffected", exc)


def _after(parsed: dict[str, Any], context: Mapping[str, Any]) -> None:
    def read(entry: _Call) -> None:
        if isinstance(parsed.get("usage"), Mapping):
            _record(entry, usage_from_converse(parsed["usage"]), parsed)
        elif isinstance(parsed.get("stream"), EventStream):
            parsed["stream"] = TappedEventStream(parsed["stream"], entry)

    _answered(parsed, context, read)


def _after_error(exception: BaseException, context: Mapping[str, Any]) -> None:
    """A call that raised before Bedrock answered (a timeout, a dropped connection)."""
    entry = context.get(CONTEXT_KEY)
    if isinstance(entry, _Call):
        try:
            entry.cache.record_outcome(entry.prepared.model, outcome_of(exception))
        except Exception as exc:
            fault("could not record a failed call; the call is unaffected", exc)


def _record(call: _Call, usage: Any, target: dict[str, Any]) -> None:
    expectation = None if call.resent else call.prepared.expectation
    report = call.cache.record(call.prepared.model, usage, call.plan, expectation)
    target[RESPONSE_KEY] = report.as_dict()


class TappedEventStream(EventStream):  # type: ignore[misc]
    """A ConverseStream's own ``EventStream`` (same body, same events, same type) that records
    the call once: its usage from the ``metadata`` event, and ``cut`` if it breaks off (an error
    event, a dropped connection) or is closed before that event."""

    def __init__(self, stream: EventStream, call: _Call) -> None:
        self.__dict__.update(stream.__dict__)  # share its body and event generator: nothing re-read
        self._call = call

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for event in super().__iter__():
                self._observe(event)
                yield event
        except Exception:
            self._mark_cut()
            raise

    def close(self) -> None:
        super().close()
        if not self._call.usage_seen:
            self._mark_cut()

    def _observe(self, event: dict[str, Any]) -> None:
        try:
            usage = usage_from_stream_event(event)
            if usage is not None and not self._call.usage_seen:
                self._call.usage_seen = True
                _record(self._call, usage, event["metadata"])
        except Exception as exc:
            fault("could not record a stream's usage; the stream is unaffected", exc)

    def _mark_cut(self) -> None:
        if self._call.cut:
            return
        self._call.cut = True
        try:
            self._call.cache.record_outcome(self._call.prepared.model, "cut")
        except Exception as exc:
            fault("could not record a cut stream; the stream is unaffected", exc)


def _before_invoke(
    client: Any, params: dict[str, Any], context: dict[str, Any], operation: Any
) -> None:
    """InvokeModel: the same planning on the model's native body (``bedrock_cache.apis``)."""
    cache, hint = _planner_for(client, params)
    if cache is None:
        return
    original = dict(params)
    try:
        prepared = plan_invoke(cache, params, hint)
    except Exception as exc:
        fault("could not plan a request; it was sent as built", exc)
        return
    if prepared is not None:
        context[CONTEXT_KEY] = _Call(cache, prepared, original)


def _after_invoke(parsed: dict[str, Any], context: Mapping[str, Any]) -> None:
    def read(entry: _Call) -> None:
        tap_invoke_response(parsed, lambda usage, target: _record(entry, usage, target))

    _answered(parsed, context, read)
