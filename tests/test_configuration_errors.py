"""Invariant: bad configuration fails where it is written, with a message that says what to
write instead -- never silently, and never later inside a model call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_aws import ChatBedrockConverse

from bedrock_cache import BedrockCache, CachePolicy, ModelTable
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from langchain_bedrock_cache import BedrockCacheCallbackHandler as LangChainHandler
from langchain_bedrock_cache import BedrockCacheMiddleware, with_bedrock_cache
from llama_index_bedrock_cache import (
    BedrockCacheCallbackHandler,
    BedrockCacheEventHandler,
    CachingBedrockConverse,
)
from llama_index_bedrock_cache import with_bedrock_cache as llama_with_bedrock_cache

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

BAD: dict[str, tuple[Callable[[], Any], type[Exception], str]] = {
    "base model of the wrong type": (
        lambda: BedrockCache(base_model=42),
        TypeError,
        "base model id such as",
    ),
    "base model mapping to non-ids": (
        lambda: BedrockCache(base_model={"arn:aws:bedrock:us-east-1:1:x/y": 1}),
        TypeError,
        "ARNs (str) to base model ids",
    ),
    "a table file name": (
        lambda: BedrockCache(table="models.toml"),  # type: ignore[arg-type]
        TypeError,
        ".load('models.toml')",
    ),
    "the policy class": (
        lambda: BedrockCache(CachePolicy),  # type: ignore[arg-type]
        TypeError,
        "write CachePolicy()",
    ),
    "an estimator without block_tokens": (
        lambda: BedrockCache(estimator="offline"),  # type: ignore[arg-type]
        TypeError,
        "DefaultEstimator()",
    ),
    "a clock that is not a function": (
        lambda: BedrockCache(clock=0.0),  # type: ignore[arg-type]
        TypeError,
        "a function returning seconds",
    ),
    "a negative window": (lambda: BedrockCache(recent=-1), ValueError, "0 or more"),
    "a middleware policy typo": (
        lambda: BedrockCacheMiddleware(ttl="1h"),
        TypeError,
        "valid options are cache_conversation",
    ),
    "a policy passed as the cache": (
        lambda: BedrockCacheMiddleware(CachePolicy()),  # type: ignore[arg-type]
        TypeError,
        "BedrockCache(CachePolicy(...))",
    ),
    "a cache and policy options": (
        lambda: BedrockCacheMiddleware(BedrockCache(), static_ttl="1h"),
        TypeError,
        "not both",
    ),
    "an unknown unsupported-model behaviour": (
        lambda: BedrockCacheMiddleware(unsupported_model_behavior="skip"),  # type: ignore[arg-type]
        ValueError,
        "not 'skip'",
    ),
    "a LangChain handler table file name": (
        lambda: LangChainHandler(table="models.toml"),  # type: ignore[arg-type]
        TypeError,
        "bedrock_cache.ModelTable",
    ),
    "a LangChain handler base model of the wrong type": (
        lambda: LangChainHandler(base_model=["anthropic.claude"]),
        TypeError,
        "mapping of application inference profile ARN",
    ),
    "a LangChain handler negative window": (
        lambda: LangChainHandler(recent=-5),
        ValueError,
        "0 or more",
    ),
    "a LlamaIndex handler negative window": (
        lambda: BedrockCacheCallbackHandler(recent=-5),
        ValueError,
        "0 or more",
    ),
    "a LlamaIndex event handler negative window": (
        lambda: BedrockCacheEventHandler(recent=-5),
        ValueError,
        "0 or more",
    ),
    "a LlamaIndex policy typo": (
        lambda: CachingBedrockConverse(model=SONNET, region_name="us-east-1", ttl="1h"),
        TypeError,
        "CachePolicy options (cache_conversation",
    ),
    "a LlamaIndex policy passed as the cache": (
        lambda: CachingBedrockConverse(
            model=SONNET,
            region_name="us-east-1",
            cache=CachePolicy(),  # type: ignore[arg-type]
        ),
        TypeError,
        "BedrockCache(CachePolicy(...))",
    ),
    "a LangChain model given to the LlamaIndex helper": (
        lambda: llama_with_bedrock_cache(ChatBedrockConverse(model=SONNET, region_name="x")),
        TypeError,
        "BedrockConverse(model=...)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_configuration_is_refused_with_what_to_write(case: str) -> None:
    build, error, advice = BAD[case]
    with pytest.raises(error, match=None) as raised:
        build()
    assert advice in str(raised.value)


def test_good_configuration_still_works(bedrock_emulator: BedrockEmulator[ManualClock]) -> None:
    cache = BedrockCache(
        CachePolicy(static_ttl="1h"),
        base_model={"arn:aws:bedrock:us-east-1:1:application-inference-profile/p": SONNET},
        table=ModelTable.shipped(),
        recent=10,
    )
    llm = with_bedrock_cache(
        ChatBedrockConverse(model=SONNET, **bedrock_emulator.connection_kwargs), cache
    )
    assert llm.invoke("hi").content
    assert len(cache.stats.recent()) == 1
