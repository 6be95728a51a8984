"""A change is explained inside a block that got a cache entry after it only in a later turn.

Invariant: the miss explainer locates a change (its cause, block and character) in a text block
that was first sent as a conversation's uncached newest question and only later came to lie
inside a cached prefix, exactly as in a block cached from the start.
"""

from __future__ import annotations

from typing import Any

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = [{"text": "You are a support assistant. " + "Policy: be helpful and exact. " * 550}]


def ask(client: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.converse(modelId=SONNET, system=SYSTEM, messages=messages)
    report: dict[str, Any] = response["bedrockCache"]
    return report


def test_a_question_cached_only_later_still_locates_a_change() -> None:
    with BedrockEmulator(clock=ManualClock()) as emulator:
        client = BedrockCache(clock=emulator.clock.now).instrument(emulator.client())
        question = "Order status as of 2026-11-26T10:00:00Z: " + "where is parcel 42? " * 80
        first = [{"role": "user", "content": [{"text": question}]}]
        assert ask(client, first)["plan"] is not None
        answer = {"role": "assistant", "content": [{"text": "It is on its way."}]}
        follow = {"role": "user", "content": [{"text": "And when does it arrive? " * 60}]}
        emulator.clock.advance(5)
        ask(client, [*first, answer, follow])  # the question now lies inside the cached prefix
        emulator.clock.advance(5)
        changed = question.replace("10:00:00", "10:05:00")
        edited = [{"role": "user", "content": [{"text": changed}]}, answer, follow]
        miss = ask(client, edited)["miss"]
        assert miss is not None
        assert (miss["cause"], miss["section"], miss["block"]) == ("prefix_changed", "messages", 0)
        assert miss["offset"] == question.index("2026")
