"""LlamaIndex integration of bedrock-prompt-cache.

Wrap the LLM once and every engine, agent and call path built on it is planned and measured::

    from llama_index_bedrock_cache import BedrockCacheEventHandler, CachingBedrockConverse

    llm = CachingBedrockConverse(model="us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    handler = BedrockCacheEventHandler.register()
    ...
    print(handler.summary())

Checkpoints are planned by the core (:mod:`bedrock_cache`) on the final Converse request, at the
LLM's boto3 client; this package only wires that up and reports the numbers through LlamaIndex's
instrumentation, its legacy callbacks, and cache-friendly prompt layouts for retrieval.
"""

try:
    import llama_index.core
    import llama_index.llms.bedrock_converse  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "llama_index_bedrock_cache needs LlamaIndex and its Bedrock Converse LLM: "
        "pip install 'bedrock-prompt-cache[llama-index]'"
    ) from exc

from bedrock_cache import __version__ as __version__

from ._callbacks import BedrockCacheCallbackHandler
from ._events import BedrockCacheEvent, BedrockCacheEventHandler
from ._llm import CachingBedrockConverse, cache_of, with_bedrock_cache
from ._rag import (
    DOCUMENT_QA_TEMPLATE,
    DOCUMENT_REFINE_TEMPLATE,
    CacheFriendlyCondensePlusContextChatEngine,
    CacheFriendlyContextChatEngine,
    StableNodeOrder,
    cached_query_engine,
    document_qa_templates,
)

__all__ = [
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
