"""What a change invalidates follows Bedrock (BEDROCK.md §8): a tool-choice or thinking change
invalidates the message entries only; tools and system entries stay readable.

Invariant: through a real boto3 client, after the change the tools + system checkpoint is read and
the message checkpoint is written anew; a tool-definition change invalidates everything.
"""

from __future__ import annotations

from typing import Any

from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "anthropic.claude-sonnet-4-6"
CACHE = {"cachePoint": {"type": "default"}}
SYSTEM = "You are the support assistant of Example Corp. Answer briefly and politely. " * 80
HISTORY = "Earlier in this conversation the customer described their order in detail. " * 80


def tool(name: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"order_id": {"type": "string"}}}
    return {"toolSpec": {"name": name, "description": "Look up.", "inputSchema": {"json": schema}}}


def request(choice: dict[str, Any], tool_name: str = "lookup", budget: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = {
        "modelId": SONNET,
        "system": [{"text": SYSTEM}, CACHE],
        "messages": [{"role": "user", "content": [{"text": HISTORY}, CACHE, {"text": "Hi"}]}],
        "toolConfig": {"tools": [tool(tool_name)], "toolChoice": choice},
    }
    if budget:
        thinking = {"type": "enabled", "budget_tokens": budget}
        result["additionalModelRequestFields"] = {"thinking": thinking}
    return result


def usage(emu: BedrockEmulator[ManualClock], req: dict[str, Any]) -> tuple[int, int]:
    reply: dict[str, Any] = emu.client().converse(**req)["usage"]
    return reply["cacheReadInputTokens"], reply["cacheWriteInputTokens"]


def test_tool_choice_change_keeps_tools_and_system(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    first = usage(bedrock_emulator, request({"auto": {}}))
    assert first[0] == 0 and first[1] > 0
    system_read, history_write = usage(bedrock_emulator, request({"any": {}}))
    assert 0 < system_read < first[1], "tools + system are read, the messages are not"
    assert history_write == first[1] - system_read


def test_thinking_change_keeps_tools_and_system(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    first = usage(bedrock_emulator, request({"auto": {}}, budget=1024))
    read, write = usage(bedrock_emulator, request({"auto": {}}, budget=2048))
    assert 0 < read < first[1] and read + write == first[1]


def test_tool_definition_change_invalidates_everything(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    first = usage(bedrock_emulator, request({"auto": {}}))
    assert usage(bedrock_emulator, request({"auto": {}}, tool_name="find")) == (0, first[1])
