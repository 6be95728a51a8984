"""Invariant: the stats count calls the way Bedrock bills them.

Throttled, failed, timed-out and cut calls appear as such; usage is counted exactly once
whenever Bedrock reports it -- also when a stream breaks off after its metadata event; the
instrumented stream is botocore's own ``EventStream``; and a request the caller built wrong is
reported by botocore with the caller's own block indexes.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.config import Config
from botocore.eventstream import EventStream
from botocore.exceptions import ClientError, EventStreamError, ParamValidationError
from langchain_aws import ChatBedrockConverse

from bedrock_cache import BedrockCache, usage_from_converse
from bedrock_cache.emulator import BedrockEmulator, ManualClock, SimulatedLatency
from langchain_bedrock_cache import BedrockCacheCallbackHandler, with_bedrock_cache

Emulator = BedrockEmulator[ManualClock]
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = [{"text": "You are a support assistant. " + "Policy: be helpful and exact. " * 550}]
MESSAGES = [{"role": "user", "content": [{"text": "Where is my order?"}]}]


def planned_client(emulator: Emulator, **config: Any) -> tuple[BedrockCache, Any]:
    cache = BedrockCache()
    return cache, cache.instrument(emulator.client(**config))


@pytest.mark.parametrize(
    ("code", "counted_as"),
    [
        ("ThrottlingException", "throttled"),
        ("ModelTimeoutException", "timed_out"),
        ("InternalServerException", "failed"),
    ],
)
def test_refused_calls_are_counted_by_kind(
    bedrock_emulator: Emulator, code: str, counted_as: str
) -> None:
    cache, client = planned_client(bedrock_emulator)
    bedrock_emulator.inject_error(code, times=2)
    for call in (client.converse, client.converse_stream):
        with pytest.raises(ClientError):
            call(modelId=SONNET, system=SYSTEM, messages=MESSAGES)
    total = cache.stats.total()
    assert getattr(total, counted_as) == 2 and total.unfinished == 2
    assert total.requests == 0 and total.usage.total_input == 0  # refused: nothing billed
    assert f"2 {counted_as.replace('_', ' ')}" in cache.summary()


def test_a_read_timeout_is_counted_as_timed_out() -> None:
    with BedrockEmulator(latency=SimulatedLatency(base_ms=1500)) as emulator:
        cache, client = planned_client(emulator, read_timeout=0.3)
        with pytest.raises(Exception, match="timeout"):
            client.converse(modelId=SONNET, system=SYSTEM, messages=MESSAGES)
    assert cache.stats.total().timed_out == 1


def test_a_stream_cut_before_its_metadata_is_counted_as_cut(bedrock_emulator: Emulator) -> None:
    cache, client = planned_client(bedrock_emulator)
    bedrock_emulator.inject_stream_error(after_events=2)
    stream = client.converse_stream(modelId=SONNET, system=SYSTEM, messages=MESSAGES)["stream"]
    with pytest.raises(EventStreamError):
        list(stream)
    total = cache.stats.total()
    assert (total.cut, total.requests) == (1, 0)


def test_an_error_after_the_metadata_event_counts_usage_once(bedrock_emulator: Emulator) -> None:
    cache, client = planned_client(bedrock_emulator)
    bedrock_emulator.inject_stream_error(after_events=1_000)  # after every event, metadata too
    stream = client.converse_stream(modelId=SONNET, system=SYSTEM, messages=MESSAGES)["stream"]
    seen: list[dict[str, Any]] = []
    with pytest.raises(EventStreamError):
        for event in stream:
            seen.append(event)
    reported = usage_from_converse(seen[-1]["metadata"]["usage"])
    total = cache.stats.total()
    assert (total.requests, total.cut) == (1, 1)
    assert total.usage == reported


def test_the_instrumented_stream_is_a_botocore_event_stream(bedrock_emulator: Emulator) -> None:
    cache, client = planned_client(bedrock_emulator)
    stream = client.converse_stream(modelId=SONNET, system=SYSTEM, messages=MESSAGES)["stream"]
    assert isinstance(stream, EventStream)
    duplicate = copy.copy(stream)
    events = list(duplicate)
    assert events[-1]["metadata"]["usage"] and list(stream) == []  # one body, read once
    stream.close()
    assert cache.stats.total().requests == 1 and cache.stats.total().cut == 0

    abandoned = client.converse_stream(modelId=SONNET, system=SYSTEM, messages=MESSAGES)["stream"]
    next(iter(abandoned))
    abandoned.close()
    assert cache.stats.total().cut == 1


def test_validation_errors_name_the_callers_own_blocks(bedrock_emulator: Emulator) -> None:
    _, client = planned_client(bedrock_emulator)
    content = [
        {"text": "Shared context. " * 1500},
        {"text": "First question?"},
        {"text": "Second question?", "extra": 1},  # the caller's mistake, at content[2]
    ]
    with pytest.raises(ParamValidationError, match=r"messages\[0\]\.content\[2\]"):
        client.converse(
            modelId=SONNET, system=SYSTEM, messages=[{"role": "user", "content": content}]
        )


def test_langchain_handler_counts_a_throttled_run(bedrock_emulator: Emulator) -> None:
    handler = BedrockCacheCallbackHandler()
    cache = BedrockCache()
    llm = with_bedrock_cache(
        ChatBedrockConverse(
            model=SONNET,
            config=Config(retries={"total_max_attempts": 1}),  # botocore would retry a throttle
            **bedrock_emulator.connection_kwargs,
        ),
        cache,
    )
    bedrock_emulator.inject_error("ThrottlingException")
    with pytest.raises(ClientError):
        llm.invoke("hi", {"callbacks": [handler]})
    llm.invoke("hi", {"callbacks": [handler]})
    for stats in (handler.stats, cache.stats):
        assert (stats.total().throttled, stats.total().requests) == (1, 1)
