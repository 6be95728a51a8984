"""Invariant: ``BedrockCacheMiddleware`` plans every model call of a ``create_agent`` agent
(sync and async), the tool checkpoint reaches ``toolConfig.tools``, and neither the agent state
nor a LangGraph checkpoint ever holds a cachePoint."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from bedrock_cache import RESPONSE_KEY, BedrockCache, CachePolicy
from bedrock_cache.emulator import BedrockEmulator, ManualClock, Reply
from integrations.shared import AGENT_SYSTEM_PROMPT, AGENT_TOOLS, support_system_prompt
from langchain_bedrock_cache import BedrockCacheMiddleware, bedrock_converse_model

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


def converse(emu: Emulator, model: str = MODEL) -> ChatBedrockConverse:
    return ChatBedrockConverse(
        model=model,
        **emu.connection_kwargs,
    )


def has_cache_point(value: Any) -> bool:
    return "cachePoint" in json.dumps(value, default=str)


def test_state_and_checkpoints_never_hold_cache_points(bedrock_emulator: Emulator) -> None:
    saver = InMemorySaver()
    middleware = BedrockCacheMiddleware()
    agent = create_agent(
        converse(bedrock_emulator),
        system_prompt=support_system_prompt(),
        middleware=[middleware],
        checkpointer=saver,
    )
    config: Any = {"configurable": {"thread_id": "t"}}
    for question in ("Hi", "How long does a refund take?", "Thanks, and shipping?", "Bye"):
        result = agent.invoke({"messages": [HumanMessage(question)]}, config)
    sent = [r.request for r in bedrock_emulator.requests]
    assert all(has_cache_point(request["messages"]) for request in sent[1:])
    messages = agent.get_state(config).values["messages"]
    assert len(messages) == 8
    assert not has_cache_point([m.model_dump() for m in messages])
    assert not has_cache_point([m.model_dump() for m in result["messages"]])
    for snapshot in saver.list(config):
        assert not has_cache_point(snapshot.checkpoint["channel_values"])
    assert middleware.stats.total().requests == 4
    assert middleware.stats.total().usage.cache_read > 0


def test_tool_checkpoint_reaches_tool_config(bedrock_emulator: Emulator) -> None:
    bedrock_emulator.script([Reply.tool_use("lookup_orders", {"query": "A-1"}), "Shipped."])
    agent = create_agent(
        converse(bedrock_emulator),
        tools=[tool(fn) for fn in AGENT_TOOLS],
        system_prompt=AGENT_SYSTEM_PROMPT,
        middleware=[BedrockCacheMiddleware()],
    )
    agent.invoke({"messages": [HumanMessage("Where is order A-1?")]})
    first, second = bedrock_emulator.requests
    tools = first.request["toolConfig"]["tools"]
    assert tools[-1] == {"cachePoint": {"type": "default"}}
    assert len(tools) == len(AGENT_TOOLS) + 1
    assert second.outcome is not None
    assert second.outcome.cache_read >= first.outcome.checkpoints[0].prefix_tokens  # type: ignore[union-attr]


async def test_async_agent_is_planned(bedrock_emulator: Emulator) -> None:
    middleware = BedrockCacheMiddleware()
    agent = create_agent(
        converse(bedrock_emulator),
        system_prompt=support_system_prompt(),
        middleware=[middleware],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "a"}}
    for question in ("Hi", "Refunds?"):
        result = await agent.ainvoke({"messages": [HumanMessage(question)]}, config)
    last = result["messages"][-1]
    assert isinstance(last, AIMessage)
    assert last.response_metadata[RESPONSE_KEY]["cache_read_tokens"] > 4_000
    assert middleware.stats.total().requests == 2


def test_streamed_agent_is_planned_and_counted_once(bedrock_emulator: Emulator) -> None:
    middleware = BedrockCacheMiddleware()
    agent = create_agent(
        converse(bedrock_emulator),
        system_prompt=support_system_prompt(),
        middleware=[middleware],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "s"}}
    for question in ("Hi", "Refunds?"):
        chunks = list(
            agent.stream({"messages": [HumanMessage(question)]}, config, stream_mode="messages")
        )
        assert chunks
    assert [r.operation for r in bedrock_emulator.requests] == ["ConverseStream"] * 2
    assert middleware.stats.total().requests == 2
    assert middleware.stats.total().usage.cache_read > 4_000


def test_only_calls_inside_the_agent_are_planned(bedrock_emulator: Emulator) -> None:
    llm = converse(bedrock_emulator)
    agent = create_agent(llm, system_prompt="Be brief.", middleware=[BedrockCacheMiddleware()])
    agent.invoke({"messages": [HumanMessage("Hi")]})
    llm.invoke([HumanMessage("outside " * 2_000)])
    assert not has_cache_point(bedrock_emulator.requests[-1].request)


def test_bound_models_are_unwrapped(bedrock_emulator: Emulator) -> None:
    llm = converse(bedrock_emulator)
    bound = llm.bind_tools([tool(fn) for fn in AGENT_TOOLS[:2]]).with_config(tags=["x"])
    assert bedrock_converse_model(bound) is llm
    assert bedrock_converse_model(GenericFakeChatModel(messages=iter([]))) is None


def test_constructor_takes_a_cache_or_policy_fields() -> None:
    cache = BedrockCache()
    assert BedrockCacheMiddleware(cache).cache is cache
    assert BedrockCacheMiddleware(static_ttl="1h").cache.policy == CachePolicy(static_ttl="1h")
    with pytest.raises(TypeError):
        BedrockCacheMiddleware(cache, static_ttl="1h")
    with pytest.raises(ValueError):
        BedrockCacheMiddleware(unsupported_model_behavior="shout")  # type: ignore[arg-type]


def _fake_agent(behavior: Any) -> Any:
    fake = GenericFakeChatModel(messages=iter([AIMessage("fake answer")]))
    return create_agent(
        fake, middleware=[BedrockCacheMiddleware(unsupported_model_behavior=behavior)]
    )


def test_unsupported_model_behavior() -> None:
    with pytest.warns(UserWarning, match="ChatBedrockConverse"):
        result = _fake_agent("warn").invoke({"messages": [HumanMessage("hi")]})
    assert result["messages"][-1].content == "fake answer"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fake_agent("ignore").invoke({"messages": [HumanMessage("hi")]})
    with pytest.raises(ValueError, match="ChatBedrockConverse"):
        _fake_agent("raise").invoke({"messages": [HumanMessage("hi")]})


def test_model_without_caching_is_called_uncached(bedrock_emulator: Emulator) -> None:
    agent = create_agent(
        converse(bedrock_emulator, "meta.llama3-3-70b-instruct-v1:0"),
        system_prompt=support_system_prompt(),
        middleware=[BedrockCacheMiddleware()],
    )
    with pytest.warns(UserWarning):
        agent.invoke({"messages": [HumanMessage("hi")]})
    assert not has_cache_point(bedrock_emulator.requests[-1].request)
    assert bedrock_emulator.requests[-1].error is None
