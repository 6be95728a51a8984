"""Support bot: a 10-turn conversation with a ~4,000-token system prompt (LlamaIndex).

A ``SimpleChatEngine`` with its chat memory on ``CachingBedrockConverse``: the planner caches the
system prompt and advances a checkpoint at the end of the growing conversation. Runs against the
local emulator by default; ``--real`` calls Amazon Bedrock with your AWS credentials::

    python -m integrations.llama_index.support_bot [--real] [--model MODEL_ID]
"""

from __future__ import annotations

from typing import Any

from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import ChatMemoryBuffer

from integrations.shared import (
    DEFAULT_MODEL,
    SUPPORT_QUESTIONS,
    AppRun,
    main_for,
    support_system_prompt,
)
from llama_index_bedrock_cache import CachingBedrockConverse

NAME = "LlamaIndex support bot"


def run(connection_kwargs: dict[str, Any], *, caching: bool, model: str = DEFAULT_MODEL) -> AppRun:
    """Ask the ten support questions in one conversation; return every call's report."""
    result = AppRun(NAME, caching)
    cache = result.cache
    llm = CachingBedrockConverse(model=model, max_tokens=400, cache=cache, **connection_kwargs)
    engine = SimpleChatEngine.from_defaults(
        llm=llm,
        system_prompt=support_system_prompt(),
        memory=ChatMemoryBuffer.from_defaults(token_limit=100_000),
    )
    for question in SUPPORT_QUESTIONS:
        engine.chat(question)
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
