"""Every call path of a wrapped BedrockConverse is planned once, never mutates the caller's
objects, keeps framework-placed checkpoints without duplicating them, and survives plugin
failures (the request then goes out as built)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import CacheControl, CachePoint
from llama_index.core.llms import ChatMessage, TextBlock
from llama_index.core.tools import FunctionTool
from llama_index.llms.bedrock_converse import BedrockConverse

from bedrock_cache import RESPONSE_KEY, BedrockCache, CachePolicy
from bedrock_cache.emulator import BedrockEmulator, Reply
from integrations.shared import AGENT_TOOLS, support_system_prompt
from llama_index_bedrock_cache import CachingBedrockConverse, cache_of, with_bedrock_cache

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = support_system_prompt(2_000)


def connection(emu: BedrockEmulator[Any]) -> dict[str, Any]:
    return {**emu.connection_kwargs, "max_retries": 1}


def conversation() -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(role="user", content="Hi, I want to return a plan."),
        ChatMessage(role="assistant", content="Sure, which plan?"),
        ChatMessage(role="user", content="The 2 TB plan."),
    ]


def cache_points(request: dict[str, Any]) -> int:
    sections = [request.get("system") or [], (request.get("toolConfig") or {}).get("tools") or []]
    sections += [m["content"] for m in request.get("messages", [])]
    return sum("cachePoint" in block for section in sections for block in section)


def tools() -> list[FunctionTool]:
    return [FunctionTool.from_defaults(fn) for fn in AGENT_TOOLS]


async def consume(result: Any) -> Any:
    last = None
    if isinstance(result, AsyncIterator):
        async for item in result:
            last = item
        return last
    if isinstance(result, Iterator):
        for item in result:
            last = item
        return last
    return result


async def stream_of(call: Awaitable[Any]) -> Any:
    return await consume(await call)


PATHS: dict[str, Callable[[Any, list[ChatMessage]], Any]] = {
    "chat": lambda llm, msgs: llm.chat(msgs),
    "stream_chat": lambda llm, msgs: llm.stream_chat(msgs),
    "achat": lambda llm, msgs: llm.achat(msgs),
    "astream_chat": lambda llm, msgs: stream_of(llm.astream_chat(msgs)),
    "complete": lambda llm, msgs: llm.complete(SYSTEM + "\nQuestion: refunds?"),
    "stream_complete": lambda llm, msgs: llm.stream_complete(SYSTEM + "\nQuestion: refunds?"),
    "acomplete": lambda llm, msgs: llm.acomplete(SYSTEM + "\nQuestion: refunds?"),
    "astream_complete": lambda llm, msgs: stream_of(
        llm.astream_complete(SYSTEM + "\nQuestion: refunds?")
    ),
    "chat_with_tools": lambda llm, msgs: llm.chat_with_tools(tools(), chat_history=msgs),
    "achat_with_tools": lambda llm, msgs: llm.achat_with_tools(tools(), chat_history=msgs),
    "stream_chat_with_tools": lambda llm, msgs: llm.stream_chat_with_tools(
        tools(), chat_history=msgs
    ),
    "astream_chat_with_tools": lambda llm, msgs: stream_of(
        llm.astream_chat_with_tools(tools(), chat_history=msgs)
    ),
}


async def run_path(name: str, llm: Any, msgs: list[ChatMessage]) -> Any:
    result = PATHS[name](llm, msgs)
    if isinstance(result, Awaitable):
        result = await result
    return await consume(result)


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_every_path_is_planned_and_reported_once(
    bedrock_emulator: BedrockEmulator[Any], path: str
) -> None:
    llm = CachingBedrockConverse(model=MODEL, **connection(bedrock_emulator))
    for _ in range(3):  # a prompt seen again is written, and read from then on
        final = await run_path(path, llm, conversation())
    requests = bedrock_emulator.requests
    assert len(requests) == 3 and all(r.error is None for r in requests)
    assert all(cache_points(r.request) >= 1 for r in requests[1:])
    assert requests[2].outcome is not None and requests[2].outcome.cache_read > 0
    assert llm.cache.stats.total().requests == 3
    raw = final.raw
    report = raw.get(RESPONSE_KEY) or raw["metadata"][RESPONSE_KEY]
    assert report["cache_read_tokens"] == requests[2].outcome.cache_read


def test_predict_and_call_is_planned(bedrock_emulator: BedrockEmulator[Any]) -> None:
    bedrock_emulator.script([Reply.tool_use("lookup_orders", {"query": "A-1001"})])
    llm = CachingBedrockConverse(model=MODEL, system_prompt=SYSTEM, **connection(bedrock_emulator))
    output = llm.predict_and_call(tools(), chat_history=conversation())
    assert "orders record" in str(output)
    [request] = bedrock_emulator.requests
    assert cache_points(request.request) >= 1
    assert llm.cache.stats.total().requests == 1


def test_with_bedrock_cache_wraps_an_existing_instance(
    bedrock_emulator: BedrockEmulator[Any],
) -> None:
    shared = BedrockCache(CachePolicy(static_ttl="1h"))
    llm = BedrockConverse(model=MODEL, **connection(bedrock_emulator))
    assert with_bedrock_cache(llm, shared) is llm
    assert cache_of(llm) is shared
    llm.chat(conversation())
    [request] = bedrock_emulator.requests
    assert cache_points(request.request) >= 1
    assert shared.stats.total().requests == 1


def test_policy_options_pass_through_and_conflicts_are_refused(
    bedrock_emulator: BedrockEmulator[Any],
) -> None:
    llm = CachingBedrockConverse(model=MODEL, max_checkpoints=1, **connection(bedrock_emulator))
    assert llm.cache.policy == CachePolicy(max_checkpoints=1)
    llm.chat(conversation())
    assert cache_points(bedrock_emulator.requests[0].request) == 1
    with pytest.raises(TypeError):
        with_bedrock_cache(llm, BedrockCache(), max_checkpoints=2)
    with pytest.raises(TypeError):
        with_bedrock_cache(llm, cache_everything=True)


@pytest.mark.parametrize("streaming", [False, True])
def test_framework_checkpoints_are_kept_never_duplicated(
    bedrock_emulator: BedrockEmulator[Any], streaming: bool
) -> None:
    llm = CachingBedrockConverse(
        model=MODEL,
        system_prompt_caching=True,
        tool_caching=True,
        **connection(bedrock_emulator),
    )
    history = conversation()
    history[-1] = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="The 2 TB plan. " * 400),
            CachePoint(cache_control=CacheControl(type="default")),
            TextBlock(text="Thanks!"),
        ],
    )
    for _ in range(2):
        if streaming:
            list(llm.stream_chat_with_tools(tools(), chat_history=history, tool_caching=True))
        else:
            llm.chat_with_tools(tools(), chat_history=history, tool_caching=True)
    for record in bedrock_emulator.requests:
        request = record.request
        assert record.error is None
        tool_points = [b for b in request["toolConfig"]["tools"] if "cachePoint" in b]
        assert len(tool_points) == 1 and "cachePoint" in request["toolConfig"]["tools"][-1]
        assert sum("cachePoint" in b for b in request["system"]) == 1
        assert cache_points(request) <= 4
    outcome = bedrock_emulator.requests[1].outcome
    assert outcome is not None and outcome.cache_read > 0


async def test_caller_objects_are_never_mutated(bedrock_emulator: BedrockEmulator[Any]) -> None:
    llm = CachingBedrockConverse(model=MODEL, **connection(bedrock_emulator))
    history = conversation()
    snapshot = copy.deepcopy(history)
    for path in PATHS:
        await run_path(path, llm, history)
    assert history == snapshot
    tools_history = conversation()
    llm.chat_with_tools(tools(), user_msg="And my invoice?", chat_history=tools_history)
    assert tools_history == conversation()


class BrokenEstimator:
    def block_tokens(self, *args: Any, **kwargs: Any) -> int:
        raise RuntimeError("estimator is broken")


def test_a_plugin_failure_never_fails_the_call(bedrock_emulator: BedrockEmulator[Any]) -> None:
    broken = BedrockCache(estimator=BrokenEstimator())

    def failing_listener(report: Any) -> None:
        raise RuntimeError("listener is broken")

    broken.add_listener(failing_listener)
    llm = CachingBedrockConverse(model=MODEL, cache=broken, **connection(bedrock_emulator))
    response = llm.chat(conversation())
    assert response.message.content
    [request] = bedrock_emulator.requests
    assert request.error is None and cache_points(request.request) == 0
