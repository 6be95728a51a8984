"""Invariant: each request is planned and priced for the model its own ``modelId`` names.

``base_model`` (and a framework's ``base_model_id`` / ``model``) only says what hides behind an
ARN that does not name its model; it never overrides a model id or a system profile. A model the
table does not know goes out untouched, with one warning per model id.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage

from bedrock_cache import BedrockCache, ModelTable, cost_of, resolve_model
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from langchain_bedrock_cache import BedrockCacheMiddleware, with_bedrock_cache
from llama_index_bedrock_cache import BedrockCacheEventHandler, CachingBedrockConverse

Emulator = BedrockEmulator[ManualClock]

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"
#: A provisioned-throughput ARN: like an application inference profile, it hides its model.
PROVISIONED = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/support-claude"
SYSTEM = [{"text": "You are a support assistant. " + "Policy: be helpful and exact. " * 550}]
TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": "lookup_order",
                "description": "Look up an order. " + "Orders have ids like A-1. " * 300,
                "inputSchema": {"json": {"type": "object", "properties": {}}},
            }
        }
    ]
}


def agent_turn() -> list[dict[str, Any]]:
    """A conversation that ends in a tool result, as every agent's second model call does."""
    return [
        {"role": "user", "content": [{"text": "Where is order A-1? " + "Details. " * 900}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup_order", "input": {}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "shipped"}]}}],
        },
    ]


@pytest.fixture
def emulator() -> Any:
    """An emulator whose own table also knows the provisioned model (as Bedrock does)."""
    table = ModelTable.shipped()
    table.register(replace(table.resolve(SONNET).spec, model_id=PROVISIONED))
    with BedrockEmulator(clock=ManualClock(), table=table) as emulator:
        yield emulator


def test_base_model_never_overrides_the_model_a_request_names(emulator: Emulator) -> None:
    cache = BedrockCache(base_model=SONNET)
    client = cache.instrument(emulator.client())
    for _ in range(2):
        response = client.converse(
            modelId=NOVA, system=SYSTEM, messages=agent_turn(), toolConfig=TOOLS
        )
        assert response["output"]["message"]
    nova = resolve_model(NOVA)
    usage = [record.usage for record in emulator.requests]
    assert [record.error for record in emulator.requests] == [None, None]
    assert usage[1] is not None and usage[1]["cacheReadInputTokens"] > 0  # still cached, as Nova
    total = cache.stats.total()
    assert total.cost == pytest.approx(cost_of(total.usage, nova).total)
    assert list(cache.stats.by_model()) == [NOVA]


def test_base_model_mapping_resolves_only_the_arns_it_names(emulator: Emulator) -> None:
    cache = BedrockCache(base_model={PROVISIONED: SONNET})
    client = cache.instrument(emulator.client())
    messages = [{"role": "user", "content": [{"text": "hello"}]}]
    client.converse(modelId=PROVISIONED, system=SYSTEM, messages=messages)
    client.converse(modelId=NOVA, system=SYSTEM, messages=messages)
    planned = [str(record.request).count("cachePoint") for record in emulator.requests]
    assert planned[0] >= 1 and planned[1] >= 1
    assert cache.resolve(PROVISIONED).spec.model_id == SONNET
    assert cache.resolve(NOVA).spec.model_id == "amazon.nova-pro-v1:0"


def test_langchain_base_model_id_plans_an_arn_without_a_traceback(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    llm = ChatBedrockConverse(
        model=PROVISIONED,
        base_model_id=SONNET,
        provider="anthropic",
        **emulator.connection_kwargs,
    )
    agent = create_agent(
        llm, system_prompt=SYSTEM[0]["text"], middleware=[BedrockCacheMiddleware()]
    )
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        for question in ("hi", "and again"):
            agent.invoke({"messages": [HumanMessage(question)]})
    assert all(record.error is None for record in emulator.requests)
    assert all("cachePoint" in str(record.request) for record in emulator.requests)
    assert emulator.requests[1].usage and emulator.requests[1].usage["cacheReadInputTokens"] > 0
    assert caplog.records == []


def test_langchain_runnable_honours_base_model_id(emulator: Emulator) -> None:
    cache = BedrockCache()
    llm = with_bedrock_cache(
        ChatBedrockConverse(
            model=PROVISIONED,
            base_model_id=SONNET,
            provider="anthropic",
            **emulator.connection_kwargs,
        ),
        cache,
    )
    llm.invoke([("system", SYSTEM[0]["text"]), ("human", "hi")])
    assert "cachePoint" in str(emulator.requests[-1].request)
    assert cache.stats.by_model()[PROVISIONED].cost > 0  # priced as the Claude model behind it


def test_llama_index_model_names_the_arns_model(emulator: Emulator) -> None:
    handler = BedrockCacheEventHandler.register()
    try:
        llm = CachingBedrockConverse(
            model=SONNET,
            application_inference_profile_arn=PROVISIONED,
            **emulator.connection_kwargs,
        )
        messages = [
            ChatMessage(role="system", content=SYSTEM[0]["text"]),
            ChatMessage(content="hi"),
        ]
        llm.chat(messages)
    finally:
        handler.unregister()
    assert emulator.requests[-1].model_id == PROVISIONED
    assert "cachePoint" in str(emulator.requests[-1].request)
    assert handler.stats.total().cost == pytest.approx(llm.cache.stats.total().cost)
    assert handler.stats.total().cost > 0


def test_unknown_model_goes_out_untouched_with_one_warning(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    private = "acme.private-model-v1"
    emulator.table.register(replace(emulator.table.resolve(SONNET).spec, model_id=private))
    client = BedrockCache().instrument(emulator.client())
    messages = [{"role": "user", "content": [{"text": "hello"}]}]
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        for _ in range(3):
            client.converse(modelId=private, system=SYSTEM, messages=messages)
    assert [r.request["system"] for r in emulator.requests] == [SYSTEM] * 3
    warned = [r for r in caplog.records if private in r.getMessage()]
    assert len(warned) == 1


def create_profile(emulator: Emulator, model: str, name: str) -> str:
    """An application inference profile on the emulator's bedrock control plane."""
    arn: str = emulator.control_client().create_inference_profile(
        inferenceProfileName=name,
        modelSource={"copyFrom": f"arn:aws:bedrock:us-east-1::foundation-model/{model}"},
    )["inferenceProfileArn"]
    return arn


def test_a_control_plane_client_resolves_each_profile_once(emulator: Emulator) -> None:
    arn = create_profile(emulator, "amazon.nova-pro-v1:0", "agent")
    control = emulator.control_client()
    lookups: list[str] = []
    control.meta.events.register(
        "before-call.bedrock.GetInferenceProfile", lambda **_: lookups.append("get")
    )
    cache = BedrockCache(base_model=control)
    client = cache.instrument(emulator.client())
    for _ in range(3):  # a Nova agent turn ending in a tool result: Nova's rules, Nova's prices
        client.converse(modelId=arn, system=SYSTEM, messages=agent_turn(), toolConfig=TOOLS)
    assert lookups == ["get"]
    assert [record.error for record in emulator.requests] == [None] * 3
    assert "cachePoint" in str(emulator.requests[0].request["system"])
    assert cache.resolve(arn).spec.model_id == "amazon.nova-pro-v1:0"


def test_langchain_application_profile_with_base_model_id(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    arn = create_profile(emulator, SONNET, "support")
    llm = ChatBedrockConverse(
        model=arn, base_model_id=SONNET, provider="anthropic", **emulator.connection_kwargs
    )
    agent = create_agent(
        llm, system_prompt=SYSTEM[0]["text"], middleware=[BedrockCacheMiddleware()]
    )
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        for question in ("hi", "and again"):
            agent.invoke({"messages": [HumanMessage(question)]})
    assert [record.model_id for record in emulator.requests] == [arn, arn]
    assert all("cachePoint" in str(record.request) for record in emulator.requests)
    assert emulator.requests[1].usage and emulator.requests[1].usage["cacheReadInputTokens"] > 0
    assert not [r for r in caplog.records if "could not" in r.getMessage()]


def test_a_table_change_reaches_the_next_request(emulator: Emulator) -> None:
    """A cache already in use plans the next request with the table as it is now."""
    table = ModelTable.shipped()
    cache = BedrockCache(table=table)
    client = cache.instrument(emulator.client())
    messages = [{"role": "user", "content": [{"text": "Where is order A-1?"}]}]
    client.converse(modelId=SONNET, system=SYSTEM, messages=messages, toolConfig=TOOLS)
    table.override(SONNET, min_tokens=1_000_000)
    client.converse(modelId=SONNET, system=SYSTEM, messages=messages, toolConfig=TOOLS)
    planned = [str(record.request).count("cachePoint") for record in emulator.requests]
    assert planned[0] >= 1 and planned[1] == 0
    assert cache.resolve(SONNET).spec.min_tokens == 1_000_000
