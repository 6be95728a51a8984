"""Every Bedrock call is reported exactly once -- sync, async and streaming, chat and
completion -- by the instrumentation event handler (with one ``BedrockCacheEvent`` per call on
the call's span) and by the legacy callback handler, with the cache fields that LlamaIndex's
``TokenCountingHandler`` drops, priced like the core prices them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.bridge.pydantic import Field
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.span_handlers import SimpleSpanHandler
from llama_index.core.llms import ChatMessage
from llama_index.llms.bedrock_converse import BedrockConverse
from llama_index_instrumentation import root_dispatcher

from bedrock_cache.emulator import BedrockEmulator
from integrations.shared import support_system_prompt
from llama_index_bedrock_cache import (
    BedrockCacheCallbackHandler,
    BedrockCacheEvent,
    BedrockCacheEventHandler,
    CachingBedrockConverse,
)

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = support_system_prompt(1_500)
MESSAGES = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content="Hi")]
PROMPT = SYSTEM + "\nHi"


def connection(emu: BedrockEmulator[Any]) -> dict[str, Any]:
    return {**emu.connection_kwargs, "max_retries": 1}


class Collector(BaseEventHandler):
    events: list[BedrockCacheEvent] = Field(default_factory=list)

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, BedrockCacheEvent):
            self.events.append(event)


@pytest.fixture
def handler() -> Iterator[BedrockCacheEventHandler]:
    handler = BedrockCacheEventHandler.register()
    yield handler
    handler.unregister()


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector(events=[])
    root_dispatcher.add_event_handler(collector)
    yield collector
    root_dispatcher.event_handlers.remove(collector)


async def every_path(llm: Any) -> None:
    llm.chat(MESSAGES)
    for _ in llm.stream_chat(MESSAGES):
        pass
    await llm.achat(MESSAGES)
    async for _ in await llm.astream_chat(MESSAGES):
        pass
    llm.complete(PROMPT)
    for _ in llm.stream_complete(PROMPT):
        pass
    await llm.acomplete(PROMPT)
    async for _ in await llm.astream_complete(PROMPT):
        pass


async def test_each_call_is_counted_once(
    bedrock_emulator: BedrockEmulator[Any],
    handler: BedrockCacheEventHandler,
    collector: Collector,
) -> None:
    llm = CachingBedrockConverse(model=MODEL, **connection(bedrock_emulator))
    await every_path(llm)
    requests = bedrock_emulator.requests
    assert len(requests) == 8
    total = handler.stats.total()
    assert total.requests == 8
    assert total.usage == llm.cache.stats.total().usage
    assert total.usage.cache_read == sum((r.usage or {})["cacheReadInputTokens"] for r in requests)
    assert total.cost == pytest.approx(llm.cache.stats.total().cost)
    assert total.saved > 0
    assert [e.report["cache_read_tokens"] for e in collector.events] == [
        (r.usage or {})["cacheReadInputTokens"] for r in requests
    ]
    assert all(e.span_id for e in collector.events)
    assert all("plan" in report for report in handler.reports)  # each call was planned
    assert "8 requests" in handler.summary() and str(handler) == handler.summary()


async def test_unplanned_bedrock_converse_is_measured_too(
    bedrock_emulator: BedrockEmulator[Any], handler: BedrockCacheEventHandler
) -> None:
    llm = BedrockConverse(model=MODEL, system_prompt_caching=True, **connection(bedrock_emulator))
    await every_path(llm)
    total = handler.stats.total()
    assert total.requests == 8
    assert total.usage.cache_read == sum(
        (r.usage or {})["cacheReadInputTokens"] for r in bedrock_emulator.requests
    )
    assert total.usage.cache_read > 0 and total.cost > 0
    assert {report["model_id"] for report in handler.reports} == {MODEL}


def test_span_of_the_call_gets_cache_tags(
    bedrock_emulator: BedrockEmulator[Any], handler: BedrockCacheEventHandler
) -> None:
    spans = SimpleSpanHandler()
    root_dispatcher.add_span_handler(spans)
    try:
        llm = CachingBedrockConverse(model=MODEL, **connection(bedrock_emulator))
        llm.chat(MESSAGES)
        llm.chat(MESSAGES)
    finally:
        root_dispatcher.span_handlers.remove(spans)
    tagged = [s for s in spans.completed_spans if "bedrock_cache.cache_read_tokens" in s.tags]
    assert [s.tags["bedrock_cache.cache_read_tokens"] for s in tagged] == [
        (r.usage or {})["cacheReadInputTokens"] for r in bedrock_emulator.requests
    ]
    assert [s.tags["bedrock_cache.miss_cause"] for s in tagged] == ["first_seen", None]


async def test_legacy_callback_handler_counts_each_call_once(
    bedrock_emulator: BedrockEmulator[Any],
) -> None:
    callbacks = BedrockCacheCallbackHandler()
    llm = CachingBedrockConverse(
        model=MODEL, callback_manager=CallbackManager([callbacks]), **connection(bedrock_emulator)
    )
    await every_path(llm)
    total = callbacks.stats.total()
    assert total.requests == 8
    assert total.usage == llm.cache.stats.total().usage
    assert total.usage.cache_read > 0
    assert len(callbacks.reports) == 8 and "8 requests" in str(callbacks)
