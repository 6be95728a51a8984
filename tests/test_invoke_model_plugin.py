"""An instrumented boto3 client plans InvokeModel bodies too.

Invariant: ``BedrockCache.instrument(client)`` caches an unmarked Anthropic or Nova body sent with
``invoke_model`` / ``invoke_model_with_response_stream`` (the second call reads what the first
wrote), the caller reads the response body and stream exactly as without the plugin, each call is
counted once in ``cache.stats``, markers the caller placed are kept and counted against the
limit, a body that is not JSON or not a mapped shape goes out byte for byte as it was, and a
body whose added marker Bedrock refuses is resent once exactly as the caller built it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_cache import BedrockCache, ModelTable
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "us.anthropic.claude-sonnet-4-6"
NOVA = "us.amazon.nova-pro-v1:0"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
SYSTEM = "You are the help desk of Example Corp. Answer briefly, cite the policy you used. " * 80

Emulator = BedrockEmulator[ManualClock]


def claude_body(question: str = "Where is my order?") -> dict[str, Any]:
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 200,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": question}],
    }


def nova_body(question: str = "Where is my order?") -> dict[str, Any]:
    return {
        "system": [{"text": SYSTEM}],
        "messages": [{"role": "user", "content": [{"text": question}]}],
        "inferenceConfig": {"max_new_tokens": 200},
    }


def read_answer(client: Any, model: str, body: str | bytes) -> tuple[dict[str, Any], list[Any]]:
    """The answer a caller reads from invoke_model, and the chunks of the same call streamed."""
    answer = json.loads(client.invoke_model(modelId=model, body=body)["body"].read())
    stream = client.invoke_model_with_response_stream(modelId=model, body=body)["body"]
    return answer, [json.loads(event["chunk"]["bytes"]) for event in stream]


def total_input(usage: dict[str, Any]) -> int:
    return int(
        usage["input_tokens"]
        + usage["cache_read_input_tokens"]
        + usage["cache_creation_input_tokens"]
    )


def test_unmarked_claude_body_is_cached_and_read_back(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache()
    client = cache.instrument(bedrock_emulator.client())
    sent = json.dumps(claude_body())
    answer, chunks = read_answer(client, SONNET, sent)

    assert answer["content"][0]["type"] == "text" and answer["content"][0]["text"]
    assert answer["usage"]["cache_creation_input_tokens"] > 1_024
    assert (
        chunks[0]["message"]["usage"]["cache_read_input_tokens"]
        == (answer["usage"]["cache_creation_input_tokens"])
    )
    assert json.loads(sent) == claude_body(), "the caller's body is untouched"
    seen = bedrock_emulator.requests[0].request
    assert seen["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    total = cache.stats.total()
    assert total.requests == 2, "one invoke and one stream, each counted once"
    written = answer["usage"]["cache_creation_input_tokens"]
    # The prefix is written once; seen twice, the short question after it is written too.
    assert written <= total.usage.cache_write < written + 50
    assert total.usage.cache_read == written


def test_the_caller_reads_what_bedrock_sent(bedrock_emulator: Emulator) -> None:
    plain = bedrock_emulator.client()
    body = json.dumps(claude_body("Can I change my plan?"))
    expected, expected_chunks = read_answer(plain, SONNET, body)
    bedrock_emulator.reset()

    client = BedrockCache().instrument(bedrock_emulator.client())
    answer, chunks = read_answer(client, SONNET, body)
    assert answer["content"] == expected["content"]
    assert total_input(answer["usage"]) == total_input(expected["usage"])
    assert [c["type"] for c in chunks] == [c["type"] for c in expected_chunks]


def test_unmarked_nova_body_is_cached(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache()
    client = cache.instrument(bedrock_emulator.client())
    first, _ = read_answer(client, NOVA, json.dumps(nova_body()).encode())
    assert first["usage"]["cacheWriteInputTokenCount"] > 1_000
    assert bedrock_emulator.requests[0].request["system"][-1] == {"cachePoint": {"type": "default"}}
    second, chunks = read_answer(client, NOVA, json.dumps(nova_body("And my refund?")).encode())
    assert (
        second["usage"]["cacheReadInputTokenCount"] >= first["usage"]["cacheWriteInputTokenCount"]
    )
    assert chunks[-1]["metadata"]["usage"]["cacheReadInputTokenCount"] > 0
    assert cache.stats.total().requests == 4


def test_markers_the_caller_placed_are_kept(bedrock_emulator: Emulator) -> None:
    marker = {"type": "ephemeral"}
    content = [
        {"type": "text", "text": f"Section {n}. {SYSTEM}", "cache_control": marker}
        for n in range(4)
    ]
    body = {**claude_body(), "messages": [{"role": "user", "content": content}]}
    client = BedrockCache().instrument(bedrock_emulator.client())
    client.invoke_model(modelId=SONNET, body=json.dumps(body))["body"].read()
    record = bedrock_emulator.requests[-1]
    assert record.error is None, "no fifth marker was added"
    assert record.request["messages"] == body["messages"]
    assert record.request["system"] == SYSTEM


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (SONNET, b"not json at all"),
        (LLAMA, json.dumps({"prompt": SYSTEM, "max_gen_len": 50}).encode()),
    ],
)
def test_other_bodies_go_out_untouched(bedrock_emulator: Emulator, model: str, body: bytes) -> None:
    cache = BedrockCache()
    client = cache.instrument(bedrock_emulator.client())
    on_the_wire: list[bytes] = []
    client.meta.events.register(
        "before-send.bedrock-runtime.InvokeModel",
        lambda request, **_: on_the_wire.append(request.body),
    )
    with pytest.raises(ClientError):  # the emulator answers neither; Bedrock would answer both
        client.invoke_model(modelId=model, body=body)
    assert on_the_wire == [body]
    assert cache.stats.total().requests == 0


def test_a_rejected_marker_is_resent_as_the_caller_built_it(bedrock_emulator: Emulator) -> None:
    """A stale table (Nova taking a cachePoint among its tools): Bedrock refuses it, the body
    goes out once more exactly as the caller sent it, and the next call leaves the tools alone."""
    table = ModelTable.shipped()
    table.register(replace(table.resolve(NOVA).spec, tools_cacheable=True))
    cache = BedrockCache(table=table)
    client = cache.instrument(bedrock_emulator.client())
    schema = {"json": {"type": "object", "properties": {"q": {"type": "string"}}}}
    tool = {"toolSpec": {"name": "lookup", "description": SYSTEM, "inputSchema": schema}}
    body = {**nova_body(), "toolConfig": {"tools": [tool]}}
    sent = json.dumps(body)

    client.invoke_model(modelId=NOVA, body=sent)["body"].read()
    rejected, resent = bedrock_emulator.requests
    assert rejected.error == "ValidationException"
    assert resent.error is None and resent.request == {**body, "modelId": NOVA}

    client.invoke_model(modelId=NOVA, body=sent)["body"].read()
    later = bedrock_emulator.requests[-1]
    assert later.error is None
    assert later.request["toolConfig"] == body["toolConfig"]
    assert later.request["system"][-1] == {"cachePoint": {"type": "default"}}
