"""Tool-using agent: ``create_agent`` with 20 tools, three turns, one with 11 parallel calls.

The tool schemas and the system prompt are read from the cache from the second model call on;
the turn with 11 parallel tool calls adds 22 blocks (more than Claude's ~20-block lookback) and
still reads the earlier prefix. On the emulator the model's tool calls are scripted so the loop
runs; ``--real`` calls Amazon Bedrock and lets the model decide::

    python -m integrations.langchain.agent [--real] [--model MODEL_ID]
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver

from bedrock_cache.emulator import BedrockEmulator
from integrations.shared import (
    AGENT_QUESTIONS,
    AGENT_SYSTEM_PROMPT,
    AGENT_TOOLS,
    DEFAULT_MODEL,
    AppRun,
    main_for,
    script_agent_replies,
)
from langchain_bedrock_cache import BedrockCacheMiddleware

NAME = "LangChain agent (20 tools)"


def agent_tools() -> list[BaseTool]:
    """The twenty shared lookup functions as LangChain tools (same order every time)."""
    return [tool(fn) for fn in AGENT_TOOLS]


def run(
    connection_kwargs: dict[str, Any],
    *,
    caching: bool,
    model: str = DEFAULT_MODEL,
    emulator: BedrockEmulator[Any] | None = None,
) -> AppRun:
    """Three agent turns in one thread; with ``emulator``, the model's tool calls are scripted."""
    if emulator is not None:
        script_agent_replies(emulator)
    result = AppRun(NAME, caching)
    cache = result.cache
    llm = ChatBedrockConverse(model=model, max_tokens=500, **connection_kwargs)
    agent = create_agent(
        llm,
        tools=agent_tools(),
        system_prompt=AGENT_SYSTEM_PROMPT,
        middleware=[BedrockCacheMiddleware(cache)],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": f"agent-{caching}"}}
    for question in AGENT_QUESTIONS:
        agent.invoke({"messages": [HumanMessage(question)]}, config)
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
