"""Invariant: the LlamaIndex support bot (``SimpleChatEngine`` + memory on
``CachingBedrockConverse``, ~4,000-token system prompt) reads the system prompt and the whole
history from the cache from turn 2 on: at least 85% token hit rate over 10 turns."""

from __future__ import annotations

import itertools

from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.llama_index import support_bot


def test_ten_turns_hit_rate(bedrock_emulator: BedrockEmulator[ManualClock]) -> None:
    run = support_bot.run(bedrock_emulator.connection_kwargs, caching=True)
    reports = run.reports
    assert len(reports) == len(bedrock_emulator.requests) == 10
    assert reports[0].usage.cache_read == 0
    system_tokens = reports[0].usage.cache_write
    assert system_tokens >= 4_000
    assert reports[1].usage.cache_read >= system_tokens
    for previous, current in itertools.pairwise(reports[1:]):
        # Everything the previous turn sent (system + history + its question) is read now.
        assert current.usage.cache_read >= previous.usage.total_input
    assert run.total is not None and run.total.token_hit_rate >= 0.85
    assert run.total.saved > 0


def test_without_caching_nothing_is_placed(bedrock_emulator: BedrockEmulator[ManualClock]) -> None:
    run = support_bot.run(bedrock_emulator.connection_kwargs, caching=False)
    assert run.total is not None and run.total.usage.cache_read == 0
    assert all("cachePoint" not in str(record.request) for record in bedrock_emulator.requests)
