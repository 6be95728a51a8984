"""Invariant: ``with_bedrock_cache(llm)`` plans every LCEL path of the model -- ``prompt | llm``,
``bind_tools``, ``invoke``/``ainvoke``, ``stream``/``astream`` and ``batch`` -- and each answer
carries its numbers in ``response_metadata["bedrockCache"]``."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_aws import ChatBedrockConverse
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool

from bedrock_cache import RESPONSE_KEY, BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import AGENT_TOOLS, support_system_prompt
from langchain_bedrock_cache import with_bedrock_cache

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


def converse(emu: Emulator) -> ChatBedrockConverse:
    return ChatBedrockConverse(
        model=MODEL,
        **emu.connection_kwargs,
    )


PROMPT = ChatPromptTemplate.from_messages(
    [("system", support_system_prompt().replace("{", "{{")), ("human", "{question}")]
)


WARM_UP = ("hello",)


def warm_up(chain: Any) -> None:
    """One question writes the system prompt to the cache."""
    for question in WARM_UP:
        chain.invoke({"question": question})


def read_tokens(message: Any) -> int:
    report: dict[str, Any] = message.response_metadata[RESPONSE_KEY]
    return int(report["cache_read_tokens"])


def test_returns_the_same_model_with_its_calls_planned(bedrock_emulator: Emulator) -> None:
    llm = converse(bedrock_emulator)
    cache = BedrockCache()
    assert with_bedrock_cache(llm, cache) is llm
    chain = PROMPT | llm
    warm_up(chain)
    answer = chain.invoke({"question": "refunds?"})
    assert read_tokens(answer) > 4_000
    assert cache.stats.total().requests == len(WARM_UP) + 1


def test_bind_tools_and_batch(bedrock_emulator: Emulator) -> None:
    llm = with_bedrock_cache(converse(bedrock_emulator))
    chain = PROMPT | llm.bind_tools([tool(fn) for fn in AGENT_TOOLS])
    warm_up(chain)
    answers = chain.batch([{"question": f"question {n}"} for n in range(4)])
    assert all(read_tokens(answer) > 4_000 for answer in answers)
    first = bedrock_emulator.requests[0].request
    assert first["toolConfig"]["tools"][-1] == {"cachePoint": {"type": "default"}}


def test_stream_reports_on_the_final_chunk(bedrock_emulator: Emulator) -> None:
    chain = PROMPT | with_bedrock_cache(converse(bedrock_emulator))
    warm_up(chain)
    chunks = list(chain.stream({"question": "streamed"}))
    with_report = [c for c in chunks if RESPONSE_KEY in c.response_metadata]
    assert len(with_report) == 1
    assert read_tokens(with_report[0]) > 4_000


async def test_ainvoke_and_astream(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache()
    chain = PROMPT | with_bedrock_cache(converse(bedrock_emulator), cache)
    for question in WARM_UP:
        first = await chain.ainvoke({"question": question})
        assert isinstance(first, AIMessage)
    merged: AIMessageChunk | None = None
    async for chunk in chain.astream({"question": "async stream"}):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None
    assert read_tokens(merged) > 4_000
    assert cache.stats.total().requests == len(WARM_UP) + 1


def test_policy_keywords_and_wrong_models(bedrock_emulator: Emulator) -> None:
    llm = with_bedrock_cache(converse(bedrock_emulator), cache_system=False, max_checkpoints=1)
    PROMPT.invoke({"question": "x"})
    (PROMPT | llm).invoke({"question": "x"})
    assert str(bedrock_emulator.requests[-1].request).count("cachePoint") <= 1
    with pytest.raises(TypeError, match="ChatBedrockConverse"):
        with_bedrock_cache(GenericFakeChatModel(messages=iter([])))
    with pytest.raises(TypeError):
        with_bedrock_cache(llm, BedrockCache(), cache_system=False)
