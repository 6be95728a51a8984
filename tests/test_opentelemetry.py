"""Invariant: with an OpenTelemetry SDK configured, every planned call carries its cache numbers
as GenAI semantic-convention attributes on its span (a ``chat {model}`` CLIENT span when the app
has none current), and the token and cost counters add up to what the cache recorded -- through
real boto3, LangChain and LlamaIndex clients against the emulator.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from langchain_aws import ChatBedrockConverse
from llama_index.core.llms import ChatMessage
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from bedrock_cache.telemetry import OpenTelemetry
from integrations.shared import support_system_prompt
from langchain_bedrock_cache import with_bedrock_cache
from llama_index_bedrock_cache import CachingBedrockConverse

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = support_system_prompt()
Emulator = BedrockEmulator[ManualClock]


class Telemetry:
    """An SDK tracer and meter provider with in-memory exporters, and the cache wired to them."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])
        self.cache = BedrockCache(
            opentelemetry=OpenTelemetry(self.tracer_provider, self.meter_provider)
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def counters(self) -> dict[tuple[str, str], float]:
        """Sums by (metric name, token type or "") over every data point."""
        sums: dict[tuple[str, str], float] = {}
        data = self.metrics.get_metrics_data()
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        kind = str(point.attributes.get("bedrock_cache.token.type", ""))
                        key = (metric.name, kind)
                        sums[key] = sums.get(key, 0.0) + float(point.value)  # type: ignore[union-attr]
        return sums


@pytest.fixture
def otel() -> Telemetry:
    return Telemetry()


def ask(client: Any, text: str) -> dict[str, Any]:
    messages = [{"role": "user", "content": [{"text": text}]}]
    response: dict[str, Any] = client.converse(
        modelId=MODEL, system=[{"text": SYSTEM}], messages=messages
    )
    return response


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_boto3_call_gets_a_client_span_with_genai_usage(
    bedrock_emulator: Emulator, otel: Telemetry
) -> None:
    client = otel.cache.instrument(bedrock_emulator.client())
    first = ask(client, "Where is my order?")["usage"]
    second = ask(client, "Can I get a refund?")["usage"]

    spans = otel.finished()
    assert [s.name for s in spans] == [f"chat {MODEL}"] * 2
    assert all(s.kind is SpanKind.CLIENT for s in spans)
    write, read = attrs(spans[0]), attrs(spans[1])
    assert write["gen_ai.system"] == "aws.bedrock"
    assert write["gen_ai.operation.name"] == "chat"
    assert write["gen_ai.request.model"] == MODEL
    assert write["gen_ai.usage.cache_creation.input_tokens"] == first["cacheWriteInputTokens"] > 0
    assert read["gen_ai.usage.cache_read.input_tokens"] == second["cacheReadInputTokens"] > 0
    # input_tokens counts every input token, cached or not (the semantic convention's rule).
    assert read["gen_ai.usage.input_tokens"] == (
        second["inputTokens"] + second["cacheReadInputTokens"] + second["cacheWriteInputTokens"]
    )
    assert read["gen_ai.usage.output_tokens"] == second["outputTokens"]
    assert read["bedrock_cache.checkpoints"] >= 1
    assert read["bedrock_cache.hit_rate"] > 0.9
    assert read["bedrock_cache.saved_usd"] > 0 > write["bedrock_cache.saved_usd"]
    assert write["bedrock_cache.miss.cause"] == "first_seen"
    assert "bedrock_cache.miss.cause" not in read

    total = otel.cache.stats.total()
    sums = otel.counters()
    assert sums[("bedrock_cache.tokens", "cache_read")] == total.usage.cache_read
    assert sums[("bedrock_cache.tokens", "cache_write_5m")] == total.usage.cache_write_5m
    assert sums[("bedrock_cache.tokens", "uncached_input")] == total.usage.uncached_input
    assert sums[("bedrock_cache.tokens", "output")] == total.usage.output
    assert sums[("bedrock_cache.cost", "")] == pytest.approx(total.cost)
    assert sums[("bedrock_cache.cost_without_cache", "")] == pytest.approx(total.cost_without_cache)
    assert sums[("bedrock_cache.misses", "")] == 1


def test_the_apps_current_span_is_annotated_instead(
    bedrock_emulator: Emulator, otel: Telemetry
) -> None:
    client = otel.cache.instrument(bedrock_emulator.client())
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("answer question"):
        ask(client, "Where is my order?")
    (span,) = otel.finished()
    assert span.name == "answer question"
    assert attrs(span)["gen_ai.usage.cache_creation.input_tokens"] > 0


def test_a_stream_is_covered_until_its_last_event(
    bedrock_emulator: Emulator, otel: Telemetry
) -> None:
    client = otel.cache.instrument(bedrock_emulator.client())
    messages = [{"role": "user", "content": [{"text": "hello"}]}]
    for done in range(2):
        response = client.converse_stream(
            modelId=MODEL, system=[{"text": SYSTEM}], messages=messages
        )
        assert len(otel.finished()) == done  # still open while the stream is unread
        events = list(response["stream"])
        assert len(otel.finished()) == done + 1
    usage = events[-1]["metadata"]["usage"]
    spans = otel.finished()
    assert len(spans) == 2
    assert attrs(spans[1])["gen_ai.usage.cache_read.input_tokens"] == usage["cacheReadInputTokens"]
    assert spans[1].end_time is not None and spans[1].start_time is not None


@pytest.mark.parametrize("operation", ["invoke_model", "invoke_model_with_response_stream"])
def test_invoke_model_calls_are_spans_too(
    bedrock_emulator: Emulator, otel: Telemetry, operation: str
) -> None:
    client = otel.cache.instrument(bedrock_emulator.client())
    for done, question in enumerate(("Where is my order?", "Can I get a refund?")):
        body = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 200,
            "system": SYSTEM,
            "messages": [{"role": "user", "content": question}],
        }
        response = getattr(client, operation)(modelId=MODEL, body=json.dumps(body))
        if operation == "invoke_model":
            response["body"].read()
        else:
            assert len(otel.finished()) == done  # open until the stream is read
            assert list(response["body"])
        assert len(otel.finished()) == done + 1
    write, read = otel.finished()
    assert read.name == f"chat {MODEL}"
    assert attrs(write)["gen_ai.usage.cache_creation.input_tokens"] > 0
    assert attrs(read)["gen_ai.usage.cache_read.input_tokens"] > 0


