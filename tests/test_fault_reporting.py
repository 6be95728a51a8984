"""Invariant: a fault inside the plugin is one readable line a minute, never one per call.

The first occurrence of a distinct fault is one WARNING line without a traceback (the traceback
goes to DEBUG), repeats within the minute are counted into the next line, and warnings meant for
the user point at the user's own line, not at the framework that called the plugin.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from bedrock_cache import BedrockCache
from bedrock_cache._faults import FaultLog
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from langchain_bedrock_cache import BedrockCacheMiddleware

Emulator = BedrockEmulator[ManualClock]
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "zqx private question"}]}]


class ListenerDownError(RuntimeError):
    pass


class EstimatorDownError(RuntimeError):
    pass


class BrokenEstimator:
    def block_tokens(self, block: Mapping[str, Any]) -> int:
        raise EstimatorDownError("estimator down")


def plugin_lines(
    caplog: pytest.LogCaptureFixture, level: int, about: str
) -> list[logging.LogRecord]:
    """The plugin's log lines at ``level`` that mention ``about``."""
    return [
        r
        for r in caplog.records
        if r.name == "bedrock_cache" and r.levelno == level and about in r.getMessage()
    ]


def test_a_fault_on_every_call_is_one_line_without_traceback(
    bedrock_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    cache = BedrockCache()

    def listener(report: Any) -> None:
        raise ListenerDownError("listener down")

    cache.add_listener(listener)
    client = cache.instrument(bedrock_emulator.client())
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        for _ in range(50):
            client.converse(modelId=SONNET, messages=MESSAGES)
            list(client.converse_stream(modelId=SONNET, messages=MESSAGES)["stream"])
    (line,) = plugin_lines(caplog, logging.WARNING, "listener")
    assert "ListenerDownError" in line.getMessage()
    assert line.exc_info is None
    assert cache.stats.total().requests == 100
    assert "zqx" not in caplog.text


def test_the_traceback_is_at_debug(
    bedrock_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = BedrockCache(estimator=BrokenEstimator()).instrument(bedrock_emulator.client())
    with caplog.at_level(logging.DEBUG, logger="bedrock_cache"):
        for _ in range(5):
            assert client.converse(modelId=SONNET, messages=MESSAGES)["output"]
    (warning,) = plugin_lines(caplog, logging.WARNING, "could not plan")
    (debug,) = plugin_lines(caplog, logging.DEBUG, "could not plan")
    assert warning.exc_info is None
    assert debug.exc_info is not None and debug.exc_info[0] is EstimatorDownError


def test_repeats_are_counted_into_the_next_minutes_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    log = FaultLog(clock=clock.now)
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        written = [log.report("the store timed out", TimeoutError()) for _ in range(10)]
        clock.advance(61)
        written.append(log.report("the store timed out", TimeoutError()))
    assert written == [True] + [False] * 9 + [True]
    (_, again) = plugin_lines(caplog, logging.WARNING, "the store timed out")
    assert "9 more since the last report" in again.getMessage()


def test_warnings_point_at_the_users_line() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage("hello")]))
    agent = create_agent(model, middleware=[BedrockCacheMiddleware()])
    with pytest.warns(UserWarning, match="ChatBedrockConverse") as caught:
        agent.invoke({"messages": [HumanMessage("hi")]})
    assert [warning.filename for warning in caught] == [__file__]
