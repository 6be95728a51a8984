"""The planner places checkpoints only where Bedrock accepts them and they create entries.

Pure-function tests on Converse requests; the end-to-end twin (through boto3 and the emulator)
is tests/test_instrumented_client.py.
"""

from __future__ import annotations

import copy
from typing import Any

from bedrock_cache import (
    CachePolicy,
    Layout,
    ReuseTracker,
    cache_point,
    plan_checkpoints,
    resolve_model,
)

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "amazon.nova-pro-v1:0"


def text(tokens: int, seed: str = "x") -> dict[str, Any]:
    return {"text": (seed * tokens * 4)[: tokens * 4]}


def request(
    model: str, system: int, *turns: list[dict[str, Any]], tools: int = 0
) -> dict[str, Any]:
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": content}
        for i, content in enumerate(turns)
    ]
    req: dict[str, Any] = {"modelId": model, "system": [text(system, "s")], "messages": messages}
    if tools:
        spec = {"name": "lookup", "description": "d" * tools * 4, "inputSchema": {"json": {}}}
        req["toolConfig"] = {"tools": [{"toolSpec": spec}]}
    return req


def plan(req: dict[str, Any], **policy: Any) -> Any:
    model = resolve_model(req["modelId"])
    return plan_checkpoints(Layout.of(req), model.spec, CachePolicy(**policy))


def roles(req: dict[str, Any], **policy: Any) -> list[str]:
    return [cp.role for cp in plan(req, **policy).checkpoints]


def test_prefix_below_the_minimum_gets_no_checkpoint_and_says_why() -> None:
    result = plan(request(SONNET, 300, [text(50)]))
    assert result.checkpoints == ()
    assert any("below" in reason for reason in result.skipped)


def test_a_first_turn_checkpoints_the_system_prompt_for_the_next_conversations() -> None:
    # Under the per-segment minimum the 50-token question cannot have its own checkpoint.
    assert roles(request(SONNET, 4000, [text(50)])) == ["system"]


def test_later_turns_advance_the_tail_which_reads_earlier_entries_by_lookback() -> None:
    req = request(SONNET, 4000, [text(50)], [text(100)], [text(50)])
    assert roles(req) == ["conversation"]


def test_document_and_question_are_split_by_a_checkpoint() -> None:
    req = request(SONNET, 200, [text(3000, "d"), text(20, "q")])
    result = plan(req)
    assert [cp.role for cp in result.checkpoints] == ["document"]
    layout = Layout.of(req)
    assert result.checkpoints[0].after == layout.blocks[-2].index


def test_tools_get_their_own_checkpoint_when_the_system_prompt_is_large_enough() -> None:
    req = request(SONNET, 2000, [text(50)], tools=1500)
    assert sorted(roles(req)) == ["system", "tools"]
    later = request(SONNET, 2000, [text(50)], [text(100)], [text(50)], tools=1500)
    assert sorted(roles(later)) == ["conversation", "tools"]


def test_nova_never_gets_a_tool_checkpoint() -> None:
    req = request(NOVA, 2000, [text(50)], tools=5000)
    assert "tools" not in roles(req)


def test_user_checkpoints_are_kept_and_counted() -> None:
    req = request(SONNET, 9000, [text(3000), text(3000), text(3000)])
    content = req["messages"][0]["content"]
    req["messages"][0]["content"] = [content[0], cache_point(), content[1], cache_point()]
    req["system"].append(cache_point())
    result = plan(req)
    assert result.kept == 3
    assert len(result.checkpoints) <= 1


def test_unsupported_model_gets_nothing() -> None:
    result = plan(request("meta.llama3-3-70b-instruct-v1:0", 5000, [text(50)]))
    assert result.checkpoints == ()


def test_static_segments_take_one_hour_only_where_the_model_offers_it() -> None:
    req = request(SONNET, 3000, [text(3000, "d"), text(1500, "q")], tools=1500)
    ttls = {cp.role: cp.ttl for cp in plan(req, static_ttl="1h").checkpoints}
    assert ttls["tools"] == "1h" and ttls.get("conversation", "5m") == "5m"
    ordered = [cp.ttl for cp in plan(req, static_ttl="1h").checkpoints]
    assert ordered == sorted(ordered, key=lambda t: t != "1h")  # 1h never after 5m
    req_4 = request(SONNET_4, 3000, [text(3000, "d"), text(50, "q")], tools=1500)
    assert {cp.ttl for cp in plan(req_4, static_ttl="1h").checkpoints} == {"5m"}


def test_planning_never_mutates_the_request() -> None:
    req = request(SONNET, 4000, [text(3000), text(20)], tools=1500)
    before = copy.deepcopy(req)
    plan(req)
    assert req == before


def test_a_turn_adding_more_than_the_lookback_gets_a_bridge() -> None:
    uses = [{"toolUse": {"toolUseId": f"t{i}", "name": "lookup", "input": {}}} for i in range(11)]
    results = [
        {"toolResult": {"toolUseId": f"t{i}", "content": [{"text": "ok " * 300}]}}
        for i in range(11)
    ]
    req = request(SONNET, 4000, [text(50)], uses, results)
    result = plan(req)
    assert [cp.role for cp in result.checkpoints][:1] == ["bridge"] or "bridge" in [
        cp.role for cp in result.checkpoints
    ]
    bridge = next(cp for cp in result.checkpoints if cp.role == "bridge")
    assert bridge.after == Layout.of(req).message_blocks(0)[-1].index


def test_a_system_prompt_shared_by_conversations_is_checkpointed_on_its_own() -> None:
    tracker = ReuseTracker()
    spec = resolve_model(SONNET).spec
    for opening in ("first conversation", "second conversation"):
        req = request(SONNET, 4000, [{"text": opening}])
        layout = Layout.of(req)
        plan_checkpoints(layout, spec, CachePolicy(), tracker)
        system_end = layout.blocks[0]
        tracker.observe(0.0, [(system_end.fingerprint, layout.blocks[1].fingerprint)])
    third = Layout.of(request(SONNET, 4000, [{"text": "third conversation"}]))
    result = plan_checkpoints(third, spec, CachePolicy(), tracker)
    assert [cp.role for cp in result.checkpoints] == ["system"]


def test_tool_results_are_not_mistaken_for_a_document() -> None:
    use = [{"toolUse": {"toolUseId": f"t{i}", "name": "lookup", "input": {}}} for i in range(3)]
    results = [
        {"toolResult": {"toolUseId": f"t{i}", "content": [{"text": "ok " * 900}]}} for i in range(3)
    ]
    req = request(SONNET, 4000, [text(50)], use, [*results, text(20)])
    assert "document" not in roles(req)


def test_skip_one_off_writes_waits_for_a_prefix_to_recur() -> None:
    tracker = ReuseTracker()
    spec = resolve_model(SONNET).spec
    req = request(SONNET, 200, [text(3000, "d"), text(20, "q")])
    layout = Layout.of(req)
    policy = CachePolicy(skip_one_off_writes=True)
    assert plan_checkpoints(layout, spec, policy, tracker).checkpoints == ()
    tracker.observe(0.0, [(layout.blocks[-2].fingerprint, None)])
    assert [cp.role for cp in plan_checkpoints(layout, spec, policy, tracker).checkpoints] == [
        "document"
    ]


def test_max_checkpoints_zero_turns_planning_off() -> None:
    assert roles(request(SONNET, 4000, [text(50)]), max_checkpoints=0) == []
