"""InvokeModel and InvokeModelWithResponseStream on the emulator, with each model's own body.

Invariant: a real boto3 client sending an Anthropic Messages body with ``cache_control`` (Claude)
or a Nova ``messages-v1`` body with ``cachePoint`` writes the marked prefix on the first call and
reads it on the second, and sees it in the body's usage, in Bedrock's token-count headers and, for
streams, in ``message_start`` / ``message_delta`` / ``amazon-bedrock-invocationMetrics`` (Nova:
``metadata``); the limits of Converse apply (4 markers, minimums, TTL order, ``ttl`` only on
extended-TTL models). The cases follow what the public AWS prompt-caching samples for
``invoke_model`` do: system prompt, message content, tool definitions, mixed TTLs, and Nova's
inline ``cachePoint``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EventStreamError

from bedrock_cache.emulator import BedrockEmulator, ManualClock, Reply

SONNET = "global.anthropic.claude-sonnet-4-6"  # min 1,024 tokens, TTLs 5m and 1h
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # 5m only: no ttl field at all
NOVA = "us.amazon.nova-lite-v1:0"  # min 1,000 tokens, 5m only, no tool checkpoints
VERSION = "bedrock-2023-05-31"

# About 1,500 tokens each (the emulator estimates ~4 characters a token).
GUIDE = "The observatory guide explains telescopes, orbits and the planets in plain words. " * 72
ATLAS = "The star atlas lists constellations, their brightest stars and how to find them. " * 72
EPHEMERAL = {"type": "ephemeral"}

Emulator = BedrockEmulator[ManualClock]


def claude_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"anthropic_version": VERSION, "max_tokens": 300}
    body.setdefault("messages", [{"role": "user", "content": "Which planet has the most moons?"}])
    return {**body, **fields}


def cached_system(ttl: str | None = None) -> list[dict[str, Any]]:
    marker = {**EPHEMERAL, "ttl": ttl} if ttl else EPHEMERAL
    return [{"type": "text", "text": GUIDE, "cache_control": marker}]


@pytest.fixture(params=["invoke_model", "invoke_model_with_response_stream"])
def api(request: pytest.FixtureRequest) -> str:
    """Every usage case runs through the plain and the streaming operation."""
    return str(request.param)


def invoke(client: Any, api: str, model: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send ``body``; return the usage a caller reads (streams: assembled from the chunks)."""
    if api == "invoke_model":
        response = client.invoke_model(modelId=model, body=json.dumps(body))
        usage: dict[str, Any] = json.loads(response["body"].read())["usage"]
        return usage
    response = client.invoke_model_with_response_stream(modelId=model, body=json.dumps(body))
    chunks = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    return stream_usage(chunks)


