"""Support bot: a 10-turn conversation with a ~4,000-token system prompt (LangChain agent).

``create_agent`` with a LangGraph checkpointer keeps the history; ``BedrockCacheMiddleware``
caches the system prompt and the growing conversation. Runs against the local emulator by
default; ``--real`` calls Amazon Bedrock with your AWS credentials::

    python -m integrations.langchain.support_bot [--real] [--model MODEL_ID]
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from integrations.shared import (
    DEFAULT_MODEL,
    SUPPORT_QUESTIONS,
    AppRun,
    main_for,
    support_system_prompt,
)
from langchain_bedrock_cache import BedrockCacheMiddleware

NAME = "LangChain support bot"


def run(connection_kwargs: dict[str, Any], *, caching: bool, model: str = DEFAULT_MODEL) -> AppRun:
    """Ask the ten support questions in one conversation; return every call's report."""
    llm = ChatBedrockConverse(model=model, max_tokens=400, **connection_kwargs)
    return converse(llm, AppRun(NAME, caching))


def converse(llm: BaseChatModel, result: AppRun) -> AppRun:
    """The ten support questions as one agent conversation through ``llm``, planned by
    ``result.cache``; returns ``result``."""
    agent = create_agent(
        llm,
        tools=[],
        system_prompt=support_system_prompt(),
        middleware=[BedrockCacheMiddleware(result.cache)],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": f"support-{result.caching}"}}
    for question in SUPPORT_QUESTIONS:
        agent.invoke({"messages": [HumanMessage(question)]}, config)
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
