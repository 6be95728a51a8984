"""langchain_bedrock_cache: Amazon Bedrock prompt caching for LangChain, LangGraph and LangSmith.

Thin adapters over :mod:`bedrock_cache`: all planning happens in the core on the final Converse
request (at the model's boto3 client), so these only decide *when* a cache applies and read the
numbers back::

    from langchain.agents import create_agent
    from langchain_bedrock_cache import BedrockCacheMiddleware, BedrockCacheCallbackHandler

    agent = create_agent(llm, tools, middleware=[BedrockCacheMiddleware()])
    handler = BedrockCacheCallbackHandler()
    agent.invoke({"messages": [...]}, config={"callbacks": [handler]})
    print(handler)
"""

from __future__ import annotations

try:
    import langchain.agents  # noqa: F401
    import langchain_aws  # noqa: F401
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "langchain_bedrock_cache needs LangChain and langchain-aws: "
        "pip install 'bedrock-prompt-cache[langchain]'"
    ) from exc

from ._callbacks import BedrockCacheCallbackHandler
from ._middleware import BedrockCacheMiddleware
from ._models import bedrock_converse_model
from ._qa import cached_qa_prompt, create_cached_qa_chain, format_cached_context
from ._runnable import with_bedrock_cache

__all__ = [
    "BedrockCacheCallbackHandler",
    "BedrockCacheMiddleware",
    "bedrock_converse_model",
    "cached_qa_prompt",
    "create_cached_qa_chain",
    "format_cached_context",
    "with_bedrock_cache",
]
