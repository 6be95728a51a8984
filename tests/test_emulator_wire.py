"""The emulator speaks bedrock-runtime's wire protocol with Bedrock's caching rules.

Invariant: a real boto3 client pointed at ``emu.endpoint_url`` sees, for ``converse`` and
``converse_stream`` alike, the usage Bedrock would report (total input = inputTokens +
cacheReadInputTokens + cacheWriteInputTokens), the errors Bedrock raises, and the answers scripted.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import EventStreamError, ParamValidationError

import bedrock_cache.emulator
from bedrock_cache.emulator import BedrockEmulator, ManualClock, Reply, SimulatedLatency

SONNET = "anthropic.claude-sonnet-4-6"  # min 1,024 tokens, TTLs 5m and 1h, 20-block lookback
SONNET_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"  # 5m only
NOVA = "amazon.nova-pro-v1:0"  # min 1,000 tokens, exact-position lookup, no tool checkpoints
LLAMA = "meta.llama3-3-70b-instruct-v1:0"  # no prompt caching

# About 1,500 tokens (the emulator estimates ~4 characters a token): above every minimum used here.
SYSTEM = "You are the support assistant of Example Corp. Answer briefly and politely. " * 80
CACHE = {"cachePoint": {"type": "default"}}
CACHE_1H = {"cachePoint": {"type": "default", "ttl": "1h"}}

Emulator = BedrockEmulator[ManualClock]


def user(*texts: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": t} for t in texts]}


def cached_system_request(
    model: str = SONNET, question: str = "Where is my order?"
) -> dict[str, Any]:
    return {
        "modelId": model,
        "system": [{"text": SYSTEM}, CACHE],
        "messages": [user(question)],
    }


@pytest.fixture(params=["converse", "converse_stream"])
def api(request: pytest.FixtureRequest) -> str:
    """Every usage test runs through both the plain and the streaming operation."""
    return str(request.param)


def call(client: Any, api: str, request: dict[str, Any]) -> dict[str, Any]:
    """Send ``request``; return Bedrock's usage (streaming: from the final metadata event)."""
    if api == "converse":
        usage: dict[str, Any] = client.converse(**request)["usage"]
        return usage
    events = list(client.converse_stream(**request)["stream"])
    assert "metadata" in events[-1], "the metadata event is the last one of the stream"
    usage = events[-1]["metadata"]["usage"]
    return usage


def count(client: Any, model: str, **converse: Any) -> int:
    """Tokens of a Converse input, as CountTokens reports them."""
    converse.setdefault("messages", [])
    response = client.count_tokens(modelId=model, input={"converse": converse})
    return int(response["inputTokens"])


def system_tokens(client: Any) -> int:
    return count(client, SONNET, system=[{"text": SYSTEM}])


# -- usage -------------------------------------------------------------------------------------


def test_cached_system_prompt_is_written_then_read(
    bedrock_emulator: Emulator, api: str, client_sends_ttl: bool
) -> None:
    client = bedrock_emulator.client()
    cached = system_tokens(client)
    total_input = count(client, SONNET, **_converse_fields(cached_system_request()))

    first = call(client, api, cached_system_request())
    assert first["cacheWriteInputTokens"] == cached
    assert first["cacheReadInputTokens"] == 0
    # A botocore without the ttl member (< 1.43) does not parse cacheDetails either.
    assert first.get("cacheDetails") == (
        [{"ttl": "5m", "inputTokens": cached}] if client_sends_ttl else None
    )
    assert first["inputTokens"] == total_input - cached
    assert first["totalTokens"] == total_input + first["outputTokens"]

    second = call(client, api, cached_system_request())
    assert second["cacheReadInputTokens"] == cached
    assert second["cacheWriteInputTokens"] == 0
    assert "cacheDetails" not in second, "cacheDetails appears only when something was written"
    assert second["inputTokens"] == total_input - cached
    assert second["totalTokens"] == total_input + second["outputTokens"]


def _converse_fields(request: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in request.items() if key != "modelId"}