def test_a_failed_call_ends_its_span_with_the_error(
    bedrock_emulator: Emulator, otel: Telemetry
) -> None:
    client = otel.cache.instrument(bedrock_emulator.client())
    bedrock_emulator.inject_error("AccessDeniedException", message="no access")
    with pytest.raises(client.exceptions.AccessDeniedException):
        ask(client, "Where is my order?")
    (span,) = otel.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)["error.type"] == "AccessDeniedException"


async def test_langchain_model_calls_are_spans(bedrock_emulator: Emulator, otel: Telemetry) -> None:
    llm = with_bedrock_cache(
        ChatBedrockConverse(model=MODEL, **bedrock_emulator.connection_kwargs), otel.cache
    )
    llm.invoke([("system", SYSTEM), ("human", "Where is my order?")])
    chunks = list(llm.stream([("system", SYSTEM), ("human", "Can I get a refund?")]))
    assert chunks
    await llm.ainvoke([("system", SYSTEM), ("human", "Is there a warranty?")])
    spans = otel.finished()
    assert [s.name for s in spans] == [f"chat {MODEL}"] * 3
    assert all(attrs(s)["gen_ai.usage.cache_read.input_tokens"] > 0 for s in spans[1:])


async def test_llama_index_calls_are_spans(bedrock_emulator: Emulator, otel: Telemetry) -> None:
    llm = CachingBedrockConverse(
        model=MODEL, cache=otel.cache, **bedrock_emulator.connection_kwargs
    )
    system = ChatMessage(role="system", content=SYSTEM)
    llm.chat([system, ChatMessage(role="user", content="Where is my order?")])
    await llm.achat([system, ChatMessage(role="user", content="Can I get a refund?")])
    spans = otel.finished()
    assert [s.name for s in spans] == [f"chat {MODEL}"] * 2
    assert attrs(spans[1])["gen_ai.usage.cache_read.input_tokens"] > 0
    assert otel.counters()[("bedrock_cache.tokens", "cache_read")] > 0


def test_on_by_default_with_the_global_providers(bedrock_emulator: Emulator) -> None:
    """A program that configures the global SDK providers gets spans and metrics without naming
    the cache, also when it sets them after the cache was made (until then nothing is recorded,
    and the call skips the work) -- and so does a cache given the API's stand-ins for them."""
    connection = repr(bedrock_emulator.connection_kwargs)
    program = textwrap.dedent(
        f"""
        import json
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import boto3
        from bedrock_cache import BedrockCache
        from bedrock_cache.telemetry import OpenTelemetry

        client = BedrockCache().instrument(boto3.client("bedrock-runtime", **{connection}))
        stand_ins = OpenTelemetry(trace.get_tracer_provider(), metrics.get_meter_provider())
        named = BedrockCache(opentelemetry=stand_ins).instrument(
            boto3.client("bedrock-runtime", **{connection}))
        request = dict(modelId={MODEL!r}, messages=[{{"role": "user",
                       "content": [{{"text": "hi"}}]}}])
        client.converse(**request)  # no provider yet: nothing to record
        named.converse(**request)
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        client.converse(**request)
        named.converse(**request)
        names = [m.name for rm in reader.get_metrics_data().resource_metrics
                 for sm in rm.scope_metrics for m in sm.metrics]
        spans = [[s.name, dict(s.attributes)] for s in exporter.get_finished_spans()]
        print(json.dumps([spans, names]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    spans, metric_names = json.loads(out)
    assert [name for name, _ in spans] == [f"chat {MODEL}"] * 2
    assert all(attributes["gen_ai.system"] == "aws.bedrock" for _, attributes in spans)
    assert "bedrock_cache.tokens" in metric_names


def test_without_opentelemetry_installed_the_cache_works(bedrock_emulator: Emulator) -> None:
    """The ``otel`` extra is optional: with the package missing, nothing imports it."""
    connection = repr(bedrock_emulator.connection_kwargs)
    program = textwrap.dedent(
        f"""
        import sys
        sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed
        import boto3
        from bedrock_cache import BedrockCache

        cache = BedrockCache()
        assert cache.opentelemetry is None
        client = cache.instrument(boto3.client("bedrock-runtime", **{connection}))
        client.converse(modelId={MODEL!r}, messages=[{{"role": "user",
                        "content": [{{"text": "hi"}}]}}])
        print(cache.stats.total().requests)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "1"
