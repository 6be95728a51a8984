"""The emulator serves the ``bedrock`` control plane's application inference profiles.

Invariant: a real boto3 ``bedrock`` client on the emulator's endpoint creates, reads, lists and
deletes application inference profiles; Converse and ConverseStream on a profile's ARN run the
model it was copied from and share that model's cache; bad input gets Bedrock's errors.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from bedrock_cache import BedrockCache, resolve_model
from bedrock_cache.emulator import BedrockEmulator, ManualClock

Emulator = BedrockEmulator[ManualClock]
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-2-lite-v1:0"
POLICY = "You are the support assistant of Example Corp. Answer briefly and politely. " * 80


def foundation(model: str) -> str:
    return f"arn:aws:bedrock:us-east-1::foundation-model/{model}"


def cached_request(model_id: str) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "system": [{"text": POLICY}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": "Where is my order?"}]}],
    }


def test_create_get_list_delete(bedrock_emulator: Emulator) -> None:
    control = bedrock_emulator.control_client()
    created = control.create_inference_profile(
        inferenceProfileName="support-bot",
        description="Cost tracking for the support bot",
        modelSource={"copyFrom": foundation(SONNET)},
        tags=[{"key": "team", "value": "support"}],
    )
    arn = created["inferenceProfileArn"]
    assert created["status"] == "ACTIVE"
    assert arn.startswith("arn:aws:bedrock:us-east-1:") and ":application-inference-profile/" in arn

    profile = control.get_inference_profile(inferenceProfileIdentifier=arn)
    assert profile["models"] == [{"modelArn": foundation(SONNET)}]
    assert (profile["type"], profile["inferenceProfileName"]) == ("APPLICATION", "support-bot")
    by_id = control.get_inference_profile(inferenceProfileIdentifier=profile["inferenceProfileId"])
    assert by_id["inferenceProfileArn"] == arn

    listed = control.list_inference_profiles(typeEquals="APPLICATION")
    assert [p["inferenceProfileArn"] for p in listed["inferenceProfileSummaries"]] == [arn]

    control.delete_inference_profile(inferenceProfileIdentifier=arn)
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.get_inference_profile(inferenceProfileIdentifier=arn)
    assert control.list_inference_profiles()["inferenceProfileSummaries"] == []


def test_converse_on_a_profile_runs_its_model_and_shares_its_cache(
    bedrock_emulator: Emulator,
) -> None:
    control = bedrock_emulator.control_client()
    arn = control.create_inference_profile(
        inferenceProfileName="from-system-profile",
        modelSource={
            "copyFrom": f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET}"
        },
    )["inferenceProfileArn"]
    runtime = bedrock_emulator.client()
    written = runtime.converse(**cached_request(SONNET))["usage"]["cacheWriteInputTokens"]
    assert written > 0
    on_profile = runtime.converse(**cached_request(arn))["usage"]
    assert on_profile["cacheReadInputTokens"] == written
    events = list(runtime.converse_stream(**cached_request(arn))["stream"])
    assert events[-1]["metadata"]["usage"]["cacheReadInputTokens"] == written
    assert bedrock_emulator.requests[-1].model_id == arn


def test_a_profile_runs_its_own_models_rules(bedrock_emulator: Emulator) -> None:
    control = bedrock_emulator.control_client()
    arn = control.create_inference_profile(
        inferenceProfileName="nova", modelSource={"copyFrom": foundation(NOVA)}
    )["inferenceProfileArn"]
    runtime = bedrock_emulator.client()
    tool = {"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}
    request = {
        **cached_request(arn),
        "toolConfig": {"tools": [tool, {"cachePoint": {"type": "default"}}]},
    }
    with pytest.raises(runtime.exceptions.ValidationException, match=r"toolConfig\.tools"):
        runtime.converse(**request)  # Nova takes no checkpoint among the tools


def test_the_control_plane_rejects_what_bedrock_rejects(bedrock_emulator: Emulator) -> None:
    control = bedrock_emulator.control_client()
    control.create_inference_profile(
        inferenceProfileName="taken", modelSource={"copyFrom": foundation(SONNET)}
    )
    with pytest.raises(control.exceptions.ConflictException):
        control.create_inference_profile(
            inferenceProfileName="taken", modelSource={"copyFrom": foundation(SONNET)}
        )
    with pytest.raises(control.exceptions.ValidationException, match="not available"):
        control.create_inference_profile(
            inferenceProfileName="unknown", modelSource={"copyFrom": foundation("acme.x-v1:0")}
        )
    with pytest.raises(control.exceptions.ValidationException, match="copyFrom"):
        control.create_inference_profile(
            inferenceProfileName="not-an-arn", modelSource={"copyFrom": "claude-please"}
        )
    missing = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/nothing00000"
    runtime = bedrock_emulator.client()
    with pytest.raises(runtime.exceptions.ResourceNotFoundException, match="create_inference"):
        runtime.converse(**cached_request(missing))


def test_a_plain_bedrock_client_with_the_endpoint_url_works(bedrock_emulator: Emulator) -> None:
    control = boto3.client("bedrock", **bedrock_emulator.connection_kwargs)
    listed = control.list_inference_profiles(typeEquals="SYSTEM_DEFINED")
    assert listed["inferenceProfileSummaries"] == []
    system = control.get_inference_profile(inferenceProfileIdentifier=f"us.{SONNET}")
    assert (system["type"], system["models"]) == (
        "SYSTEM_DEFINED",
        [{"modelArn": foundation(SONNET)}],
    )


def test_list_pages_through_many_profiles(bedrock_emulator: Emulator) -> None:
    control = bedrock_emulator.control_client()
    for n in range(5):
        control.create_inference_profile(
            inferenceProfileName=f"app-{n}", modelSource={"copyFrom": foundation(SONNET)}
        )
    paginator = control.get_paginator("list_inference_profiles")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))
    names = [p["inferenceProfileName"] for page in pages for p in page["inferenceProfileSummaries"]]
    assert names == [f"app-{n}" for n in range(5)] and len(pages) == 3


def test_the_model_table_resolves_a_profile_through_the_emulators_control_plane(
    bedrock_emulator: Emulator,
) -> None:
    control = bedrock_emulator.control_client()
    arn = control.create_inference_profile(
        inferenceProfileName="resolved", modelSource={"copyFrom": foundation(NOVA)}
    )["inferenceProfileArn"]
    assert resolve_model(arn, client=control).spec.model_id == NOVA


def test_the_plugin_plans_a_profile_arn_through_the_emulators_control_plane(
    bedrock_emulator: Emulator,
) -> None:
    control = bedrock_emulator.control_client()
    arn = control.create_inference_profile(
        inferenceProfileName="planned", modelSource={"copyFrom": foundation(SONNET)}
    )["inferenceProfileArn"]
    client = BedrockCache(base_model=control).instrument(bedrock_emulator.client())
    request = {"system": [{"text": POLICY}], "messages": cached_request(arn)["messages"]}
    first = client.converse(modelId=arn, **request)["usage"]
    second = client.converse(modelId=arn, **request)["usage"]
    assert first["cacheWriteInputTokens"] > 0
    assert second["cacheReadInputTokens"] == first["cacheWriteInputTokens"]