def test_below_minimum_checkpoint_is_accepted_and_caches_nothing(
    bedrock_emulator: Emulator, api: str
) -> None:
    request = {
        "modelId": SONNET,
        "system": [{"text": "You are terse."}, CACHE],
        "messages": [user("Hi")],
    }
    usage = call(bedrock_emulator.client(), api, request)
    assert usage["cacheReadInputTokens"] == 0
    assert usage["cacheWriteInputTokens"] == 0
    assert "cacheDetails" not in usage
    assert bedrock_emulator.requests[-1].outcome is not None
    assert bedrock_emulator.requests[-1].outcome.checkpoints[0].status == "ignored"


def test_five_minute_entry_expires_and_every_hit_resets_it(
    bedrock_emulator: Emulator, api: str
) -> None:
    client = bedrock_emulator.client()
    assert call(client, api, cached_system_request())["cacheWriteInputTokens"] > 0
    bedrock_emulator.clock.advance(299)
    assert call(client, api, cached_system_request())["cacheReadInputTokens"] > 0
    bedrock_emulator.clock.advance(299)  # 598 s after the write, 299 s after the last hit
    assert call(client, api, cached_system_request())["cacheReadInputTokens"] > 0
    bedrock_emulator.clock.advance(301)
    expired = call(client, api, cached_system_request())
    assert expired["cacheReadInputTokens"] == 0
    assert expired["cacheWriteInputTokens"] > 0


def test_one_hour_entry_survives_ten_minutes(
    bedrock_emulator: Emulator, api: str, client_sends_ttl: bool
) -> None:
    client = bedrock_emulator.client()
    request = {**cached_system_request(), "system": [{"text": SYSTEM}, CACHE_1H]}
    if not client_sends_ttl:  # a botocore before 1.43 refuses the ttl; the entry is then 5m
        with pytest.raises(ParamValidationError, match='cachePoint: "ttl"'):
            call(client, api, request)
        assert bedrock_emulator.requests == [], "nothing was sent"
        assert call(client, api, cached_system_request())["cacheWriteInputTokens"] > 0
        bedrock_emulator.clock.advance(600)
        assert call(client, api, cached_system_request())["cacheReadInputTokens"] == 0
        return
    first = call(client, api, request)
    assert first["cacheDetails"] == [{"ttl": "1h", "inputTokens": system_tokens(client)}]
    bedrock_emulator.clock.advance(600)
    assert call(client, api, request)["cacheReadInputTokens"] == system_tokens(client)


def test_profile_prefixes_and_arns_share_the_base_models_cache(
    bedrock_emulator: Emulator, api: str
) -> None:
    client = bedrock_emulator.client()
    call(client, api, cached_system_request(SONNET))
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}"
    for model in (f"us.{SONNET}", f"global.{SONNET}", arn):
        usage = call(client, api, cached_system_request(model))
        assert usage["cacheReadInputTokens"] == system_tokens(client), model


# -- lookback ----------------------------------------------------------------------------------


def conversation(added_blocks: int, *, checkpoint_first_turn: bool) -> dict[str, Any]:
    """A long first question, then one answer and a follow-up adding ``added_blocks`` blocks."""
    first = user(SYSTEM)
    if checkpoint_first_turn:
        first["content"].append(CACHE)
    if added_blocks == 0:
        return {"modelId": SONNET, "messages": [first]}
    answer = {"role": "assistant", "content": [{"text": "Noted."}]}
    follow_up = user(*[f"detail {n}" for n in range(added_blocks - 1)])
    follow_up["content"].append(CACHE)
    return {"modelId": SONNET, "messages": [first, answer, follow_up]}


@pytest.mark.parametrize(("added_blocks", "reads"), [(20, True), (21, False)])
def test_claude_checkpoint_looks_back_twenty_blocks(
    bedrock_emulator: Emulator, api: str, added_blocks: int, reads: bool
) -> None:
    client = bedrock_emulator.client()
    first_turn = call(client, api, conversation(0, checkpoint_first_turn=True))
    # The second turn carries only the moving checkpoint at its end.
    usage = call(client, api, conversation(added_blocks, checkpoint_first_turn=False))
    expected_read = first_turn["cacheWriteInputTokens"] if reads else 0
    assert usage["cacheReadInputTokens"] == expected_read
    assert usage["cacheWriteInputTokens"] > 0


