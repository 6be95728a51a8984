"""OpenTelemetry: GenAI semantic-convention attributes on each call's span, and cache metrics.

The span is the one current when the boto3 call is made (the app's, or an instrumentation's);
when none is, a ``chat {model}`` CLIENT span is started around the call (see ``_callhooks``: it
covers the HTTP exchange, retries included, and for ConverseStream lasts until the last event).

Needs only ``opentelemetry-api`` (the ``otel`` extra). While a provider is the API's own (the
global one not set yet, or a no-op one), nothing it hands out would record, so no span is started
and nothing is counted for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._faults import log_fault

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from .._session import CallReport

SYSTEM = "aws.bedrock"
#: ``bedrock_cache.token.type`` values of the token counter: :class:`CacheUsage` field names.
TOKEN_TYPES = ("cache_read", "cache_write_5m", "cache_write_1h", "uncached_input", "output")


def opentelemetry_available() -> bool:
    try:
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    except ImportError:
        return False
    return True


class OpenTelemetry:
    """Puts each recorded call's numbers on its span and into counters.

    Every :class:`~bedrock_cache.BedrockCache` gets one on the global providers when
    ``opentelemetry-api`` is installed; pass ``BedrockCache(opentelemetry=OpenTelemetry(...))``
    for explicit providers, or ``opentelemetry=False`` to turn it off.

    Span attributes: ``gen_ai.system``/``gen_ai.provider.name`` (``aws.bedrock``),
    ``gen_ai.operation.name`` (``chat``), ``gen_ai.request.model``, ``gen_ai.usage.input_tokens``
    (all input, cached or not), ``gen_ai.usage.output_tokens``,
    ``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.cache_creation.input_tokens``, and
    ``bedrock_cache.*``: ``hit_rate``, ``cost_usd``, ``cost_without_cache_usd``, ``saved_usd``,
    ``cache_write_1h.input_tokens``, ``checkpoints``, ``user_checkpoints``, ``miss.cause``.

    Metrics: ``bedrock_cache.tokens`` (by ``bedrock_cache.token.type``: cache_read,
    cache_write_5m, cache_write_1h, uncached_input, output), ``bedrock_cache.cost`` and
    ``bedrock_cache.cost_without_cache`` (USD), ``bedrock_cache.misses`` (by
    ``bedrock_cache.miss.cause``); all carry ``gen_ai.request.model``.

    Args:
        tracer_provider: an OpenTelemetry ``TracerProvider``; the global one if omitted.
        meter_provider: an OpenTelemetry ``MeterProvider``; the global one if omitted.
    """

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        try:
            from opentelemetry import metrics, trace
        except ImportError as exc:
            raise ImportError(
                "OpenTelemetry support needs opentelemetry-api: "
                "pip install 'bedrock-prompt-cache[otel]'"
            ) from exc
        from .. import __name__ as package

        self._trace = trace
        self._metrics = metrics
        self._tracer = trace.get_tracer(package, tracer_provider=tracer_provider)
        # A provider given here that is not the API's stand-in for the global one is used as
        # is; otherwise the global one at each call (an app may set it after making the cache).
        self._tracer_provider = None if _stand_in(tracer_provider) else tracer_provider
        self._meter_provider = None if _stand_in(meter_provider) else meter_provider
        meter = metrics.get_meter(package, meter_provider=meter_provider)
        self._tokens = meter.create_counter(
            "bedrock_cache.tokens", unit="{token}", description="Bedrock tokens by billing type"
        )
        self._cost = meter.create_counter(
            "bedrock_cache.cost", unit="USD", description="What the calls cost with caching"
        )
        self._cost_without_cache = meter.create_counter(
            "bedrock_cache.cost_without_cache",
            unit="USD",
            description="What the same calls would have cost without caching",
        )
        self._misses = meter.create_counter(
            "bedrock_cache.misses", unit="{call}", description="Calls that missed, by cause"
        )

    def __call__(self, report: CallReport) -> None:
        """Report listener: attributes on the current span, counts into the meters."""
        try:
            self._annotate(self._trace.get_current_span(), report)
            if not _idle(self._meter_provider or self._metrics.get_meter_provider()):
                self._count(report)
        except Exception as exc:
            log_fault("recording OpenTelemetry data", exc)

    def _annotate(self, span: Span, report: CallReport) -> None:
        if not span.is_recording():
            return
        usage, cost, plan = report.usage, report.cost, report.plan
        attributes: dict[str, Any] = {
            "gen_ai.system": SYSTEM,
            "gen_ai.provider.name": SYSTEM,
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": report.model_id,
            "gen_ai.usage.input_tokens": usage.total_input,
            "gen_ai.usage.output_tokens": usage.output,
            "gen_ai.usage.cache_read.input_tokens": usage.cache_read,
            "gen_ai.usage.cache_creation.input_tokens": usage.cache_write,
            "bedrock_cache.cache_write_1h.input_tokens": usage.cache_write_1h,
            "bedrock_cache.hit_rate": round(usage.hit_rate, 4),
            "bedrock_cache.cost_usd": round(cost.total, 8),
            "bedrock_cache.cost_without_cache_usd": round(cost.without_cache, 8),
            "bedrock_cache.saved_usd": round(cost.saved, 8),
        }
        if plan is not None:
            attributes["bedrock_cache.checkpoints"] = len(plan.checkpoints)
            attributes["bedrock_cache.user_checkpoints"] = plan.kept
        cause = miss_cause(report)
        if cause is not None:
            attributes["bedrock_cache.miss.cause"] = cause
        span.set_attributes(attributes)

    def _count(self, report: CallReport) -> None:
        model = {"gen_ai.request.model": report.model_id, "gen_ai.system": SYSTEM}
        for kind in TOKEN_TYPES:
            tokens = getattr(report.usage, kind)
            if tokens:
                self._tokens.add(tokens, {**model, "bedrock_cache.token.type": kind})
        self._cost.add(report.cost.total, model)
        self._cost_without_cache.add(report.cost.without_cache, model)
        cause = miss_cause(report)
        if cause is not None:
            self._misses.add(1, {**model, "bedrock_cache.miss.cause": cause})

    def call_span(self, model_id: str) -> CallSpan | None:
        """The span of a call about to be sent: the current one, or a new CLIENT span."""
        trace = self._trace
        current = trace.get_current_span()
        if current.get_span_context().is_valid:
            return CallSpan(current, owned=False)
        if _idle(self._tracer_provider or trace.get_tracer_provider()):
            return None
        span = self._tracer.start_span(
            f"chat {model_id}",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "gen_ai.system": SYSTEM,
                "gen_ai.provider.name": SYSTEM,
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": model_id,
            },
        )
        return CallSpan(span, owned=True) if span.is_recording() else None


def _idle(provider: object) -> bool:
    """``provider`` is one of the API's own -- the stand-in for a global provider not set yet, or
    a no-op one -- so nothing it hands out records and the call skips the work."""
    return type(provider).__module__.startswith(("opentelemetry.trace", "opentelemetry.metrics"))


def _stand_in(provider: object) -> bool:
    """The API's proxy for the global provider (it delegates once one is set)."""
    return _idle(provider) and "Proxy" in type(provider).__name__


def miss_cause(report: CallReport) -> str | None:
    """The report's miss cause, if the call did not read what earlier calls cached."""
    return report.miss.cause if report.miss is not None else None


@dataclass
class CallSpan:
    """The span of one call: the app's current span, or one this call started (``owned``)."""

    span: Span
    owned: bool
    _token: object | None = None

    def attach(self) -> None:
        """Make the span current (until :meth:`detach`)."""
        from opentelemetry import context, trace

        self._token = context.attach(trace.set_span_in_context(self.span))

    def detach(self) -> None:
        if self._token is not None:
            from opentelemetry import context

            context.detach(self._token)  # type: ignore[arg-type]
            self._token = None

    def end(self, error: str | None = None, exc: BaseException | None = None) -> None:
        """End the span if this call started it (once); mark it failed with ``error``."""
        if not self.owned:
            return
        self.owned = False
        if error is not None:
            from opentelemetry.trace import Status, StatusCode

            if exc is not None:
                self.span.record_exception(exc)
            self.span.set_attribute("error.type", error)
            self.span.set_status(Status(StatusCode.ERROR, error))
        self.span.end()
