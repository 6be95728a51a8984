"""Invariant: memory stays flat however long an app runs, and no call loses its model.

Totals cover every call; per-call detail is a bounded recent window; in-flight state is keyed by
run or span id and released when the call ends or fails. The handlers are driven through the
frameworks' own callback dispatch (LangChain's ``CallbackManager``, LlamaIndex's dispatcher and
``CallbackManager``) with real framework objects, 50,000 calls each.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from uuid import uuid4

import pytest
from langchain_core.callbacks import CallbackManager as LangChainCallbacks
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent, LLMChatStartEvent
from llama_index_instrumentation.events.span import SpanDropEvent

from bedrock_cache import BedrockCache, CacheUsage, resolve_model
from langchain_bedrock_cache import BedrockCacheCallbackHandler as LangChainHandler
from llama_index_bedrock_cache import BedrockCacheCallbackHandler, BedrockCacheEventHandler

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CALLS = 50_000
TRACED = 5_000
USAGE = {"inputTokens": 10, "outputTokens": 5, "cacheReadInputTokens": 2000}


def growth_over(calls: Callable[[int], None]) -> int:
    """Run ``CALLS`` calls; the bytes the last ``TRACED`` of them added to what the ``TRACED``
    before them left allocated. The bounded windows turn over within the first traced batch, so
    anything kept per call shows in the second (~100 bytes x 5,000)."""
    calls(CALLS - 2 * TRACED)
    tracemalloc.start()
    try:
        calls(TRACED)
        middle = tracemalloc.get_traced_memory()[0]
        calls(TRACED)
        return tracemalloc.get_traced_memory()[0] - middle
    finally:
        tracemalloc.stop()


def test_langchain_handler_keeps_totals_not_every_run() -> None:
    handler = LangChainHandler(recent=100)
    callbacks = LangChainCallbacks([handler])
    message = AIMessage(
        "ok",
        usage_metadata={"input_tokens": 2010, "output_tokens": 5, "total_tokens": 2015},
        response_metadata={"model_name": SONNET},
    )
    result = LLMResult(generations=[[ChatGeneration(message=message)]])
    prompt = [[HumanMessage("hi")]]

    def calls(count: int) -> None:
        for index in range(count):
            (run,) = callbacks.on_chat_model_start(
                {}, prompt, run_id=uuid4(), invocation_params={"model": SONNET}
            )
            if index % 5 == 4:
                run.on_llm_error(RuntimeError("throttled"))
            else:
                run.on_llm_end(result)

    assert growth_over(calls) < 100_000
    assert handler.stats.total().requests == 40_000
    assert len(handler.runs) == 100 and len(handler.stats.recent()) == 100
    assert str(handler).startswith("Bedrock prompt cache, 40000 LLM runs")


@pytest.fixture
def event_handler() -> Iterator[BedrockCacheEventHandler]:
    handler = BedrockCacheEventHandler.register(emit_events=False, recent=100)
    yield handler
    handler.unregister()


def chat_end(span_id: str) -> LLMChatEndEvent:
    return LLMChatEndEvent(
        messages=[],
        response=ChatResponse(message=ChatMessage(content="ok"), raw={"usage": dict(USAGE)}),
        span_id=span_id,
    )


def chat_start(span_id: str) -> LLMChatStartEvent:
    return LLMChatStartEvent(
        messages=[], additional_kwargs={}, model_dict={"model": SONNET}, span_id=span_id
    )


def test_llama_index_event_handler_releases_ended_and_failed_calls(
    event_handler: BedrockCacheEventHandler,
) -> None:
    dispatcher = get_dispatcher("tests.long_run")

    def calls(count: int) -> None:
        for index in range(count):
            span_id = f"chat-{uuid4()}"
            dispatcher.event(chat_start(span_id))
            if index % 2:
                dispatcher.event(SpanDropEvent(span_id=span_id, err_str="throttled"))
            else:
                dispatcher.event(chat_end(span_id))

    assert growth_over(calls) < 100_000
    assert event_handler.stats.total().requests == 25_000
    assert len(event_handler.reports) == 100


def test_llama_index_callback_handler_releases_ended_and_failed_calls() -> None:
    handler = BedrockCacheCallbackHandler(recent=100)
    manager = CallbackManager([handler])
    serialized = {"model": SONNET}

    def calls(count: int) -> None:
        for index in range(count):
            with manager.as_trace("chat"):  # as a query engine or chat engine does per question
                event_id = manager.on_event_start(
                    CBEventType.LLM, payload={EventPayload.SERIALIZED: serialized}
                )
                response = ChatResponse(message=ChatMessage(content="ok"), raw={"usage": USAGE})
                failed = {EventPayload.EXCEPTION: RuntimeError("throttled")}
                payload = failed if index % 2 else {EventPayload.RESPONSE: response}
                manager.on_event_end(CBEventType.LLM, payload=payload, event_id=event_id)

    assert growth_over(calls) < 100_000
    assert handler.stats.total().requests == 25_000


def test_thousands_of_calls_in_flight_keep_their_model(
    event_handler: BedrockCacheEventHandler,
) -> None:
    dispatcher = get_dispatcher("tests.in_flight")
    spans = [f"chat-{index}" for index in range(3_000)]
    for span_id in spans:
        dispatcher.event(chat_start(span_id))
    for span_id in spans:
        dispatcher.event(chat_end(span_id))
    assert list(event_handler.stats.by_model()) == [SONNET]
    one = BedrockCache().record(resolve_model(SONNET), CacheUsage(2000, 0, 0, 10, 5)).cost.total
    assert event_handler.stats.total().cost == pytest.approx(3_000 * one)
