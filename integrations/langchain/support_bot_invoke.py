"""Support bot on ``ChatBedrock`` (InvokeModel): the same 10-turn conversation and ~4,000-token
system prompt as the Converse support bot, through langchain-aws's InvokeModel chat model.

``create_agent`` with a LangGraph checkpointer keeps the history; ``BedrockCacheMiddleware``
puts Anthropic ``cache_control`` markers on the system prompt and the growing conversation in
the InvokeModel body. Runs against the local emulator by default; ``--real`` calls Amazon
Bedrock with your AWS credentials::

    python -m integrations.langchain.support_bot_invoke [--real] [--model MODEL_ID]
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_aws import ChatBedrock
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

NAME = "LangChain support bot (InvokeModel)"


def run(connection_kwargs: dict[str, Any], *, caching: bool, model: str = DEFAULT_MODEL) -> AppRun:
    """Ask the ten support questions in one conversation; return every call's report."""
    result = AppRun(NAME, caching)
    llm = ChatBedrock(model=model, max_tokens=400, **connection_kwargs)
    agent = create_agent(
        llm,
        tools=[],
        system_prompt=support_system_prompt(),
        middleware=[BedrockCacheMiddleware(result.cache)],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": f"support-invoke-{caching}"}}
    for question in SUPPORT_QUESTIONS:
        agent.invoke({"messages": [HumanMessage(question)]}, config)
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
