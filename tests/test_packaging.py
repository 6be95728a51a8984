"""Invariant: each package's ``__version__`` is the installed distribution's version, and the
agent middleware is importable exactly when langchain >= 1.0 is (the ``[agents]`` extra)."""

from __future__ import annotations

import importlib.util
from importlib.metadata import version

import pytest

import bedrock_cache
import langchain_bedrock_cache


def test_version_comes_from_the_distribution() -> None:
    expected = version("bedrock-prompt-cache")
    assert bedrock_cache.__version__ == expected
    assert langchain_bedrock_cache.__version__ == expected
    llama = pytest.importorskip(
        "llama_index_bedrock_cache", reason="needs [llama-index]", exc_type=ImportError
    )
    assert llama.__version__ == expected


def test_middleware_needs_the_agents_extra() -> None:
    if importlib.util.find_spec("langchain") is not None:
        assert langchain_bedrock_cache.BedrockCacheMiddleware.__doc__
        return
    with pytest.raises(ImportError, match=r"bedrock-prompt-cache\[agents\]"):
        _ = langchain_bedrock_cache.BedrockCacheMiddleware
