"""A conversation's history is read once, not again every turn -- and that changes no result.

Invariant: however a conversation changes between calls (a new turn, the last question replaced,
an earlier message edited in place, a value changing only its type, e.g. ``1`` to ``True``, tuples
for lists, a new system prompt), the layout read with the memo of earlier requests equals a fresh
read, and so do the boundaries the planner carries over from earlier requests; a message the
caller breaks in place after it was sent gets botocore's error with the caller's own indexes; and
a long conversation's misses are still explained where they start.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_cache import BedrockCache, CachePolicy, CallReport, Layout, cache_point, resolve_model
from bedrock_cache._boundaries import boundaries, lookup_keys
from bedrock_cache._boundary_memo import BoundaryMemo
from bedrock_cache._layout import LayoutMemo
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
#: Models with and without checkpoint positions ruled out by the blocks around them, and one
#: whose cache cap (in tokens) these short conversations pass.
SPECS = [resolve_model(m).spec for m in (SONNET, "us.amazon.nova-pro-v1:0")]
SPECS.append(replace(SPECS[1], max_cached_tokens=40))
SYSTEM = "You are a support assistant. " + "Policy: be helpful and exact. " * 550
Emulator = BedrockEmulator[ManualClock]

values = st.one_of(
    st.sampled_from([1, True, 1.0, "1", None, 0, False, -0.0, 0.0]),
    st.lists(st.sampled_from([1, True, "x"]), max_size=2),
    st.lists(st.sampled_from([1, True, "x"]), max_size=2).map(tuple),
)
texts = st.sampled_from(["hello", "hello ", "Hello", "a" * 50, "question?"])


@st.composite
def blocks(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "toolUse", "toolResult", "cachePoint"]))
    if kind == "text":
        return {"text": draw(texts)}
    if kind == "cachePoint":
        return cache_point(draw(st.sampled_from([None, "1h"])))
    if kind == "toolUse":
        return {"toolUse": {"toolUseId": "t1", "name": "a", "input": {"n": draw(values)}}}
    return {"toolResult": {"toolUseId": "t1", "content": [{"json": {"n": draw(values)}}]}}


messages = st.builds(
    lambda role, content: {"role": role, "content": content},
    st.sampled_from(["user", "assistant"]),
    st.lists(blocks(), min_size=1, max_size=3),
)
edits = st.one_of(
    st.tuples(st.just("append"), messages),
    st.tuples(st.just("replace_last"), messages),
    st.tuples(st.just("edit_in_place"), st.integers(0, 20), blocks()),
    st.tuples(st.just("drop_last"), st.none()),
    st.tuples(st.just("as_tuple"), st.integers(0, 20)),
    st.tuples(st.just("retype"), st.integers(0, 20)),
    st.tuples(st.just("system"), texts),
    st.tuples(st.just("copy"), st.none()),
)


def apply(request: dict[str, Any], edit: tuple[str, Any]) -> dict[str, Any]:
    """Change the request the way a caller might between two calls (mostly in place)."""
    what, arg = edit[0], edit[1]
    history = request["messages"]
    if what == "append":
        history.append(copy.deepcopy(arg))
    elif what == "replace_last" and history:
        history[-1] = copy.deepcopy(arg)
    elif what == "drop_last" and history:
        history.pop()
    elif what == "edit_in_place" and history:
        content = history[arg % len(history)]["content"]
        if isinstance(content, list):
            content[arg % len(content)] = copy.deepcopy(edit[2])
    elif what == "as_tuple" and history:
        message = history[arg % len(history)]
        message["content"] = tuple(message["content"])
    elif what == "retype" and history:
        message = history[arg % len(history)]
        message["content"] = _retyped(message["content"])
    elif what == "system":
        request["system"] = [{"text": arg}]
    elif what == "copy":
        return copy.deepcopy(request)
    return request


def _retyped(value: Any) -> Any:
    """``value`` with every number or boolean swapped for an equal one of another type."""
    if isinstance(value, dict):
        return {key: _retyped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_retyped(item) for item in value)
    if type(value) in (int, float, bool) and value in (0, 1):
        return {int: 1.0, bool: int(value), float: bool(value)}[type(value)]
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages, max_size=4), st.lists(edits, min_size=1, max_size=12))
def test_layouts_read_with_the_memo_equal_fresh_reads(
    start: list[dict[str, Any]], changes: list[tuple[str, Any]]
) -> None:
    memo = LayoutMemo()
    tools = [{"toolSpec": {"name": "a", "description": "d", "inputSchema": {"json": {}}}}]
    request: dict[str, Any] = {
        "modelId": SONNET,
        "system": [{"text": "rules"}],
        "toolConfig": {"tools": tools},
        "messages": copy.deepcopy(start),
    }
    heads = BoundaryMemo()
    policy = CachePolicy()
    for change in changes:
        request = apply(request, change)
        layout = Layout.of(request, memo=memo)
        assert layout == Layout.of(request)
        for spec in SPECS:  # boundaries ahead of the last message carried over from earlier ones
            found, keys = heads.boundaries(layout, spec, policy)
            assert found == boundaries(layout, spec, policy)
            assert sorted(keys) == sorted(lookup_keys(found))


def test_a_message_broken_in_place_gets_the_callers_own_error(bedrock_emulator: Emulator) -> None:
    client = BedrockCache().instrument(bedrock_emulator.client())
    content = [{"text": "Shared context. " * 1500}, {"text": "First question?"}]
    history = [{"role": "user", "content": content}]
    client.converse(modelId=SONNET, system=[{"text": SYSTEM}], messages=history)
    content.append({"text": "Second question?", "extra": 1})  # the caller's mistake, in place
    with pytest.raises(ParamValidationError, match=r"messages\[0\]\.content\[2\]"):
        client.converse(modelId=SONNET, system=[{"text": SYSTEM}], messages=history)


def test_a_tool_broken_in_place_gets_the_callers_own_error(bedrock_emulator: Emulator) -> None:
    client = BedrockCache().instrument(bedrock_emulator.client())
    schema = {"json": {"type": "object", "properties": {"q": {"type": "string"}}}}
    tools = [
        {"toolSpec": {"name": f"tool_{n}", "description": "d " * 300, "inputSchema": schema}}
        for n in range(3)
    ]
    history = [{"role": "user", "content": [{"text": "Hello?"}]}]
    for _ in range(2):
        client.converse(modelId=SONNET, messages=history, toolConfig={"tools": tools})
    tools[1]["toolSpec"]["colour"] = "blue"  # the caller's mistake, made in place
    with pytest.raises(ParamValidationError, match=r"toolConfig\.tools\[1\]\.toolSpec"):
        client.converse(modelId=SONNET, messages=history, toolConfig={"tools": tools})


def test_a_long_conversations_misses_are_explained_where_they_start(
    bedrock_emulator: Emulator,
) -> None:
    cache = BedrockCache(clock=bedrock_emulator.clock.now)
    reports: list[CallReport] = []
    cache.add_listener(reports.append)
    client = cache.instrument(bedrock_emulator.client())
    history: list[dict[str, Any]] = []
    system = SYSTEM
    for turn in range(14):
        if turn >= 11:  # a timestamp creeps into the system prompt
            system = f"Current time: 2026-11-26T12:{turn:02d}:00Z. " + SYSTEM
        history.append({"role": "user", "content": [{"text": f"Question {turn}?"}]})
        response = client.converse(modelId=SONNET, system=[{"text": system}], messages=history)
        history.append(response["output"]["message"])
        bedrock_emulator.clock.advance(20)
    assert reports[0].miss is not None and reports[0].miss.cause == "first_seen"
    assert all(report.miss is None for report in reports[1:11])
    for report in reports[11:]:
        changed = report.miss
        assert changed is not None and changed.cause == "prefix_changed"
        assert (changed.section, changed.block) == ("system", 0)
        assert changed.offset == len("Current time: ")
