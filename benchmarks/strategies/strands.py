"""Strands ``BedrockModel`` with ``cache_config=CacheConfig(strategy="auto")``, streamed with the
call's history (Strands messages are Converse messages)."""

from __future__ import annotations

import asyncio
from typing import Any

from ..calls import Call, to_converse
from . import Sender, Strategy, Unavailable


def _open(emu: Any, model: str) -> Sender:
    try:
        import boto3
        from strands.models import BedrockModel
        from strands.models.model import CacheConfig
    except ImportError as exc:
        raise Unavailable(f"strands-agents is not installed ({exc})") from exc
    connection = emu.connection_kwargs
    session = boto3.Session(
        aws_access_key_id=connection["aws_access_key_id"],
        aws_secret_access_key=connection["aws_secret_access_key"],
        region_name=connection["region_name"],
    )
    models: dict[tuple[bool, int | None], Any] = {}

    def bedrock(caching: bool, thinking: int | None) -> Any:
        key = (caching, thinking)
        if key not in models:
            config: dict[str, Any] = {"streaming": False}
            if caching:
                config["cache_config"] = CacheConfig(strategy="auto")
            if thinking:
                config["additional_request_fields"] = {
                    "thinking": {"type": "enabled", "budget_tokens": thinking}
                }
            models[key] = BedrockModel(
                model_id=model,
                boto_session=session,
                endpoint_url=connection["endpoint_url"],
                **config,
            )
        return models[key]

    async def consume(call: Call, caching: bool) -> None:
        request = to_converse(call, model)
        tools = [block["toolSpec"] for block in request.get("toolConfig", {}).get("tools", [])]
        choice = request.get("toolConfig", {}).get("toolChoice")
        async for _ in bedrock(caching, call.thinking).stream(
            request["messages"],
            tools or None,
            system_prompt_content=request.get("system"),
            tool_choice=choice,
        ):
            pass

    def send(call: Call, caching: bool) -> None:
        asyncio.run(consume(call, caching))

    return send


STRANDS = Strategy("strands", "BedrockModel(cache_config=CacheConfig(strategy='auto'))", _open)
