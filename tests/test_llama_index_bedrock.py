"""LlamaIndex's ``Bedrock`` LLM (llama-index-llms-bedrock, InvokeModel) is cached like
``BedrockConverse``.

Invariant: ``with_bedrock_cache(Bedrock(...))`` puts ``cache_control`` on the system prompt of
the Anthropic body it sends, the next call reads it back, and ``chat``, ``stream_chat`` and
``achat`` are each counted exactly once -- the event handler's numbers equal the core's -- while
the caller's messages are untouched.
"""

from __future__ import annotations

import asyncio
import copy
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import support_system_prompt
from llama_index_bedrock_cache import BedrockCacheEventHandler, cache_of, with_bedrock_cache

with warnings.catch_warnings():  # the package points users to BedrockConverse on import
    warnings.simplefilter("ignore")
    from llama_index.llms.bedrock import Bedrock

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


@pytest.fixture
def handler() -> Iterator[BedrockCacheEventHandler]:
    handler = BedrockCacheEventHandler.register()
    yield handler
    handler.unregister()


def bedrock(emu: Emulator) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Bedrock(model=MODEL, context_size=200_000, max_tokens=300, client=emu.client())


def test_chat_stream_and_async_are_cached_and_counted_once(
    bedrock_emulator: Emulator, handler: BedrockCacheEventHandler
) -> None:
    llm = with_bedrock_cache(bedrock(bedrock_emulator))
    messages = [
        ChatMessage(role="system", content=support_system_prompt()),
        ChatMessage(role="user", content="Where is my order?"),
    ]
    before = copy.deepcopy(messages)

    first = llm.chat(messages)
    chunks = list(llm.stream_chat(messages))
    asyncio.run(llm.achat(messages))

    assert messages == before
    sent = bedrock_emulator.requests
    assert [r.operation for r in sent] == [
        "InvokeModel",
        "InvokeModelWithResponseStream",
        "InvokeModel",
    ]
    assert sent[0].request["system"][-1]["cache_control"] == {"type": "ephemeral"}
    written = first.raw["usage"]["cache_creation_input_tokens"]
    assert written >= 4_000
    assert chunks[-1].raw["amazon-bedrock-invocationMetrics"]["cacheReadInputTokenCount"] == written

    cache = cache_of(llm)
    assert cache is not None
    core, ours = cache.stats.total(), handler.stats.total()
    assert core.requests == ours.requests == 3
    assert ours.usage == core.usage
    # The prefix is written once; seen again, the short question after it is written too.
    assert written <= core.usage.cache_write < written + 50
    assert core.usage.cache_read >= 2 * written
