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

from bedrock_cache.emulator import BedrockEmulator, Reply
from integrations.shared import (
    AGENT_SYSTEM_PROMPT,
    AGENT_TOOLS,
    DEFAULT_MODEL,
    AppRun,
    cache_for,
    main_for,
)
from langchain_bedrock_cache import BedrockCacheMiddleware

NAME = "LangChain agent (20 tools)"
QUESTIONS = [
    "Where is my order A-1001?",
    "Please run a full account review for account 42: check everything you can.",
    "Do I have any open tickets?",
]
REVIEW_TOOLS = [fn.__name__ for fn in AGENT_TOOLS[:11]]


def agent_tools() -> list[BaseTool]:
    """The twenty shared lookup functions as LangChain tools (same order every time)."""
    return [tool(fn) for fn in AGENT_TOOLS]


def script_replies(emulator: BedrockEmulator[Any]) -> None:
    """The emulated model's turns: a tool call, then an answer, per question."""
    review = tuple(
        {"toolUse": {"name": name, "input": {"query": "account 42"}}} for name in REVIEW_TOOLS
    )
    emulator.script(
        [
            Reply.tool_use("lookup_orders", {"query": "A-1001"}),
            "Your order A-1001 has shipped and arrives tomorrow.",
            Reply(review, "tool_use"),
            "Account 42 looks healthy: every record reports status ok.",
            Reply.tool_use("lookup_tickets", {"query": "account 42"}),
            "You have no open tickets.",
        ]
    )


def run(
    connection_kwargs: dict[str, Any],
    *,
    caching: bool,
    model: str = DEFAULT_MODEL,
    emulator: BedrockEmulator[Any] | None = None,
) -> AppRun:
    """Three agent turns in one thread; with ``emulator``, the model's tool calls are scripted."""
    if emulator is not None:
        script_replies(emulator)
    cache = cache_for(caching)
    result = AppRun(NAME, caching)
    cache.add_listener(result.reports.append)
    llm = ChatBedrockConverse(model=model, max_tokens=500, **connection_kwargs)
    agent = create_agent(
        llm,
        tools=agent_tools(),
        system_prompt=AGENT_SYSTEM_PROMPT,
        middleware=[BedrockCacheMiddleware(cache)],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": f"agent-{caching}"}}
    for question in QUESTIONS:
        agent.invoke({"messages": [HumanMessage(question)]}, config)
    result.total = cache.stats.total()
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
