"""Pydantic AI ``BedrockConverseModel`` with ``bedrock_cache_instructions``,
``bedrock_cache_tool_definitions`` and ``bedrock_cache_messages`` on, through
``pydantic_ai.direct.model_request_sync`` with the call's history."""

from __future__ import annotations

from typing import Any

from ..calls import Call
from . import Sender, Strategy, Unavailable

CACHE_SETTINGS = {
    "bedrock_cache_instructions": True,
    "bedrock_cache_tool_definitions": True,
    "bedrock_cache_messages": True,
}


def _open(emu: Any, model: str) -> Sender:
    try:
        from pydantic_ai import messages as m
        from pydantic_ai.direct import model_request_sync
        from pydantic_ai.models import ModelRequestParameters
        from pydantic_ai.models.bedrock import BedrockConverseModel
        from pydantic_ai.providers.bedrock import BedrockProvider
        from pydantic_ai.tools import ToolDefinition
    except ImportError as exc:
        raise Unavailable(f"pydantic-ai-slim[bedrock] is not installed ({exc})") from exc
    bedrock = BedrockConverseModel(model, provider=BedrockProvider(bedrock_client=emu.client()))

    def history(call: Call) -> list[Any]:
        names: dict[str, str] = {}
        result: list[Any] = []
        parts: list[Any] = [m.SystemPromptPart(content=t) for t in call.system]
        for message in call.messages:
            if message.role == "assistant":
                if parts:
                    result.append(m.ModelRequest(parts=parts))
                    parts = []
                names.update({c.id: c.name for c in message.tool_calls})
                result.append(
                    m.ModelResponse(
                        parts=[
                            *(m.TextPart(content=t) for t in message.texts),
                            *(
                                m.ToolCallPart(c.name, dict(c.arguments), tool_call_id=c.id)
                                for c in message.tool_calls
                            ),
                        ]
                    )
                )
                continue
            parts += [
                m.ToolReturnPart(names.get(r.id, ""), r.text, tool_call_id=r.id)
                for r in message.tool_results
            ]
            if message.texts:
                parts.append(m.UserPromptPart(content=list(message.texts)))
        if parts:
            result.append(m.ModelRequest(parts=parts))
        return result

    def send(call: Call, caching: bool) -> None:
        settings: dict[str, Any] = dict(CACHE_SETTINGS) if caching else {}
        if call.thinking:
            settings["bedrock_additional_model_requests_fields"] = {
                "thinking": {"type": "enabled", "budget_tokens": call.thinking}
            }
        parameters = ModelRequestParameters(
            function_tools=[
                ToolDefinition(
                    name=t.name, description=t.description, parameters_json_schema=dict(t.schema)
                )
                for t in call.tools
            ],
            allow_text_output=call.tool_choice is None,
        )
        model_request_sync(
            bedrock, history(call), model_settings=settings, model_request_parameters=parameters
        )

    return send


PYDANTIC_AI = Strategy(
    "pydantic-ai", "BedrockConverseModel with bedrock_cache_* model settings", _open
)
