"""A forced ``toolChoice`` makes the emulated model call a tool, as Bedrock's models must.

Invariant: with ``toolChoice`` ``{"any": {}}`` the answer is a ``toolUse`` of the first tool, with
``{"tool": {"name": n}}`` of tool ``n``; its ``input`` validates against the tool's JSON schema,
``stopReason`` is ``tool_use``, in Converse and ConverseStream alike; scripted replies still win.
So LangChain's ``with_structured_output`` and LlamaIndex's ``structured_predict`` get their object.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from langchain_aws import ChatBedrockConverse
from llama_index.core.prompts import PromptTemplate
from llama_index.llms.bedrock_converse import BedrockConverse
from pydantic import BaseModel

from bedrock_cache.emulator import BedrockEmulator, ManualClock, Reply

SONNET = "anthropic.claude-sonnet-4-6"
NOVA = "amazon.nova-pro-v1:0"
Emulator = BedrockEmulator[ManualClock]

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "when": {"type": "string", "format": "date"},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "minItems": 1},
        "detail": {"type": "object", "properties": {"level": {"type": "number"}}},
        "optional": {"type": "string"},
    },
    "required": ["city", "unit", "days", "when", "tags", "detail"],
    "$defs": {
        "tag": {"type": "object", "properties": {"id": {"type": "boolean"}}, "required": ["id"]}
    },
}
LOOKUP = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
}


def tool(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "toolSpec": {
            "name": name,
            "description": f"The {name} tool.",
            "inputSchema": {"json": schema},
        }
    }


def request(choice: dict[str, Any] | None, model: str = SONNET) -> dict[str, Any]:
    config: dict[str, Any] = {"tools": [tool("lookup_order", LOOKUP), tool("weather", WEATHER)]}
    if choice is not None:
        config["toolChoice"] = choice
    return {
        "modelId": model,
        "messages": [{"role": "user", "content": [{"text": "What is the weather in Paris?"}]}],
        "toolConfig": config,
    }


def answer(client: Any, api: str, kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The assistant's content blocks and stop reason; streaming ones rebuilt from the events."""
    if api == "converse":
        response = client.converse(**kwargs)
        return response["output"]["message"]["content"], response["stopReason"]
    blocks: dict[int, dict[str, Any]] = {}
    stop = ""
    for event in client.converse_stream(**kwargs)["stream"]:
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            call = dict(start["start"]["toolUse"], input="")
            blocks[start["contentBlockIndex"]] = {"toolUse": call}
        elif "contentBlockDelta" in event:
            delta = event["contentBlockDelta"]
            block = blocks.setdefault(delta["contentBlockIndex"], {"text": ""})
            if "toolUse" in delta["delta"]:
                block["toolUse"]["input"] += delta["delta"]["toolUse"]["input"]
            else:
                block["text"] += delta["delta"]["text"]
        elif "messageStop" in event:
            stop = event["messageStop"]["stopReason"]
    for block in blocks.values():
        if "toolUse" in block:
            block["toolUse"]["input"] = json.loads(block["toolUse"]["input"])
    return [blocks[i] for i in sorted(blocks)], stop


@pytest.fixture(params=["converse", "converse_stream"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fits(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """A small JSON-schema check covering the keywords used above."""
    if "$ref" in schema:
        return fits(value, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        return False
    if kind == "object":
        properties = schema.get("properties", {})
        return (
            isinstance(value, dict)
            and all(name in value for name in schema.get("required", []))
            and all(fits(v, properties.get(k, {}), root) for k, v in value.items())
        )
    if kind == "array":
        items = schema.get("items", {})
        return (
            isinstance(value, list)
            and len(value) >= schema.get("minItems", 0)
            and all(fits(v, items, root) for v in value)
        )
    if kind == "string":
        return isinstance(value, str) and len(value) >= schema.get("minLength", 0)
    if kind == "integer":
        return isinstance(value, int) and schema.get("minimum", value) <= value <= schema.get(
            "maximum", value
        )
    if kind == "number":
        return isinstance(value, int | float)
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def test_tool_choice_tool_calls_the_named_tool_with_a_valid_input(
    bedrock_emulator: Emulator, api: str
) -> None:
    blocks, stop = answer(bedrock_emulator.client(), api, request({"tool": {"name": "weather"}}))
    assert stop == "tool_use"
    assert [next(iter(b)) for b in blocks] == ["toolUse"], "no text with a forced tool"
    call = blocks[0]["toolUse"]
    assert call["name"] == "weather" and call["toolUseId"].startswith("tooluse_")
    assert fits(call["input"], WEATHER, WEATHER)
    assert call["input"]["unit"] == "celsius" and "optional" not in call["input"]


def test_tool_choice_any_calls_the_first_tool(bedrock_emulator: Emulator, api: str) -> None:
    blocks, stop = answer(bedrock_emulator.client(), api, request({"any": {}}, NOVA))
    assert stop == "tool_use"
    assert blocks[0]["toolUse"]["name"] == "lookup_order"
    assert fits(blocks[0]["toolUse"]["input"], LOOKUP, LOOKUP)


def test_auto_or_no_tool_choice_answers_with_text(bedrock_emulator: Emulator, api: str) -> None:
    for choice in (None, {"auto": {}}):
        blocks, stop = answer(bedrock_emulator.client(), api, request(choice))
        assert stop == "end_turn" and "text" in blocks[0]


def test_scripted_replies_win_over_a_forced_tool(bedrock_emulator: Emulator, api: str) -> None:
    bedrock_emulator.script([Reply.tool_use("lookup_order", {"order_id": "A-1"})])
    blocks, _ = answer(bedrock_emulator.client(), api, request({"tool": {"name": "weather"}}))
    assert blocks[0]["toolUse"]["input"] == {"order_id": "A-1"}


def test_forcing_a_tool_that_is_not_offered_is_rejected(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    with pytest.raises(client.exceptions.ValidationException, match="must name one of"):
        client.converse(**request({"tool": {"name": "launch_rocket"}}))


class Forecast(BaseModel):
    """A weather forecast request."""

    city: str
    unit: Literal["celsius", "fahrenheit"]
    days: int


@pytest.mark.parametrize("model", [f"us.{SONNET}", "us.amazon.nova-2-lite-v1:0"])
def test_langchain_structured_output_gets_its_object(
    bedrock_emulator: Emulator, model: str
) -> None:
    llm = ChatBedrockConverse(model=model, **bedrock_emulator.connection_kwargs)
    forecast = llm.with_structured_output(Forecast).invoke("Weather in Paris this week?")
    if "toolChoice" not in bedrock_emulator.requests[-1].request.get("toolConfig", {}):
        pytest.skip("this langchain-aws does not force the tool for this model (no toolChoice)")
    assert isinstance(forecast, Forecast) and forecast.unit == "celsius"
    assert bedrock_emulator.requests[-1].stop_reason == "tool_use"


def test_llama_index_structured_predict_gets_its_object(bedrock_emulator: Emulator) -> None:
    # A model every supported llama-index-llms-bedrock-converse knows (0.9.5 predates 4.6).
    llm = BedrockConverse(
        model="us.anthropic.claude-sonnet-4-5-20250929-v1:0", **bedrock_emulator.connection_kwargs
    )
    prompt = PromptTemplate("Weather in {city} this week?")
    forecast = llm.structured_predict(Forecast, prompt, city="Paris")
    assert isinstance(forecast, Forecast) and forecast.unit == "celsius"
    assert bedrock_emulator.requests[-1].request["toolConfig"]["toolChoice"] == {"any": {}}