def test_nova_reads_only_at_the_exact_checkpoint_position(
    bedrock_emulator: Emulator, api: str
) -> None:
    client = bedrock_emulator.client()
    written = call(client, api, cached_system_request(NOVA))["cacheWriteInputTokens"]
    question = {"role": "user", "content": [{"text": "Where is my order?"}, CACHE]}
    moved = {"modelId": NOVA, "system": [{"text": SYSTEM}], "messages": [question]}
    assert call(client, api, moved)["cacheReadInputTokens"] == 0, "one block away is a miss"
    assert call(client, api, cached_system_request(NOVA))["cacheReadInputTokens"] == written


# -- rejected requests -------------------------------------------------------------------------


def send(client: Any, api: str, request: dict[str, Any]) -> None:
    if api == "converse":
        client.converse(**request)
    else:
        list(client.converse_stream(**request)["stream"])


def with_system(model: str, *blocks: dict[str, Any]) -> dict[str, Any]:
    return {"modelId": model, "system": list(blocks), "messages": [user("Hello")]}


def chunk(n: int) -> dict[str, Any]:
    return {"text": f"Section {n}. " + SYSTEM}


REJECTED: dict[str, dict[str, Any]] = {
    "fifth checkpoint": with_system(SONNET, *[b for n in range(5) for b in (chunk(n), CACHE)]),
    "1h after 5m": with_system(SONNET, chunk(0), CACHE, chunk(1), CACHE_1H),
    "1h on a 5m-only model": with_system(SONNET_37, chunk(0), CACHE_1H),
    "cachePoint first in a message": {
        "modelId": SONNET,
        "messages": [{"role": "user", "content": [CACHE, {"text": SYSTEM}]}],
    },
    "Nova tool checkpoint": {
        "modelId": NOVA,
        "messages": [user("Hello")],
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "lookup_order",
                        "description": "Find an order by id.",
                        "inputSchema": {"json": {"type": "object", "properties": {}}},
                    }
                },
                CACHE,
            ]
        },
    },
    "cachePoint on a model without caching": with_system(LLAMA, chunk(0), CACHE),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_bedrock_rejects_these_checkpoints(
    bedrock_emulator: Emulator, api: str, case: str, client_sends_ttl: bool
) -> None:
    client = bedrock_emulator.client()
    if "1h" in case and not client_sends_ttl:  # a botocore before 1.43 refuses it before sending
        with pytest.raises(ParamValidationError, match='cachePoint: "ttl"'):
            send(client, api, REJECTED[case])
        assert bedrock_emulator.requests == []
        return
    with pytest.raises(client.exceptions.ValidationException):
        send(client, api, REJECTED[case])
    assert bedrock_emulator.requests[-1].error == "ValidationException"


def test_model_without_caching_answers_without_checkpoints(
    bedrock_emulator: Emulator, api: str
) -> None:
    usage = call(bedrock_emulator.client(), api, with_system(LLAMA, chunk(0)))
    assert usage["cacheReadInputTokens"] == usage["cacheWriteInputTokens"] == 0


def test_unknown_model_is_not_found(bedrock_emulator: Emulator, api: str) -> None:
    client = bedrock_emulator.client()
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        send(client, api, cached_system_request("acme.unknown-model-v1:0"))


# -- CountTokens -------------------------------------------------------------------------------


def test_count_tokens_is_the_total_input_and_ignores_checkpoints(
    bedrock_emulator: Emulator,
) -> None:
    client = bedrock_emulator.client()
    request = cached_system_request()
    with_checkpoint = count(client, SONNET, **_converse_fields(request))
    without = count(client, SONNET, system=[{"text": SYSTEM}], messages=request["messages"])
    assert with_checkpoint == without
    usage = client.converse(**request)["usage"]
    total_input = usage["inputTokens"] + usage["cacheReadInputTokens"]
    assert total_input + usage["cacheWriteInputTokens"] == with_checkpoint


# -- faults ------------------------------------------------------------------------------------


def test_injected_throttling_raises_boto3_throttling_exception(
    bedrock_emulator: Emulator, api: str
) -> None:
    client = bedrock_emulator.client()
    bedrock_emulator.inject_error("ThrottlingException", times=1)
    with pytest.raises(client.exceptions.ThrottlingException):
        send(client, api, cached_system_request())
    assert call(client, api, cached_system_request())["cacheWriteInputTokens"] > 0


