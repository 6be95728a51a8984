"""Tool-using agent: ``FunctionAgent`` with 20 tools, three turns, one with 11 parallel calls.

The tool schemas and the system prompt are read from the cache from the second model call on;
the turn with 11 parallel tool calls adds 22 blocks (more than Claude's ~20-block lookback) and
still reads the earlier prefix. On the emulator the model's tool calls are scripted so the loop
runs; ``--real`` calls Amazon Bedrock and lets the model decide::

    python -m integrations.llama_index.agent [--real] [--model MODEL_ID]
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.tools import BaseTool, FunctionTool

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
from llama_index_bedrock_cache import CachingBedrockConverse

NAME = "LlamaIndex agent (20 tools)"


def agent_tools() -> list[BaseTool | Callable[..., Any]]:
    """The twenty shared lookup functions as LlamaIndex tools (same order every time)."""
    return [FunctionTool.from_defaults(fn) for fn in AGENT_TOOLS]


async def ask_all(agent: FunctionAgent, questions: list[str]) -> list[str]:
    """Run the questions as one conversation (one memory keeps the history)."""
    memory = ChatMemoryBuffer.from_defaults(token_limit=100_000)
    answers = []
    for question in questions:
        answers.append(str(await agent.run(question, memory=memory)))
    return answers


def run(
    connection_kwargs: dict[str, Any],
    *,
    caching: bool,
    model: str = DEFAULT_MODEL,
    emulator: BedrockEmulator[Any] | None = None,
) -> AppRun:
    """Three agent turns in one conversation; with ``emulator``, tool calls are scripted."""
    if emulator is not None:
        script_agent_replies(emulator)
    result = AppRun(NAME, caching)
    cache = result.cache
    llm = CachingBedrockConverse(model=model, max_tokens=500, cache=cache, **connection_kwargs)
    agent = FunctionAgent(tools=agent_tools(), llm=llm, system_prompt=AGENT_SYSTEM_PROMPT)
    asyncio.run(ask_all(agent, AGENT_QUESTIONS))
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
