"""Invariant: a LangChain chat that sends only its last few messages (``trim_messages``) stops
paying for cache writes no later request reads, and keeps reading its system prompt.

Once the window moves, no request re-sends the one before it, so a checkpoint at a request's end
is never read. Through the real ``ChatBedrockConverse`` against the emulator on a simulated
clock, the planner learns that from the traffic and writes only what comes back.
"""

from __future__ import annotations

from typing import Any

from langchain_aws import ChatBedrockConverse
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    trim_messages,
)

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from langchain_bedrock_cache import with_bedrock_cache

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = "You are a support assistant for order questions. Be precise and brief. " * 150
KEPT = 5  # messages sent after the system prompt


def test_a_trimmed_chat_stops_writing_what_no_request_re_sends(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    cache = BedrockCache(clock=bedrock_emulator.clock.now)
    model = ChatBedrockConverse(model=SONNET, **bedrock_emulator.connection_kwargs)
    llm = with_bedrock_cache(model, cache)
    history: list[BaseMessage] = []
    reports: list[dict[str, Any]] = []
    for turn in range(14):
        history.append(HumanMessage(f"Question {turn}: where is order {turn}? " * 12))
        window = trim_messages(
            history, max_tokens=KEPT, token_counter=len, strategy="last", start_on="human"
        )
        answer = llm.invoke([SystemMessage(SYSTEM), *window])
        reports.append(answer.response_metadata["bedrockCache"])
        history.append(AIMessage(str(answer.content)))
        bedrock_emulator.clock.advance(30)

    settled = reports[-4:]
    assert all(r["cache_write_5m_tokens"] + r["cache_write_1h_tokens"] == 0 for r in settled)
    assert all(r["cache_read_tokens"] >= reports[0]["cache_write_5m_tokens"] for r in settled)
    assert all(r["miss"] is None for r in settled)
