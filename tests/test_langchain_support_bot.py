"""Invariant: a 10-turn support conversation (``create_agent`` + checkpointer +
``BedrockCacheMiddleware``, ~4,000-token system prompt) reads the system prompt from the cache
from turn 2 on and the whole history before the new question from turn 3 on (turn 1's question
and answer are below the model's minimum to be cached on their own, so turn 2 writes them), for
a token hit rate of at least 85% over the conversation."""

from __future__ import annotations

import itertools

from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.langchain import support_bot

Emulator = BedrockEmulator[ManualClock]


def test_ten_turns_read_system_and_history(bedrock_emulator: Emulator) -> None:
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
    assert run.total is not None
    assert run.total.token_hit_rate >= 0.85
    assert run.total.saved > 0
    assert all(r.error is None for r in bedrock_emulator.requests)


def test_without_caching_nothing_is_read(bedrock_emulator: Emulator) -> None:
    run = support_bot.run(bedrock_emulator.connection_kwargs, caching=False)
    assert run.total is not None
    assert run.total.usage.cache_read == run.total.usage.cache_write == 0
    assert "cachePoint" not in str([r.request for r in bedrock_emulator.requests])
