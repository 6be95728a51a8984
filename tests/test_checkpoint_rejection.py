"""Invariant: a stale model table never fails a call.

When Bedrock rejects a request because of the checkpoints we added, the request goes out once
more exactly as the caller built it (a rejected request is not processed or billed), and what
Bedrock refused is not sent to that model again. Here the planner's table is stale (it believes
Nova accepts a cachePoint next to a toolResult, and Claude Sonnet 4 a 1-hour TTL); the emulator
knows better, as Bedrock would.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from bedrock_cache import BedrockCache, CachePolicy, ModelTable
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from langchain_bedrock_cache import with_bedrock_cache

Emulator = BedrockEmulator[ManualClock]

NOVA = "us.amazon.nova-pro-v1:0"
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"
SYSTEM_TEXT = "You are a support assistant. " + "Policy: be helpful and exact. " * 550
SYSTEM = [{"text": SYSTEM_TEXT}]
#: A tool result long enough to be worth a checkpoint of its own (Nova's 1,000-token minimum).
SHIPPED = "Order A-1 shipped on Monday; tracking details follow. " * 100


def stale_table() -> ModelTable:
    table = ModelTable.shipped()
    nova = table.resolve(NOVA).spec
    table.register(replace(nova, rejected_positions=frozenset()))
    sonnet = table.resolve(SONNET_4).spec
    table.register(replace(sonnet, ttls=("5m", "1h"), ttl_field=True))
    return table


def agent_turn() -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": [{"text": "Where is order A-1? " + "Details. " * 900}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup_order", "input": {}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": SHIPPED}]}}],
        },
    ]


def finish(response: dict[str, Any]) -> None:
    """Read a response to its end (a stream's usage arrives with its last event)."""
    if "stream" in response:
        assert list(response["stream"])[-1]["metadata"]["usage"]
    else:
        assert response["usage"]


def sent(record: Any) -> dict[str, Any]:
    return {key: value for key, value in record.request.items() if key != "modelId"}


@pytest.mark.parametrize("operation", ["converse", "converse_stream"])
def test_rejected_checkpoints_are_resent_once_as_built_and_not_tried_again(
    bedrock_emulator: Emulator, operation: str
) -> None:
    cache = BedrockCache(table=stale_table())
    client = cache.instrument(bedrock_emulator.client())
    call = getattr(client, operation)
    request = {"system": SYSTEM, "messages": agent_turn()}
    before = copy.deepcopy(request)

    finish(call(modelId=NOVA, **request))  # seen once: the planner writes what recurs
    finish(call(modelId=NOVA, **request))
    _, first, resent = bedrock_emulator.requests
    assert first.error == "ValidationException" and "toolResult" in str(first.error_message)
    assert resent.error is None and sent(resent) == before == request

    finish(call(modelId=NOVA, **request))  # the position is remembered: no second rejection
    latest = bedrock_emulator.requests[3:]
    assert len(latest) == 1 and latest[0].error is None
    assert "cachePoint" in str(latest[0].request)  # the rest is still cached
    assert latest[0].usage and latest[0].usage["cacheReadInputTokens"] > 0
    assert cache.stats.total().requests == 3


def test_a_refused_ttl_is_dropped_for_that_model(
    bedrock_emulator: Emulator, client_sends_ttl: bool
) -> None:
    cache = BedrockCache(CachePolicy(static_ttl="1h"), table=stale_table())
    client = cache.instrument(bedrock_emulator.client())
    messages = [{"role": "user", "content": [{"text": "hello"}]}]
    for _ in range(2):
        client.converse(modelId=SONNET_4, system=SYSTEM, messages=messages)
    errors = [record.error for record in bedrock_emulator.requests]
    if not client_sends_ttl:  # this botocore cannot send a ttl: none goes out, none is refused
        assert errors == [None, None]
        assert "ttl" not in str([record.request for record in bedrock_emulator.requests])
        return
    assert errors == ["ValidationException", None, None]
    assert "cachePoint" in str(bedrock_emulator.requests[2].request)
    assert "ttl" not in str(bedrock_emulator.requests[2].request)


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order by id."""
    return "shipped"


def test_resent_through_langchain(bedrock_emulator: Emulator) -> None:
    llm = with_bedrock_cache(
        ChatBedrockConverse(model=NOVA, **bedrock_emulator.connection_kwargs).bind_tools(
            [lookup_order]
        ),
        BedrockCache(table=stale_table()),
    )
    history = [
        SystemMessage(SYSTEM_TEXT),
        HumanMessage("Where is order A-1? " + "Details. " * 900),
        AIMessage("", tool_calls=[{"id": "t1", "name": "lookup_order", "args": {}}]),
        ToolMessage(SHIPPED, tool_call_id="t1"),
    ]
    llm.invoke(history)  # seen once: the planner writes what recurs
    answer = llm.invoke(history)
    assert answer.content
    errors = [record.error for record in bedrock_emulator.requests]
    assert errors == [None, "ValidationException", None]
    assert "cachePoint" not in str(bedrock_emulator.requests[2].request)
