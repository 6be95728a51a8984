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

from typing import TYPE_CHECKING, Any

try:
    import langchain_aws  # noqa: F401
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "langchain_bedrock_cache needs langchain-core and langchain-aws: "
        "pip install 'bedrock-prompt-cache[langchain]'"
    ) from exc

from ._callbacks import BedrockCacheCallbackHandler
from ._models import bedrock_converse_model
from ._qa import cached_qa_prompt, create_cached_qa_chain, format_cached_context
from ._runnable import with_bedrock_cache

if TYPE_CHECKING:
    from ._middleware import BedrockCacheMiddleware

from bedrock_cache import __version__ as __version__


def __getattr__(name: str) -> Any:
    # The agent middleware needs langchain >= 1.0 (the [agents] extra); the callback handler,
    # LCEL and chat-model paths work with langchain-core 0.3 alone, so import it on first use.
    if name == "BedrockCacheMiddleware":
        try:
            from ._middleware import BedrockCacheMiddleware
        except ImportError as exc:
            raise ImportError(
                "BedrockCacheMiddleware needs langchain >= 1.0 (langchain.agents.middleware): "
                "pip install 'bedrock-prompt-cache[agents]'"
            ) from exc
        return BedrockCacheMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BedrockCacheCallbackHandler",
    "BedrockCacheMiddleware",
    "bedrock_converse_model",
    "cached_qa_prompt",
    "create_cached_qa_chain",
    "format_cached_context",
    "with_bedrock_cache",
]
