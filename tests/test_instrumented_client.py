"""A boto3 client instrumented with BedrockCache: every request is planned, never rejected,
never over the limit, never changes the caller's objects, and every call is counted once."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_cache import RESPONSE_KEY, BedrockCache, default_table
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = [{"text": "You are a support assistant. " + "Policy: be helpful and exact. " * 550}]


def test_ten_turn_conversation_reads_system_and_history_from_cache(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    cache = BedrockCache()
    client = cache.instrument(bedrock_emulator.client())
    messages: list[dict[str, Any]] = []
    last_read = 0
    for turn in range(10):
        messages.append({"role": "user", "content": [{"text": f"Question {turn}: my order?"}]})
        response = client.converse(modelId=SONNET, system=SYSTEM, messages=messages)
        usage = response["usage"]
        if turn > 0:  # the system prompt and every earlier turn
            assert usage["cacheReadInputTokens"] > max(last_read, 4_000)
            last_read = usage["cacheReadInputTokens"]
        assert response[RESPONSE_KEY]["plan"]
        messages.append(response["output"]["message"])
        bedrock_emulator.clock.advance(30)
    total = cache.stats.total()
    assert total.requests == 10
    assert total.token_hit_rate >= 0.85
    assert total.saved > 0
    for message in messages:  # the caller's history never carries our checkpoints
        assert all("cachePoint" not in block for block in message["content"])


def test_streamed_usage_is_counted_exactly_once(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    cache = BedrockCache()
    client = cache.instrument(bedrock_emulator.client())
    messages = [{"role": "user", "content": [{"text": "hello"}]}]
    for _ in range(2):
        response = client.converse_stream(modelId=SONNET, system=SYSTEM, messages=messages)
        events = list(response["stream"])
    metadata = events[-1]["metadata"]
    assert metadata["usage"]["cacheReadInputTokens"] > 0
    assert metadata[RESPONSE_KEY]["cache_read_tokens"] == metadata["usage"]["cacheReadInputTokens"]
    assert cache.stats.total().requests == 2


def test_tool_checkpoint_reaches_tool_config(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    client = BedrockCache().instrument(bedrock_emulator.client())
    tools = [
        {
            "toolSpec": {
                "name": f"tool_{i}",
                "description": "Looks things up for the customer. " * 40,
                "inputSchema": {"json": {"type": "object", "properties": {}}},
            }
        }
        for i in range(10)
    ]
    client.converse(
        modelId=SONNET,
        system=SYSTEM,
        messages=[{"role": "user", "content": [{"text": "hi"}]}],
        toolConfig={"tools": tools},
    )
    sent = bedrock_emulator.requests[-1].request
    assert sent["toolConfig"]["tools"][-1] == {"cachePoint": {"type": "default"}}
    assert len(tools) == 10  # the caller's list is untouched


def test_a_failure_while_planning_sends_the_request_unchanged(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    class BrokenEstimator:
        def block_tokens(self, block: Any) -> int:
            raise RuntimeError("estimator down")

    client = BedrockCache(estimator=BrokenEstimator()).instrument(bedrock_emulator.client())
    response = client.converse(
        modelId=SONNET, system=SYSTEM, messages=[{"role": "user", "content": [{"text": "hi"}]}]
    )
    assert response["output"]["message"]["content"]
    assert "cachePoint" not in str(bedrock_emulator.requests[-1].request)


def test_calls_outside_activate_are_untouched_on_a_scoped_client(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    from bedrock_cache import instrument_client

    client = instrument_client(bedrock_emulator.client(), None)
    cache = BedrockCache()
    body = {
        "modelId": SONNET,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": [{"text": "q"}]}],
    }
    client.converse(**body)
    assert "cachePoint" not in str(bedrock_emulator.requests[-1].request)
    with cache.activate():
        client.converse(**body)
    assert "cachePoint" in str(bedrock_emulator.requests[-1].request)
    assert cache.stats.total().requests == 1


# --- property: random conversations on every caching model -------------------------------------

CACHING_MODELS = sorted(s.model_id for s in default_table().models() if s.supports_caching)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _text(draw: st.DrawFn) -> dict[str, Any]:
    words = draw(st.integers(1, 2500))
    return {"text": ("lorem ipsum " * words)[: words * 4]}


@st.composite
def conversations(draw: st.DrawFn) -> dict[str, Any]:
    model = draw(st.sampled_from(CACHING_MODELS))
    prefix = draw(st.sampled_from(["", "us.", "global."]))
    messages: list[dict[str, Any]] = []
    for turn in range(draw(st.integers(1, 6))):
        user: list[dict[str, Any]] = []
        if messages and any("toolUse" in b for b in messages[-1]["content"]):
            ids = [b["toolUse"]["toolUseId"] for b in messages[-1]["content"] if "toolUse" in b]
            user += [{"toolResult": {"toolUseId": i, "content": [_text(draw)]}} for i in ids]
        kinds = draw(
            st.lists(st.sampled_from(["text", "image", "doc", "pdf", "manual"]), max_size=3)
        )
        for kind in kinds:
            if kind == "image":
                user.append({"image": {"format": "png", "source": {"bytes": PNG}}})
            elif kind in ("doc", "pdf"):
                fmt = "txt" if kind == "doc" else "pdf"
                source = {"bytes": b"document body " * draw(st.integers(10, 3000))}
                user.append({"document": {"format": fmt, "name": f"d{turn}", "source": source}})
            elif kind == "manual" and user and "text" in user[-1]:
                user.append({"cachePoint": {"type": "default"}})
        user.append(_text(draw))
        messages.append({"role": "user", "content": user})
        assistant: list[dict[str, Any]] = []
        if draw(st.booleans()):
            reasoning = {"reasoningText": {"text": "thinking " * 30, "signature": "sig"}}
            assistant.append({"reasoningContent": reasoning})
        assistant.append({"text": "answer " * draw(st.integers(1, 300))})
        for call in range(draw(st.integers(0, 3))):
            assistant.append(
                {
                    "toolUse": {
                        "toolUseId": f"t{turn}_{call}",
                        "name": "lookup",
                        "input": {"q": call},
                    }
                }
            )
        messages.append({"role": "assistant", "content": assistant})
    messages.pop()  # end on the user's turn
    request: dict[str, Any] = {"modelId": prefix + model, "messages": messages}
    if draw(st.booleans()):
        request["system"] = [_text(draw)]
    tools_in_use = any("toolUse" in b for m in messages for b in m["content"])
    if tools_in_use or draw(st.booleans()):
        spec = {"name": "lookup", "description": "Look up. " * draw(st.integers(1, 900))}
        spec["inputSchema"] = {"json": {"type": "object", "properties": {"q": {"type": "integer"}}}}
        request["toolConfig"] = {"tools": [{"toolSpec": spec}]}
    return request


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[BedrockEmulator[ManualClock]]:
    with BedrockEmulator(clock=ManualClock()) as emu:
        yield emu


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=conversations(), stream=st.booleans(), policy_ttl=st.sampled_from(["5m", "1h"]))
def test_planned_requests_are_never_rejected_nor_over_the_limit(
    shared_emulator: BedrockEmulator[ManualClock],
    request: dict[str, Any],
    stream: bool,
    policy_ttl: str,
) -> None:
    from bedrock_cache import CachePolicy

    cache = BedrockCache(CachePolicy(static_ttl=policy_ttl))  # type: ignore[arg-type]
    client = cache.instrument(shared_emulator.client())
    before = copy.deepcopy(request)
    for _ in range(2):  # the second call reads what the first wrote
        if stream:
            list(client.converse_stream(**request)["stream"])
        else:
            client.converse(**request)
        recorded = shared_emulator.requests[-1]
        assert recorded.error is None, recorded.error_message
        spec = default_table().resolve(request["modelId"]).spec
        assert str(recorded.request).count("cachePoint") <= spec.max_checkpoints
    assert request == before
    assert cache.stats.total().requests == 2
