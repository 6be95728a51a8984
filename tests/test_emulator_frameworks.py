"""The real langchain-aws and llama-index Bedrock classes work against the emulator unmodified.

Invariant: pointed at ``emu.endpoint_url``, ``ChatBedrockConverse`` and ``BedrockConverse`` report
the emulator's cache reads and writes in their usual places, sync and streaming, counted once.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import pytest

from bedrock_cache import usage_from_langchain
from bedrock_cache.emulator import BedrockEmulator, ManualClock, Reply

langchain_aws = pytest.importorskip("langchain_aws")
llama_bedrock = pytest.importorskip("llama_index.llms.bedrock_converse")

from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage  # noqa: E402
from llama_index.core.llms import ChatMessage  # noqa: E402

MODEL = "us.anthropic.claude-sonnet-4-6"
# About 1,500 tokens (the emulator estimates ~4 characters a token), above Sonnet's 1,024 minimum.
SYSTEM = "You are the support assistant of Example Corp. Answer briefly and politely. " * 80

Emulator = BedrockEmulator[ManualClock]


def system_tokens(emu: Emulator) -> int:
    """What the cached system prompt weighs, as CountTokens reports it."""
    converse = {"system": [{"text": SYSTEM}], "messages": []}
    response = emu.client().count_tokens(modelId=MODEL, input={"converse": converse})
    return int(response["inputTokens"])


# -- langchain-aws -----------------------------------------------------------------------------


def chat_model(emu: Emulator) -> Any:
    return langchain_aws.ChatBedrockConverse(model=MODEL, **emu.connection_kwargs)


def cached_messages() -> list[Any]:
    cache_point = langchain_aws.ChatBedrockConverse.create_cache_point()
    system = SystemMessage(content=[{"type": "text", "text": SYSTEM}, cache_point])
    return [system, HumanMessage("Where is my order?")]


def test_langchain_invoke_reports_cache_write_then_read(bedrock_emulator: Emulator) -> None:
    llm = chat_model(bedrock_emulator)
    cached = system_tokens(bedrock_emulator)

    first = llm.invoke(cached_messages()).usage_metadata
    second = llm.invoke(cached_messages()).usage_metadata
    assert first is not None and second is not None
    # langchain-aws >= 1.0 moves writes to ephemeral_5m_input_tokens when Bedrock sends
    # cacheDetails, and counts cached tokens in input_tokens; 0.2.x reports cache_creation and
    # Bedrock's uncached inputTokens. The parsed numbers are the same either way.
    wrote, read = usage_from_langchain(first), usage_from_langchain(second)
    assert (wrote.cache_write_5m, wrote.cache_read) == (cached, 0)
    assert (read.cache_write_5m, read.cache_read) == (0, cached)
    assert wrote.uncached_input == read.uncached_input > 0


def test_langchain_stream_reports_usage_once_at_the_end(bedrock_emulator: Emulator) -> None:
    llm = chat_model(bedrock_emulator)
    cached = system_tokens(bedrock_emulator)
    llm.invoke(cached_messages())

    chunks: list[AIMessageChunk] = list(llm.stream(cached_messages()))
    with_usage = [i for i, chunk in enumerate(chunks) if chunk.usage_metadata]
    assert len(with_usage) == 1 and with_usage[0] >= len(chunks) - 2, "only the closing chunks"
    message = functools.reduce(operator.add, chunks)
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_token_details"]["cache_read"] == cached


def test_langchain_tool_call_from_a_scripted_reply(bedrock_emulator: Emulator) -> None:
    def lookup_order(order_id: str) -> str:
        """Find an order by id."""
        return "shipped"

    bedrock_emulator.script([Reply.tool_use("lookup_order", {"order_id": "42"})])
    llm = chat_model(bedrock_emulator).bind_tools([lookup_order])
    message = llm.invoke(cached_messages())
    assert [(call["name"], call["args"]) for call in message.tool_calls] == [
        ("lookup_order", {"order_id": "42"})
    ]


# -- llama-index -------------------------------------------------------------------------------


def llama_llm(emu: Emulator) -> Any:
    return llama_bedrock.BedrockConverse(
        model=MODEL,
        system_prompt_caching=True,  # llama-index appends a cachePoint after the system prompt
        max_retries=1,
        **emu.connection_kwargs,
    )


def llama_messages() -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(role="user", content="Where is my order?"),
    ]


def test_llama_index_chat_reports_cache_write_then_read(bedrock_emulator: Emulator) -> None:
    llm = llama_llm(bedrock_emulator)
    cached = system_tokens(bedrock_emulator)

    first = llm.chat(llama_messages()).additional_kwargs
    assert first["cache_creation_input_tokens"] == cached
    assert first["cache_read_input_tokens"] == 0
    second = llm.chat(llama_messages()).additional_kwargs
    assert second["cache_read_input_tokens"] == cached
    assert second["cache_creation_input_tokens"] == 0
    assert second["prompt_tokens"] == first["prompt_tokens"], "prompt_tokens is uncached only"


def test_llama_index_stream_chat_reports_usage_on_the_final_chunk(
    bedrock_emulator: Emulator,
) -> None:
    llm = llama_llm(bedrock_emulator)
    cached = system_tokens(bedrock_emulator)

    responses = list(llm.stream_chat(llama_messages()))
    final = responses[-1]
    assert final.additional_kwargs["cache_creation_input_tokens"] == cached
    assert final.message.content == llm.chat(llama_messages()).message.content
    assert not any("cache_read_input_tokens" in r.additional_kwargs for r in responses[:-1])
