"""Property: any LlamaIndex conversation (text, images, tool calls and results, hand-placed
``CachePoint`` blocks), on every caching model, sync, async or streaming, goes through
``CachingBedrockConverse`` without Bedrock rejecting it, never carries more checkpoints than the
model allows, and leaves the caller's messages exactly as they were."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llama_index.core.base.llms.types import CacheControl, CachePoint, ImageBlock, ToolCallBlock
from llama_index.core.llms import ChatMessage, TextBlock
from llama_index.core.tools import FunctionTool

from bedrock_cache import default_table
from bedrock_cache.emulator import BedrockEmulator
from integrations.shared import AGENT_TOOLS
from llama_index_bedrock_cache import CachingBedrockConverse

MODELS = sorted(spec.model_id for spec in default_table().models() if spec.supports_caching)
TOOLS = [FunctionTool.from_defaults(fn) for fn in AGENT_TOOLS[:3]]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
WORDS = ["refund", "invoice", "storage", "policy", "account", "shipping", "ledger", "status"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[BedrockEmulator[Any]]:
    with BedrockEmulator() as emu:
        yield emu


def point() -> CachePoint:
    return CachePoint(cache_control=CacheControl(type="default"))


@st.composite
def text(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8))
    repeat = draw(st.sampled_from([1, 10, 200, 900]))
    return " ".join(words * repeat)


@st.composite
def user_message(draw: st.DrawFn, manual_point: bool) -> ChatMessage:
    blocks: list[Any] = [TextBlock(text=draw(text()))]
    if draw(st.booleans()):
        blocks.append(
            ImageBlock(image=PNG + draw(st.binary(max_size=16)), image_mimetype="image/png")
        )
    if manual_point:
        blocks += [point(), TextBlock(text=draw(text()))]
    elif draw(st.booleans()):
        blocks.append(TextBlock(text=draw(text())))
    return ChatMessage(role="user", blocks=blocks)


@st.composite
def conversation(draw: st.DrawFn, with_tools: bool) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    if draw(st.booleans()):
        blocks: list[Any] = [TextBlock(text=draw(text()))]
        if draw(st.booleans()):
            blocks += [point(), TextBlock(text=draw(text()))]
        messages.append(ChatMessage(role="system", blocks=blocks))
    turns = draw(st.integers(min_value=0, max_value=3))
    manual_at = draw(st.integers(min_value=-1, max_value=turns))
    for turn in range(turns + 1):
        messages.append(draw(user_message(manual_point=turn == manual_at)))
        if turn == turns:
            break
        if with_tools and draw(st.booleans()):
            calls = draw(st.integers(min_value=1, max_value=3))
            ids = [f"tooluse_{turn}_{n}" for n in range(calls)]
            messages.append(
                ChatMessage(
                    role="assistant",
                    blocks=[
                        ToolCallBlock(
                            tool_call_id=call_id,
                            tool_name=draw(st.sampled_from(TOOLS)).metadata.name or "",
                            tool_kwargs={"query": "A-1001"},
                        )
                        for call_id in ids
                    ],
                )
            )
            messages += [
                ChatMessage(
                    role="tool", content=draw(text()), additional_kwargs={"tool_call_id": i}
                )
                for i in ids
            ]
        messages.append(ChatMessage(role="assistant", content=draw(text())))
    return messages


async def call(llm: Any, messages: list[ChatMessage], mode: str, with_tools: bool) -> None:
    if with_tools:
        if mode == "sync":
            llm.chat_with_tools(TOOLS, chat_history=messages)
        elif mode == "async":
            await llm.achat_with_tools(TOOLS, chat_history=messages)
        elif mode == "stream":
            list(llm.stream_chat_with_tools(TOOLS, chat_history=messages))
        else:
            async for _ in await llm.astream_chat_with_tools(TOOLS, chat_history=messages):
                pass
        return
    if mode == "sync":
        llm.chat(messages)
    elif mode == "async":
        await llm.achat(messages)
    elif mode == "stream":
        list(llm.stream_chat(messages))
    else:
        async for _ in await llm.astream_chat(messages):
            pass


def cache_points(request: dict[str, Any]) -> int:
    sections = [request.get("system") or [], (request.get("toolConfig") or {}).get("tools") or []]
    sections += [m["content"] for m in request.get("messages", [])]
    return sum("cachePoint" in block for section in sections for block in section)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    model=st.sampled_from(MODELS),
    mode=st.sampled_from(["sync", "async", "stream", "astream"]),
    with_tools=st.booleans(),
)
def test_any_conversation_is_accepted_and_unchanged(
    emulator: BedrockEmulator[Any], data: st.DataObject, model: str, mode: str, with_tools: bool
) -> None:
    messages = data.draw(conversation(with_tools))
    snapshot = copy.deepcopy(messages)
    llm = CachingBedrockConverse(
        model=model,
        **emulator.connection_kwargs,
        max_retries=1,
    )
    seen = len(emulator.requests)
    for _ in range(2):  # the second call meets the entries the first one wrote
        asyncio.run(call(llm, messages, mode, with_tools))
    new = emulator.requests[seen:]
    limit = default_table().resolve(model).spec.max_checkpoints
    assert len(new) == 2
    for record in new:
        assert record.error is None, record.error_message
        assert cache_points(record.request) <= limit
    assert messages == snapshot
