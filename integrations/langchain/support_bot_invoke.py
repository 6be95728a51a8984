"""Support bot on ``ChatBedrock`` (InvokeModel): the same 10-turn agent conversation and
~4,000-token system prompt as the Converse support bot, through langchain-aws's InvokeModel chat
model; ``BedrockCacheMiddleware`` puts Anthropic ``cache_control`` markers on the system prompt
and the growing conversation in the InvokeModel body. Runs against the local emulator by
default; ``--real`` calls Amazon Bedrock with your AWS credentials::

    python -m integrations.langchain.support_bot_invoke [--real] [--model MODEL_ID]
"""

from __future__ import annotations

from typing import Any

from langchain_aws import ChatBedrock

from integrations.langchain.support_bot import converse
from integrations.shared import DEFAULT_MODEL, AppRun, main_for

NAME = "LangChain support (InvokeModel)"


def run(connection_kwargs: dict[str, Any], *, caching: bool, model: str = DEFAULT_MODEL) -> AppRun:
    """Ask the ten support questions in one conversation; return every call's report."""
    llm = ChatBedrock(model=model, max_tokens=400, **connection_kwargs)
    return converse(llm, AppRun(NAME, caching))


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
