"""Every model BEDROCK.md lists caches in the emulator under every profile prefix.

Invariant: for each caching model of the shipped table -- Nova 2 Lite included -- and each of
``us.`` ``eu.`` ``apac.`` ``jp.`` ``au.`` ``global.`` and the bare id, a real boto3 client's
checkpoint above the model's minimum is written once and then read, from the base model's cache.
"""

from __future__ import annotations

import pytest

from bedrock_cache import default_table
from bedrock_cache.emulator import BedrockEmulator, ManualClock

PROFILE_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "global.")
LISTED = [
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-opus-4-20250514-v1:0",
    "anthropic.claude-opus-4-1-20250805-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "anthropic.claude-sonnet-4-6",
    "anthropic.claude-haiku-4-5-20251001-v1:0",
    "anthropic.claude-opus-4-5-20251101-v1:0",
    "anthropic.claude-opus-4-6-v1",
    "anthropic.claude-opus-4-7",
    "anthropic.claude-opus-4-8",
    "anthropic.claude-sonnet-5",
    "anthropic.claude-opus-5",
    "amazon.nova-micro-v1:0",
    "amazon.nova-lite-v1:0",
    "amazon.nova-pro-v1:0",
    "amazon.nova-premier-v1:0",
    "amazon.nova-2-lite-v1:0",
]


def test_the_table_holds_every_listed_model() -> None:
    caching = {spec.model_id for spec in default_table().models() if spec.supports_caching}
    assert caching == set(LISTED)


@pytest.mark.parametrize("model", LISTED)
def test_each_model_writes_then_reads_under_every_prefix(
    bedrock_emulator: BedrockEmulator[ManualClock], model: str
) -> None:
    client = bedrock_emulator.client()
    minimum = default_table().resolve(model).spec.min_tokens
    text = "Company policy, section by section. " * (minimum // 8 + 20)  # ~1.1x the minimum
    request = {
        "system": [{"text": text}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": "Summarise the policy."}]}],
    }
    first = client.converse(modelId=model, **request)["usage"]
    assert first["cacheWriteInputTokens"] >= minimum
    for prefix in PROFILE_PREFIXES:
        usage = client.converse(modelId=prefix + model, **request)["usage"]
        assert usage["cacheReadInputTokens"] == first["cacheWriteInputTokens"], prefix
        assert usage["cacheWriteInputTokens"] == 0, prefix
