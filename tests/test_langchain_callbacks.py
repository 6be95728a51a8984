"""Invariant: ``BedrockCacheCallbackHandler`` counts every chat-model run exactly once --
sync, async and streamed, under threads and ``asyncio.gather`` -- with the same numbers the
core recorded for the same calls, and a broken usage never fails the run."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

from langchain_aws import ChatBedrockConverse
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import support_system_prompt
from langchain_bedrock_cache import BedrockCacheCallbackHandler, with_bedrock_cache

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = SystemMessage(support_system_prompt())
Emulator = BedrockEmulator[ManualClock]


def cached_llm(emu: Emulator, cache: BedrockCache) -> ChatBedrockConverse:
    llm = ChatBedrockConverse(
        model=MODEL,
        **emu.connection_kwargs,
    )
    return with_bedrock_cache(llm, cache)


def ask(question: str) -> list[Any]:
    return [SYSTEM, HumanMessage(question)]


def assert_same_numbers(handler: BedrockCacheCallbackHandler, cache: BedrockCache) -> None:
    ours, core = handler.stats.total(), cache.stats.total()
    assert ours.requests == core.requests == len(handler.runs)
    assert ours.usage == core.usage
    assert abs(ours.cost - core.cost) < 1e-9
    assert abs(ours.cost_without_cache - core.cost_without_cache) < 1e-9


def test_sync_async_and_streamed_runs_are_counted_once(bedrock_emulator: Emulator) -> None:
    cache, handler = BedrockCache(), BedrockCacheCallbackHandler()
    llm = cached_llm(bedrock_emulator, cache)
    config: Any = {"callbacks": [handler]}
    llm.invoke(ask("one"), config)
    list(llm.stream(ask("two"), config))

    async def both() -> None:
        await llm.ainvoke(ask("three"), config)
        async for _ in llm.astream(ask("four"), config):
            pass

    asyncio.run(both())
    assert len(bedrock_emulator.requests) == 4
    assert_same_numbers(handler, cache)
    assert handler.stats.total().usage.cache_read > 0


def test_concurrent_threads_and_tasks(bedrock_emulator: Emulator) -> None:
    cache, handler = BedrockCache(), BedrockCacheCallbackHandler()
    llm = cached_llm(bedrock_emulator, cache)
    config: Any = {"callbacks": [handler]}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: llm.invoke(ask(f"thread {n}"), config), range(16)))
    llm.batch([ask(f"batch {n}") for n in range(6)], config)

    async def many() -> None:
        async def streamed(n: int) -> None:
            async for _ in llm.astream(ask(f"task {n}"), config):
                pass

        await asyncio.gather(
            *(llm.ainvoke(ask(f"task {n}"), config) for n in range(8)),
            *(streamed(n) for n in range(8)),
        )

    asyncio.run(many())
    assert len(handler.runs) == 16 + 6 + 16
    assert_same_numbers(handler, cache)


def test_per_run_reports_and_a_readable_summary(bedrock_emulator: Emulator) -> None:
    handler = BedrockCacheCallbackHandler()
    llm = cached_llm(bedrock_emulator, BedrockCache())
    for question in ("hello", "again", "and again", "last one"):
        llm.invoke(ask(question), {"callbacks": [handler]})
    reports = list(handler.runs.values())
    assert reports[0].usage.cache_read == 0 and reports[-1].usage.cache_read > 4_000
    assert reports[-1].model_id == MODEL
    assert reports[-1].cost.saved > 0
    text = str(handler)
    assert text == handler.summary()
    assert "4 LLM runs" in text and "token hit rate" in text and "saved $" in text
    handler.reset()
    assert handler.stats.total().requests == 0 and not handler.runs


def test_counts_uninstrumented_models_too(bedrock_emulator: Emulator) -> None:
    handler = BedrockCacheCallbackHandler()
    llm = ChatBedrockConverse(
        model=MODEL,
        **bedrock_emulator.connection_kwargs,
    )
    llm.invoke(
        [SYSTEM, HumanMessage(["hi", ChatBedrockConverse.create_cache_point()])],
        {"callbacks": [handler]},
    )
    assert handler.stats.total().usage.cache_write_5m > 4_000


def test_broken_usage_never_fails_the_run() -> None:
    handler = BedrockCacheCallbackHandler()
    broken = AIMessage.model_construct(
        content="answer",
        usage_metadata={"input_tokens": 3, "input_token_details": "not a mapping"},
        response_metadata={"model_name": MODEL},
    )
    result = LLMResult(generations=[[ChatGeneration.model_construct(message=broken)]])
    handler.on_llm_end(result, run_id=uuid4())
    assert handler.stats.total().requests == 0
    fake = GenericFakeChatModel(messages=iter([AIMessage("fine")]))
    assert fake.invoke("hi", {"callbacks": [handler]}).content == "fine"
    assert handler.stats.total().requests == 0
