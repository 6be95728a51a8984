"""A 10-turn support conversation with a ~4,000-token system prompt, straight on boto3.

python -m integrations.boto3_support_bot            # against the local emulator
python -m integrations.boto3_support_bot --real     # against Amazon Bedrock
"""

from __future__ import annotations

from typing import Any

import boto3

from integrations.shared import (
    SUPPORT_QUESTIONS,
    AppRun,
    main_for,
    support_system_prompt,
)


def run(connection_kwargs: dict[str, Any], *, caching: bool, model: str) -> AppRun:
    result = AppRun("boto3 support bot", caching)
    cache = result.cache
    client = cache.instrument(boto3.client("bedrock-runtime", **connection_kwargs))
    system = [{"text": support_system_prompt()}]
    messages: list[dict[str, Any]] = []
    for question in SUPPORT_QUESTIONS:
        messages.append({"role": "user", "content": [{"text": question}]})
        response = client.converse(
            modelId=model, system=system, messages=messages, inferenceConfig={"maxTokens": 300}
        )
        messages.append(response["output"]["message"])
    return result


def main() -> None:
    main_for(run, __doc__ or "")


if __name__ == "__main__":
    main()
