"""Invariant: the ``ChatBedrock`` support bot (InvokeModel bodies, ``create_agent`` +
checkpointer + ``BedrockCacheMiddleware``) reads the system prompt from the cache from turn 2 on
and everything the previous turn sent from turn 3 on, for a token hit rate of at least 85%; the
same app without caching sends no ``cache_control`` and reads nothing."""

from __future__ import annotations

import itertools

from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.langchain import support_bot_invoke

Emulator = BedrockEmulator[ManualClock]


def test_ten_invoke_model_turns_read_system_and_history(bedrock_emulator: Emulator) -> None:
    run = support_bot_invoke.run(bedrock_emulator.connection_kwargs, caching=True)
    reports = run.reports
    assert len(reports) == len(bedrock_emulator.requests) == 10
    assert {r.operation for r in bedrock_emulator.requests} == {"InvokeModel"}
    assert all(r.error is None for r in bedrock_emulator.requests)
    system_tokens = reports[0].usage.cache_write
    assert system_tokens >= 4_000 and reports[0].usage.cache_read == 0
    assert reports[1].usage.cache_read >= system_tokens
    for previous, current in itertools.pairwise(reports[1:]):
        assert current.usage.cache_read >= previous.usage.total_input
    assert run.total.token_hit_rate >= 0.85
    assert run.total.saved > 0


def test_without_caching_no_marker_is_sent(bedrock_emulator: Emulator) -> None:
    run = support_bot_invoke.run(bedrock_emulator.connection_kwargs, caching=False)
    assert run.total.usage.cache_read == run.total.usage.cache_write == 0
    assert "cache_control" not in str([r.request for r in bedrock_emulator.requests])