def test_mid_stream_exception_surfaces_through_botocore(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    bedrock_emulator.inject_stream_error(after_events=2, kind="modelStreamErrorException")
    received: list[dict[str, Any]] = []
    with pytest.raises(EventStreamError) as raised:
        received.extend(client.converse_stream(**cached_system_request())["stream"])
    assert raised.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert [next(iter(event)) for event in received] == ["messageStart", "contentBlockDelta"]


# -- answers -----------------------------------------------------------------------------------


def test_identical_requests_get_identical_answers(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    first = client.converse(**cached_system_request())["output"]["message"]
    second = client.converse(**cached_system_request())["output"]["message"]
    other = client.converse(**cached_system_request(question="Cancel it"))["output"]["message"]
    assert first == second != other
    assert first["role"] == "assistant"


def test_scripted_tool_use_drives_an_agent_loop(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    bedrock_emulator.script([Reply.tool_use("lookup_order", {"order_id": "42"}), "Shipped today."])
    request = cached_system_request()

    response = client.converse(**request)
    assert response["stopReason"] == "tool_use"
    tool_use = response["output"]["message"]["content"][0]["toolUse"]
    assert tool_use["name"] == "lookup_order"
    assert tool_use["input"] == {"order_id": "42"}
    assert tool_use["toolUseId"].startswith("tooluse_")

    result = {"toolResult": {"toolUseId": tool_use["toolUseId"], "content": [{"text": "ok"}]}}
    request["messages"] += [response["output"]["message"], {"role": "user", "content": [result]}]
    final = client.converse(**request)
    assert final["stopReason"] == "end_turn"
    assert final["output"]["message"]["content"] == [{"text": "Shipped today."}]


def test_scripted_tool_use_streams_as_start_deltas_stop(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    bedrock_emulator.script([Reply.tool_use("lookup_order", {"order_id": "42"}, tool_use_id="t1")])
    events = list(client.converse_stream(**cached_system_request())["stream"])
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start["start"]["toolUse"] == {"toolUseId": "t1", "name": "lookup_order"}
    arguments = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e
    )
    assert json.loads(arguments) == {"order_id": "42"}
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart"
    assert kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_max_tokens_cuts_the_answer(bedrock_emulator: Emulator) -> None:
    request = {**cached_system_request(), "inferenceConfig": {"maxTokens": 3}}
    response = bedrock_emulator.client().converse(**request)
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 3


# -- the emulator object -----------------------------------------------------------------------


def test_requests_are_recorded_and_reset_forgets_everything(bedrock_emulator: Emulator) -> None:
    client = bedrock_emulator.client()
    client.converse(**cached_system_request())
    recorded = bedrock_emulator.requests[-1]
    assert (recorded.operation, recorded.model_id) == ("Converse", SONNET)
    assert recorded.usage is not None and recorded.usage["cacheWriteInputTokens"] > 0
    assert recorded.outcome is not None and recorded.outcome.checkpoints[0].status == "write"

    bedrock_emulator.reset()
    assert bedrock_emulator.requests == []
    assert client.converse(**cached_system_request())["usage"]["cacheReadInputTokens"] == 0


def test_any_boto3_client_works_with_the_endpoint_url() -> None:
    with BedrockEmulator() as emu:
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=emu.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert emu.endpoint_url.startswith("http://127.0.0.1:")
        assert client.converse(**cached_system_request())["stopReason"] == "end_turn"


def test_simulated_latency_makes_cache_hits_faster() -> None:
    latency = SimulatedLatency(per_uncached_token_ms=0.1)  # simulated, not measured on Bedrock
    with BedrockEmulator(clock=ManualClock(), latency=latency) as emu:
        client = emu.client()
        miss = client.converse(**cached_system_request())["metrics"]["latencyMs"]
        hit = client.converse(**cached_system_request())["metrics"]["latencyMs"]
    assert miss >= 150 > hit


def test_public_api_is_pinned() -> None:
    assert sorted(bedrock_cache.emulator.__all__) == [
        "BedrockEmulator",
        "CacheOutcome",
        "CheckpointOutcome",
        "Clock",
        "EmulatorTotals",
        "ManualClock",
        "PromptCache",
        "RecordedRequest",
        "Reply",
        "SimulatedLatency",
        "WallClock",
    ]
