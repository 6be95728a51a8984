"""The public surface of ``llama_index_bedrock_cache`` is exactly ``__all__``, and importing it
without the LlamaIndex extra fails with an ImportError that names the extra to install."""

from __future__ import annotations

import importlib
import sys

import pytest

import llama_index_bedrock_cache

PUBLIC = [
    "DOCUMENT_QA_TEMPLATE",
    "DOCUMENT_REFINE_TEMPLATE",
    "BedrockCacheCallbackHandler",
    "BedrockCacheEvent",
    "BedrockCacheEventHandler",
    "CacheFriendlyCondensePlusContextChatEngine",
    "CacheFriendlyContextChatEngine",
    "CachingBedrockConverse",
    "StableNodeOrder",
    "cache_of",
    "cached_query_engine",
    "document_qa_templates",
    "with_bedrock_cache",
]


def test_public_names_are_pinned() -> None:
    assert sorted(llama_index_bedrock_cache.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(llama_index_bedrock_cache, name) is not None


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("llama_index_bedrock_cache")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "llama_index.llms.bedrock_converse", None)
    with pytest.raises(ImportError, match=r"pip install 'bedrock-prompt-cache\[llama-index\]'"):
        importlib.import_module("llama_index_bedrock_cache")
