"""LangChain's ``ChatBedrock`` (InvokeModel, Anthropic Messages bodies) is cached like
``ChatBedrockConverse``.

Invariant: through ``with_bedrock_cache``, the callback handler and ``BedrockCacheMiddleware``, a
``ChatBedrock`` call is planned (the system prompt and the conversation carry ``cache_control``
on the wire and are read back on the next call), every run -- invoke, ainvoke, stream, astream --
is counted exactly once with the same numbers in the handler and the cache, and the caller's
messages and the agent's state never hold a cache marker.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from langchain.agents import create_agent
from langchain_aws import ChatBedrock
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from bedrock_cache import RESPONSE_KEY, BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock, Reply
from integrations.shared import AGENT_SYSTEM_PROMPT, AGENT_TOOLS, support_system_prompt
from langchain_bedrock_cache import (
    BedrockCacheCallbackHandler,
    BedrockCacheMiddleware,
    with_bedrock_cache,
)

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


def chat_bedrock(emu: Emulator) -> ChatBedrock:
    return ChatBedrock(model=MODEL, max_tokens=300, **emu.connection_kwargs)


def has_marker(value: Any) -> bool:
    return "cache_control" in json.dumps(value, default=str)


def test_every_run_is_cached_and_counted_once(bedrock_emulator: Emulator) -> None:
    cache, handler = BedrockCache(), BedrockCacheCallbackHandler()
    llm = with_bedrock_cache(chat_bedrock(bedrock_emulator), cache)
    config: Any = {"callbacks": [handler]}
    messages = [SystemMessage(support_system_prompt()), HumanMessage("Where is my order?")]
    before = copy.deepcopy(messages)

    first = llm.invoke(messages, config)
    streamed = list(llm.stream(messages, config))

    async def both() -> None:
        await llm.ainvoke(messages, config)
        async for _ in llm.astream(messages, config):
            pass

    asyncio.run(both())
    assert messages == before, "the caller's messages are untouched"
    sent = bedrock_emulator.requests
    assert len(sent) == 4 and all(r.error is None for r in sent)
    assert sent[0].operation == "InvokeModel"
    assert sent[1].operation == "InvokeModelWithResponseStream"
    assert sent[0].request["system"][-1]["cache_control"] == {"type": "ephemeral"}

    assert first.usage_metadata is not None
    written = first.usage_metadata["input_token_details"]["cache_creation"]
    assert written >= 4_000
    whole = streamed[0]
    for chunk in streamed[1:]:
        whole += chunk
    final = whole.usage_metadata
    assert final is not None and final["input_token_details"]["cache_read"] >= written

    ours, core = handler.stats.total(), cache.stats.total()
    assert ours.requests == core.requests == len(handler.runs) == 4
    assert ours.usage == core.usage
    assert core.usage.cache_read >= 3 * written
    # The prefix is written once; seen again, the short question after it is written too.
    assert written <= core.usage.cache_write < written + 50


def test_agent_middleware_caches_chat_bedrock_sync_and_async(bedrock_emulator: Emulator) -> None:
    bedrock_emulator.script(
        [Reply.tool_use("lookup_orders", {"query": "A-1"}), "Order A-1 has shipped.", "Bye!"]
    )
    middleware = BedrockCacheMiddleware()
    agent = create_agent(
        chat_bedrock(bedrock_emulator),
        tools=[tool(fn) for fn in AGENT_TOOLS],
        system_prompt=AGENT_SYSTEM_PROMPT,
        middleware=[middleware],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "invoke"}}
    agent.invoke({"messages": [HumanMessage("Where is order A-1?")]}, config)
    asyncio.run(agent.ainvoke({"messages": [HumanMessage("Thanks, that is all.")]}, config))

    sent = bedrock_emulator.requests
    assert [r.operation for r in sent] == ["InvokeModel"] * 3
    assert all(r.error is None for r in sent)
    assert has_marker(sent[0].request["tools"]) or has_marker(sent[0].request["system"])
    for later in sent[1:]:
        assert later.outcome is not None
        assert later.outcome.cache_read > 0
    assert middleware.stats.total().requests == 3
    state = agent.get_state(config).values["messages"]
    assert not has_marker([m.model_dump() for m in state])
    reports = [m.response_metadata[RESPONSE_KEY] for m in state if isinstance(m, AIMessage)]
    assert len(reports) == 3, "each answer carries its call's report, as with Converse"
    assert all(report["cache_read_tokens"] > 0 for report in reports[1:])


def test_streamed_agent_turns_are_counted_once(bedrock_emulator: Emulator) -> None:
    middleware, handler = BedrockCacheMiddleware(), BedrockCacheCallbackHandler()
    agent = create_agent(
        chat_bedrock(bedrock_emulator),
        system_prompt=support_system_prompt(),
        middleware=[middleware],
    )
    config: Any = {"callbacks": [handler]}
    for question in ("Hi", "How long does a refund take?"):
        chunks = list(
            agent.stream({"messages": [HumanMessage(question)]}, config, stream_mode="messages")
        )
        assert chunks
    sent = bedrock_emulator.requests
    assert [r.operation for r in sent] == ["InvokeModelWithResponseStream"] * 2
    ours, core = handler.stats.total(), middleware.stats.total()
    assert ours.requests == core.requests == 2
    assert ours.usage == core.usage
    # the system prompt written by the first turn and read by the second, each counted once
    assert 4_000 < core.usage.cache_read <= core.usage.cache_write < 8_000
