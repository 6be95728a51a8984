"""Invariant: the public surface of ``langchain_bedrock_cache`` is exactly ``__all__``."""

from __future__ import annotations

import langchain_bedrock_cache


def test_public_names_are_pinned() -> None:
    assert sorted(langchain_bedrock_cache.__all__) == [
        "BedrockCacheCallbackHandler",
        "BedrockCacheMiddleware",
        "bedrock_converse_model",
        "cached_qa_prompt",
        "create_cached_qa_chain",
        "format_cached_context",
        "with_bedrock_cache",
    ]
    for name in langchain_bedrock_cache.__all__:
        assert getattr(langchain_bedrock_cache, name).__doc__
