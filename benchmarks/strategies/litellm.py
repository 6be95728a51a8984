"""LiteLLM ``completion`` on ``bedrock/converse/...`` with ``cache_control_injection_points``
(the system message and the last message, as its prompt-caching docs show), pointed at the
emulator with ``aws_bedrock_runtime_endpoint``."""

from __future__ import annotations

import json
import os
from typing import Any

from ..calls import Call
from . import Sender, Strategy, Unavailable

INJECTION_POINTS = [
    {"location": "message", "role": "system"},
    {"location": "message", "index": -1},
]


def to_openai(call: Call) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": [{"type": "text", "text": t} for t in call.system]}
    ]
    for message in call.messages:
        texts = [{"type": "text", "text": t} for t in message.texts]
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": texts or None}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))},
                    }
                    for c in message.tool_calls
                ]
            messages.append(entry)
            continue
        messages += [
            {"role": "tool", "tool_call_id": r.id, "content": r.text} for r in message.tool_results
        ]
        if texts:
            messages.append({"role": "user", "content": texts})
    return messages


def _open(emu: Any, model: str) -> Sender:
    # Use the cost map shipped in the package instead of fetching one over the network.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:
        raise Unavailable(f"litellm is not installed ({exc})") from exc
    connection = emu.connection_kwargs

    def send(call: Call, caching: bool) -> None:
        kwargs: dict[str, Any] = {
            "aws_bedrock_runtime_endpoint": connection["endpoint_url"],
            "aws_region_name": connection["region_name"],
            "aws_access_key_id": connection["aws_access_key_id"],
            "aws_secret_access_key": connection["aws_secret_access_key"],
            "num_retries": 0,
        }
        if caching:
            kwargs["cache_control_injection_points"] = INJECTION_POINTS
        if call.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": dict(t.schema),
                    },
                }
                for t in call.tools
            ]
            if call.tool_choice == "any":
                kwargs["tool_choice"] = "required"
            elif call.tool_choice:
                kwargs["tool_choice"] = {"type": "function", "function": {"name": call.tool_choice}}
        if call.thinking:
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": call.thinking}
        litellm.completion(model=f"bedrock/converse/{model}", messages=to_openai(call), **kwargs)

    return send


LITELLM = Strategy("litellm", "litellm.completion(..., cache_control_injection_points=...)", _open)
