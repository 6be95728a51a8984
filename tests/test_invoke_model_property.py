"""Invariant (property): for random Anthropic Messages bodies -- system as a string or blocks,
tool definitions, text, images, tool_use / tool_result turns, string contents and markers the
caller placed -- and random Nova bodies, an instrumented client's InvokeModel call is never
rejected by the emulator, carries at most the model's checkpoints, keeps every caller marker,
changes nothing but markers (the re-read body has exactly the original blocks in the original
order), and leaves the caller's body untouched.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bedrock_cache import BedrockCache, Layout, default_table
from bedrock_cache.apis import read_native
from bedrock_cache.emulator import BedrockEmulator, ManualClock

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAIAAAUAAeIhvDMAAAAASUVORK5CYII="
SIZES = st.sampled_from([1, 60, 700, 1_500, 3_000])
MARK = st.booleans()


def words(tokens: int, seed: int) -> str:
    return " ".join(f"w{seed}x{n}" for n in range(max(1, tokens)))


@st.composite
def claude_bodies(draw: st.DrawFn) -> dict[str, Any]:
    seed = draw(st.integers(0, 10_000))
    marked = {"cache_control": {"type": "ephemeral"}}

    def text(size: int, n: int) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "text", "text": words(size, seed + n)}
        return {**block, **marked} if draw(MARK) and draw(MARK) else block

    body: dict[str, Any] = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100}
    if draw(st.booleans()):
        body["system"] = words(draw(SIZES), seed)
    else:
        body["system"] = [text(draw(SIZES), n) for n in range(draw(st.integers(1, 2)))]
    if draw(st.booleans()):
        schema = {"type": "object", "properties": {"q": {"type": "string"}}}
        body["tools"] = [
            {"name": f"tool_{n}", "description": words(draw(SIZES), n), "input_schema": schema}
            for n in range(draw(st.integers(1, 3)))
        ]
    messages: list[dict[str, Any]] = []
    for turn in range(draw(st.integers(1, 3))):
        content: Any = [text(draw(SIZES), 10 * turn + n) for n in range(draw(st.integers(1, 2)))]
        if draw(st.booleans()):
            content.append(
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                }
            )
        if draw(st.booleans()) and len(content) == 1 and "cache_control" not in content[0]:
            content = content[0]["text"]  # a plain string content
        messages.append({"role": "user", "content": content})
        call_id = f"toolu_{turn}"
        messages.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": call_id, "name": "tool_0", "input": {}}],
            }
        )
        result = {
            "type": "tool_result",
            "tool_use_id": call_id,
            "content": words(draw(SIZES), turn),
        }
        messages.append({"role": "user", "content": [result, text(5, 99)]})
    body["messages"] = messages
    return body


@st.composite
def nova_bodies(draw: st.DrawFn) -> dict[str, Any]:
    seed = draw(st.integers(0, 10_000))

    def blocks(count: int, base: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for n in range(count):
            result.append({"text": words(draw(SIZES), seed + base + n)})
            if draw(MARK) and draw(MARK):
                result.append({"cachePoint": {"type": "default"}})
        return result

    messages = []
    for turn in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": blocks(draw(st.integers(1, 2)), 10 * turn)})
        messages.append({"role": "assistant", "content": [{"text": f"answer {turn}"}]})
    messages.append({"role": "user", "content": blocks(1, 99)})
    return {"system": blocks(draw(st.integers(1, 2)), 500), "messages": messages}


def layout_of(body: dict[str, Any], model: str) -> Layout:
    family = default_table().resolve(model).spec.family
    return Layout.of(read_native(body, model, family).converse)


def check(model: str, body: dict[str, Any]) -> None:
    original = layout_of(body, model)
    assume(len(original.checkpoints) <= 4)  # more is the caller's own ValidationException
    kept = copy.deepcopy(body)
    with BedrockEmulator(clock=ManualClock()) as emulator:
        client = BedrockCache().instrument(emulator.client())
        for _ in range(2):  # the second call plans with the first call's history
            client.invoke_model(modelId=model, body=json.dumps(body))["body"].read()
        records = emulator.requests
    assert body == kept, "the caller's body is untouched"
    assert all(record.error is None for record in records), records[-1].error_message
    for record in records:
        sent = layout_of({k: v for k, v in record.request.items() if k != "modelId"}, model)
        assert [b.fingerprint for b in sent.blocks] == [b.fingerprint for b in original.blocks]
        assert len(sent.checkpoints) <= 4
        assert {c.after for c in original.checkpoints} <= {c.after for c in sent.checkpoints}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claude_bodies())
def test_claude_bodies_are_planned_within_the_rules(body: dict[str, Any]) -> None:
    check(CLAUDE, body)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nova_bodies())
def test_nova_bodies_are_planned_within_the_rules(body: dict[str, Any]) -> None:
    check(NOVA, body)