def stream_usage(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """What a stream reports: Claude's message_start then message_delta usage; Nova's metadata."""
    usage: dict[str, Any] = {}
    for chunk in chunks:
        if chunk.get("type") == "message_start":
            usage.update(chunk["message"]["usage"])
        elif chunk.get("type") == "message_delta":
            usage.update(chunk["usage"])
        elif "metadata" in chunk:
            usage.update(chunk["metadata"]["usage"])
    assert "amazon-bedrock-invocationMetrics" in chunks[-1], "the last chunk has the metrics"
    return usage


def test_system_prompt_is_written_then_read(bedrock_emulator: Emulator, api: str) -> None:
    client = bedrock_emulator.client()
    first = invoke(client, api, SONNET, claude_body(system=cached_system("5m")))
    assert first["cache_creation_input_tokens"] > 1_024
    assert first["cache_read_input_tokens"] == 0
    assert first["cache_creation"] == {
        "ephemeral_5m_input_tokens": first["cache_creation_input_tokens"],
        "ephemeral_1h_input_tokens": 0,
    }
    second = invoke(client, api, SONNET, claude_body(system=cached_system("5m")))
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0
    assert second["input_tokens"] == first["input_tokens"] > 0, "input_tokens is uncached only"
    assert second["output_tokens"] > 0


def test_headers_carry_the_token_counts(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    body = json.dumps(claude_body(system=cached_system()))
    client.invoke_model(modelId=SONNET, body=body)
    response = client.invoke_model(modelId=SONNET, body=body)
    usage = json.loads(response["body"].read())["usage"]
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert (
        int(headers["x-amzn-bedrock-cache-read-input-token-count"])
        == (usage["cache_read_input_tokens"])
    )
    assert int(headers["x-amzn-bedrock-cache-write-input-token-count"]) == 0
    assert int(headers["x-amzn-bedrock-input-token-count"]) == usage["input_tokens"]
    assert int(headers["x-amzn-bedrock-output-token-count"]) == usage["output_tokens"]
    assert response["contentType"] == "application/json"


def test_stream_events_in_anthropic_order(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    bedrock_emulator.script([Reply.tool_use("find_moons", {"planet": "Saturn"}, text="Checking.")])
    body = claude_body(system=cached_system())
    response = client.invoke_model_with_response_stream(modelId=SONNET, body=json.dumps(body))
    chunks = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    kinds = [chunk["type"] for chunk in chunks]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    starts = [c["content_block"] for c in chunks if c["type"] == "content_block_start"]
    assert [block["type"] for block in starts] == ["text", "tool_use"]
    assert starts[1]["name"] == "find_moons"
    arguments = "".join(
        c["delta"]["partial_json"]
        for c in chunks
        if c["type"] == "content_block_delta" and c["delta"]["type"] == "input_json_delta"
    )
    assert json.loads(arguments) == {"planet": "Saturn"}
    assert chunks[-2]["delta"]["stop_reason"] == "tool_use"
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert (
        metrics["cacheWriteInputTokenCount"]
        == chunks[0]["message"]["usage"]["cache_creation_input_tokens"]
    )
    assert metrics["outputTokenCount"] == chunks[-2]["usage"]["output_tokens"]


def test_message_content_marker_caches_the_document(bedrock_emulator: Emulator, api: str) -> None:
    def body(question: str) -> dict[str, Any]:
        content = [
            {"type": "text", "text": GUIDE, "cache_control": EPHEMERAL},
            {"type": "text", "text": question},
        ]
        return claude_body(messages=[{"role": "user", "content": content}])

    client = bedrock_emulator.client()
    first = invoke(client, api, SONNET, body("What is an orbit?"))
    second = invoke(client, api, SONNET, body("How do I find Orion?"))
    assert first["cache_creation_input_tokens"] > 0
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]


def test_tool_definitions_are_cached(bedrock_emulator: Emulator, api: str) -> None:
    schema = {"type": "object", "properties": {"planet": {"type": "string", "description": GUIDE}}}
    tools = [
        {"name": "find_moons", "description": "List a planet's moons.", "input_schema": schema},
        {
            "name": "find_rings",
            "description": "Describe a planet's rings.",
            "input_schema": schema,
            "cache_control": EPHEMERAL,
        },
    ]
    client = bedrock_emulator.client()
    first = invoke(client, api, SONNET, claude_body(tools=tools))
    second = invoke(client, api, SONNET, claude_body(tools=tools))
    assert first["cache_creation_input_tokens"] > 1_024
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]


def test_markers_on_tool_use_and_tool_result(bedrock_emulator: Emulator) -> None:
    call = {"type": "tool_use", "id": "toolu_1", "name": "find_moons", "input": {"p": "Saturn"}}
    result = {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": [{"type": "text", "text": ATLAS}],
        "cache_control": EPHEMERAL,
    }
    messages = [
        {"role": "user", "content": [{"type": "text", "text": GUIDE}]},
        {"role": "assistant", "content": [{**call, "cache_control": EPHEMERAL}]},
        {"role": "user", "content": [result, {"type": "text", "text": "Summarise."}]},
    ]
    client = bedrock_emulator.client()
    invoke(client, "invoke_model", SONNET, claude_body(messages=messages))
    outcome = bedrock_emulator.requests[-1].outcome
    assert outcome is not None
    assert [cp.status for cp in outcome.checkpoints] == ["write", "write"]
    second = invoke(client, "invoke_model", SONNET, claude_body(messages=messages))
    assert second["cache_read_input_tokens"] == outcome.cache_write


def test_mixed_ttls_longer_first(bedrock_emulator: Emulator, api: str) -> None:
    content = [
        {"type": "text", "text": GUIDE, "cache_control": {**EPHEMERAL, "ttl": "1h"}},
        {"type": "text", "text": ATLAS, "cache_control": {**EPHEMERAL, "ttl": "5m"}},
        {"type": "text", "text": "Which planets are ice giants?"},
    ]
    body = claude_body(messages=[{"role": "user", "content": content}])
    client = bedrock_emulator.client()
    first = invoke(client, api, SONNET, body)
    details = first["cache_creation"]
    assert details["ephemeral_1h_input_tokens"] > 0 and details["ephemeral_5m_input_tokens"] > 0
    assert sum(details.values()) == first["cache_creation_input_tokens"]
    bedrock_emulator.clock.advance(600)  # the 5m entry expires, the 1h one lives on
    later = invoke(client, api, SONNET, body)
    assert later["cache_read_input_tokens"] == details["ephemeral_1h_input_tokens"]
    assert (
        later["cache_creation"]["ephemeral_5m_input_tokens"]
        == (details["ephemeral_5m_input_tokens"])
    )


def rejected(client: Any, model: str, body: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as caught:
        client.invoke_model(modelId=model, body=json.dumps(body))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


def test_bedrock_limits_apply(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    short_first = [
        {"type": "text", "text": GUIDE, "cache_control": {**EPHEMERAL, "ttl": "5m"}},
        {"type": "text", "text": ATLAS, "cache_control": {**EPHEMERAL, "ttl": "1h"}},
    ]
    assert "1h" in rejected(client, SONNET, claude_body(system=short_first))
    five = [{"type": "text", "text": f"{n} {GUIDE}", "cache_control": EPHEMERAL} for n in range(5)]
    assert "at most 4" in rejected(client, SONNET, claude_body(system=five))
    assert "ttl" in rejected(client, SONNET_4, claude_body(system=cached_system("5m")))
    bad_type = [{"type": "text", "text": GUIDE, "cache_control": {"type": "persistent"}}]
    assert "cache_control" in rejected(client, SONNET, claude_body(system=bad_type))
    assert "anthropic_version" in rejected(client, SONNET, {"max_tokens": 10, "messages": []})
    assert all(r.error == "ValidationException" for r in bedrock_emulator.requests)


def test_below_minimum_succeeds_and_caches_nothing(bedrock_emulator: Emulator, api: str) -> None:
    system = [{"type": "text", "text": "Be brief.", "cache_control": EPHEMERAL}]
    usage = invoke(bedrock_emulator.client(), api, SONNET, claude_body(system=system))
    assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0


def nova_body(question: str) -> dict[str, Any]:
    """Nova's native body as the AWS sample builds it: markers inline on the text blocks."""
    return {
        "system": [{"text": GUIDE, "cachePoint": {"type": "default"}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": ATLAS, "cachePoint": {"type": "default"}},
                    {"text": question},
                ],
            }
        ],
        "inferenceConfig": {"max_new_tokens": 300, "temperature": 0.7},
    }


def test_nova_cache_points_are_written_then_read(bedrock_emulator: Emulator, api: str) -> None:
    client = bedrock_emulator.client()
    first = invoke(client, api, NOVA, nova_body("What is it about?"))
    assert first["cacheWriteInputTokenCount"] > 2_000
    assert first["cacheReadInputTokenCount"] == 0
    second = invoke(client, api, NOVA, nova_body("What are the use cases?"))
    assert second["cacheReadInputTokenCount"] == first["cacheWriteInputTokenCount"]
    assert second["cacheWriteInputTokenCount"] == 0
    total = second["inputTokens"] + second["cacheReadInputTokenCount"]
    assert second["totalTokens"] == total + second["outputTokens"]


def test_nova_answer_shape_and_limits(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    response = client.invoke_model(modelId=NOVA, body=json.dumps(nova_body("Hi")))
    answer = json.loads(response["body"].read())
    assert answer["output"]["message"]["role"] == "assistant"
    assert answer["output"]["message"]["content"][0]["text"]
    assert answer["stopReason"] == "end_turn"
    tools = {
        "tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {}}}}, {"cachePoint": {}}]
    }
    message = rejected(client, NOVA, {**nova_body("Hi"), "toolConfig": tools})
    assert "toolConfig.tools" in message


def test_stream_error_cuts_the_chunks(bedrock_emulator: Emulator) -> None:
    bedrock_emulator.inject_stream_error(after_events=2, kind="throttlingException")
    client = bedrock_emulator.client()
    body = json.dumps(claude_body(system=cached_system()))
    response = client.invoke_model_with_response_stream(modelId=SONNET, body=body)
    received = []
    with pytest.raises(EventStreamError):
        for event in response["body"]:
            received.append(json.loads(event["chunk"]["bytes"]))
    assert [chunk["type"] for chunk in received] == ["message_start", "content_block_start"]
    assert bedrock_emulator.requests[-1].error == "throttlingException"


def test_a_tool_choice_change_keeps_tools_and_system_readable(bedrock_emulator: Emulator) -> None:
    """BEDROCK.md §8: a tool_choice change invalidates the message entries only."""
    schema = {"type": "object", "properties": {"planet": {"type": "string", "description": ATLAS}}}
    tools = [{"name": "find_moons", "input_schema": schema, "cache_control": EPHEMERAL}]
    content = [
        {"type": "text", "text": ATLAS, "cache_control": EPHEMERAL},
        {"type": "text", "text": "Which moons does Saturn have?"},
    ]

    def body(choice: str) -> dict[str, Any]:
        return claude_body(
            tools=tools,
            system=cached_system(),
            messages=[{"role": "user", "content": content}],
            tool_choice={"type": choice},
        )

    client = bedrock_emulator.client()
    invoke(client, "invoke_model", SONNET, body("auto"))
    invoke(client, "invoke_model", SONNET, body("any"))
    outcome = bedrock_emulator.requests[-1].outcome
    assert outcome is not None
    assert [cp.status for cp in outcome.checkpoints] == ["read", "read", "write"]
