"""Invariant: a failure inside the plugin never fails the model call -- a planner whose
estimator raises sends the request as built, a broken callback never breaks the run."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import HumanMessage, SystemMessage

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import support_system_prompt
from langchain_bedrock_cache import (
    BedrockCacheCallbackHandler,
    BedrockCacheMiddleware,
    with_bedrock_cache,
)

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


class EstimatorOutageError(RuntimeError):
    """A fault of its own kind: faults are logged once a minute per kind, process-wide."""


class BrokenEstimator:
    """A token estimator that always fails."""

    def block_tokens(self, block: Mapping[str, Any]) -> int:
        raise EstimatorOutageError("estimator down")


def converse(emu: Emulator) -> ChatBedrockConverse:
    return ChatBedrockConverse(
        model=MODEL,
        **emu.connection_kwargs,
    )


def broken_cache() -> BedrockCache:
    return BedrockCache(estimator=BrokenEstimator())


def test_failing_planner_sends_the_request_unchanged(
    bedrock_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    llm = with_bedrock_cache(converse(bedrock_emulator), broken_cache())
    messages = [SystemMessage(support_system_prompt()), HumanMessage("zqx secret question")]
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        answer = llm.invoke(messages)
        chunks = list(llm.stream(messages))
    assert answer.content and chunks
    assert "cachePoint" not in str([r.request for r in bedrock_emulator.requests])
    assert "could not plan" in caplog.text
    assert "zqx" not in caplog.text and "Acme" not in caplog.text  # no prompt text logged


async def test_failing_planner_in_an_async_agent(bedrock_emulator: Emulator) -> None:
    agent = create_agent(
        converse(bedrock_emulator),
        system_prompt=support_system_prompt(),
        middleware=[BedrockCacheMiddleware(broken_cache())],
    )
    result = await agent.ainvoke({"messages": [HumanMessage("hi")]})
    assert result["messages"][-1].content


def test_failing_report_listener_and_handler(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache()

    def listener(report: Any) -> None:
        raise RuntimeError("listener down")

    cache.add_listener(listener)
    handler = BedrockCacheCallbackHandler(base_model=None)
    handler.resolver = None  # type: ignore[assignment]  # every count now fails inside the handler
    llm = with_bedrock_cache(converse(bedrock_emulator), cache)
    answer = llm.invoke("hello", {"callbacks": [handler]})
    assert answer.content
    assert cache.stats.total().requests == 1
    assert handler.stats.total().requests == 0
