"""Invariant (property): for random conversations built as LangChain messages -- text, tool
calls with ToolMessages, signed reasoning blocks, small images, manual
``ChatBedrockConverse.create_cache_point()`` blocks -- on every caching model of the default
table, sync, async and streamed, the planned request is never rejected by the emulator, never
carries more checkpoints than the model allows, and the caller's messages and tools are
unchanged."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool, tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from bedrock_cache import BedrockCache, ModelSpec, default_table
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import AGENT_TOOLS
from langchain_bedrock_cache import with_bedrock_cache

Emulator = BedrockEmulator[ManualClock]
CACHING_MODELS = sorted(
    (spec for spec in default_table().models() if spec.supports_caching),
    key=lambda spec: spec.model_id,
)
TOOLS: list[BaseTool] = [tool(fn) for fn in AGENT_TOOLS]
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
).decode()
SIZES = st.sampled_from([1, 40, 300, 1_100, 2_500])


def words(tokens: int, seed: int) -> str:
    return " ".join(f"w{seed}x{n}" for n in range(max(1, tokens)))


@st.composite
def human(draw: st.DrawFn, seed: int, manual: list[int]) -> HumanMessage:
    blocks: list[Any] = [{"type": "text", "text": words(draw(SIZES), seed)}]
    if draw(st.booleans()):
        # The image block form every supported langchain-aws (0.2.22 and later) accepts.
        source = {"type": "base64", "mediaType": "image/png", "data": PNG}
        blocks.append({"type": "image", "source": source})
    if draw(st.booleans()):
        blocks.append({"type": "text", "text": words(draw(SIZES), seed + 1)})
    if len(manual) < 2 and draw(st.integers(0, 5)) == 0:
        manual.append(seed)
        blocks.append(ChatBedrockConverse.create_cache_point())
    return HumanMessage(blocks)


@st.composite
def assistant(draw: st.DrawFn, seed: int, tool_count: int) -> list[BaseMessage]:
    content: list[Any] = []
    if draw(st.booleans()):
        reasoning = {"text": words(draw(SIZES), seed), "signature": f"sig{seed}"}
        content.append({"type": "reasoning_content", "reasoning_content": reasoning})
    content.append({"type": "text", "text": words(draw(SIZES), seed + 2)})
    calls = draw(st.integers(0, min(tool_count, 12)))
    tool_calls = [
        {
            "name": TOOLS[n].name,
            "args": {"query": f"q{seed}"},
            "id": f"tooluse_{seed}_{n}",
            "type": "tool_call",
        }
        for n in range(calls)
    ]
    results: list[BaseMessage] = [
        ToolMessage(words(draw(SIZES), seed + n), tool_call_id=call["id"])
        for n, call in enumerate(tool_calls)
    ]
    return [AIMessage(content, tool_calls=tool_calls), *results]


@st.composite
def conversations(draw: st.DrawFn) -> tuple[ModelSpec, list[BaseMessage], int, str]:
    spec = draw(st.sampled_from(CACHING_MODELS))
    tool_count = draw(st.sampled_from([0, 1, 20]))
    manual: list[int] = []
    system = [{"type": "text", "text": words(draw(SIZES), 0)}]
    if draw(st.integers(0, 4)) == 0:
        manual.append(0)
        system.append(ChatBedrockConverse.create_cache_point())
    messages: list[BaseMessage] = [SystemMessage(system)]  # type: ignore[arg-type]
    for turn in range(draw(st.integers(1, 4))):
        messages.append(draw(human(100 * turn + 1, manual)))
        if draw(st.booleans()) or turn < 1:
            messages += draw(assistant(100 * turn + 50, tool_count))
    if not isinstance(messages[-1], HumanMessage | ToolMessage):
        messages.append(draw(human(999, manual)))
    mode = draw(st.sampled_from(["invoke", "ainvoke", "stream", "astream"]))
    return spec, messages, tool_count, mode


def call(llm: Any, messages: list[BaseMessage], mode: str) -> Any:
    if mode == "invoke":
        return llm.invoke(messages)
    if mode == "stream":
        return list(llm.stream(messages))

    async def run() -> Any:
        if mode == "ainvoke":
            return await llm.ainvoke(messages)
        return [chunk async for chunk in llm.astream(messages)]

    return asyncio.run(run())


def snapshot(messages: list[BaseMessage], tools: list[BaseTool]) -> str:
    dumped = [m.model_dump() for m in messages]
    return json.dumps([dumped, [convert_to_openai_tool(t) for t in tools]], sort_keys=True)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=conversations())
def test_planned_requests_are_always_accepted(
    bedrock_emulator: Emulator, case: tuple[ModelSpec, list[BaseMessage], int, str]
) -> None:
    spec, messages, tool_count, mode = case
    llm = ChatBedrockConverse(
        model=spec.model_id,
        **bedrock_emulator.connection_kwargs,
    )
    with_bedrock_cache(llm, BedrockCache())
    tools = TOOLS[:tool_count]
    bound = llm.bind_tools(tools) if tools else llm
    before = snapshot(messages, tools)
    original = copy.deepcopy(messages)
    seen = len(bedrock_emulator.requests)
    call(bound, messages, mode)
    record = bedrock_emulator.requests[seen]
    assert record.error is None, record.error_message
    assert json.dumps(record.request, default=str).count('"cachePoint"') <= spec.max_checkpoints
    assert snapshot(messages, tools) == before
    assert messages == original
