"""The ``ttl`` key of a cachePoint is a per-model fact: only extended-TTL models accept it.

Invariant: Claude Sonnet 4, 3.7 Sonnet, Opus 4 / 4.1 and 3.5 Haiku reject a ``ttl`` key even when
it says "5m" ("Extra inputs are not permitted"), in the emulator as on Bedrock; the planner,
using the same rules, never sends one to them -- nor to any model when the installed botocore
has no ``CachePointBlock.ttl`` member -- so a planned call never fails on it. Such a botocore
(before 1.43) refuses any ``ttl`` key itself, before a request is sent: there nothing is sent to
Bedrock with one, and 1h is not planned.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import botocore
import pytest
from botocore.exceptions import ParamValidationError

from bedrock_cache import BedrockCache, CachePolicy, ModelTable, default_table
from bedrock_cache.emulator import BedrockEmulator, ManualClock

Emulator = BedrockEmulator[ManualClock]
NO_TTL_FIELD = [
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "anthropic.claude-opus-4-20250514-v1:0",
    "anthropic.claude-opus-4-1-20250805-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
]
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
POLICY = "You are the support assistant of Example Corp. Answer briefly and politely. " * 120


def cached(model: str, ttl: str | None) -> dict[str, Any]:
    point: dict[str, Any] = {"type": "default"}
    if ttl is not None:
        point["ttl"] = ttl
    return {
        "modelId": model,
        "system": [{"text": POLICY}, {"cachePoint": point}],
        "messages": [{"role": "user", "content": [{"text": "Where is my order?"}]}],
    }


def ttl_keys(request: dict[str, Any]) -> list[str]:
    """Every ``ttl`` value the request's cachePoints carry."""
    lists = [request.get("system") or [], *(m["content"] for m in request.get("messages") or [])]
    return [
        b["cachePoint"]["ttl"] for items in lists for b in items if "ttl" in b.get("cachePoint", {})
    ]


def refused_by_botocore() -> Any:
    """What a botocore without ``CachePointBlock.ttl`` does with the key: refuses the call."""
    return pytest.raises(
        ParamValidationError, match=r'Unknown parameter in system\[1\]\.cachePoint: "ttl"'
    )


@pytest.mark.parametrize("model", NO_TTL_FIELD)
@pytest.mark.parametrize("api", ["converse", "converse_stream"])
def test_models_without_extended_ttl_reject_even_a_5m_ttl_key(
    bedrock_emulator: Emulator, model: str, api: str, client_sends_ttl: bool
) -> None:
    client = bedrock_emulator.client()
    refused = (
        pytest.raises(client.exceptions.ValidationException, match="Extra inputs are not permitted")
        if client_sends_ttl
        else refused_by_botocore()
    )
    with refused:
        response = getattr(client, api)(**cached(f"us.{model}", "5m"))
        list(response.get("stream", []))
    errors = [record.error for record in bedrock_emulator.requests]
    assert errors == (["ValidationException"] if client_sends_ttl else []), "sent only if it can be"
    usage = client.converse(**cached(model, None))["usage"]
    assert usage["cacheWriteInputTokens"] > 0, "without the key the same checkpoint caches"


def test_extended_ttl_models_accept_the_key(
    bedrock_emulator: Emulator, client_sends_ttl: bool
) -> None:
    client = bedrock_emulator.client()
    if not client_sends_ttl:  # the key never leaves this client; without it the entry is 5m
        for ttl in ("5m", "1h"):
            with refused_by_botocore():
                client.converse(**cached(SONNET_45, ttl))
        assert bedrock_emulator.requests == []
        assert client.converse(**cached(SONNET_45, None))["usage"]["cacheWriteInputTokens"] > 0
        written = bedrock_emulator.requests[-1].usage or {}
        assert [detail["ttl"] for detail in written["cacheDetails"]] == ["5m"]
        return
    assert client.converse(**cached(SONNET_45, "5m"))["usage"]["cacheWriteInputTokens"] > 0
    bedrock_emulator.cache.clear()
    one_hour = client.converse(**cached(SONNET_45, "1h"))["usage"]
    assert one_hour["cacheDetails"][0]["ttl"] == "1h"


def test_the_table_says_which_models_take_the_key(client_sends_ttl: bool) -> None:
    table = default_table()
    for model in NO_TTL_FIELD:
        assert table.resolve(model).spec.accepts_ttl_field is False, model
    stored = table.lookup(SONNET_45)
    assert stored is not None and stored.accepts_ttl_field is True
    # What a planned call may send: the key needs a botocore that can send it too.
    assert table.resolve(SONNET_45).spec.accepts_ttl_field is client_sends_ttl


@pytest.mark.parametrize("model", [*NO_TTL_FIELD, SONNET_45])
def test_the_planner_never_sends_a_ttl_key_a_model_rejects(
    bedrock_emulator: Emulator, model: str, client_sends_ttl: bool
) -> None:
    cache = BedrockCache(CachePolicy(static_ttl="1h"))
    client = cache.instrument(bedrock_emulator.client())
    request = cached(model, None)
    request["system"] = request["system"][:1]  # the planner places the checkpoint itself
    usage = client.converse(**request)["usage"]
    sent = bedrock_emulator.requests[-1].request
    assert usage["cacheWriteInputTokens"] > 0
    assert ttl_keys(sent) == (["1h"] if model == SONNET_45 and client_sends_ttl else [])


def test_without_the_ttl_member_in_botocore_no_ttl_is_sent(tmp_path: Path) -> None:
    """A botocore older than the 1.43 line: its service model has no CachePointBlock.ttl."""
    source = Path(botocore.__file__).parent / "data" / "bedrock-runtime"
    version = sorted(p.name for p in source.iterdir())[-1]
    model = json.loads(gzip.decompress((source / version / "service-2.json.gz").read_bytes()))
    env = dict(os.environ)
    members = model["shapes"]["CachePointBlock"]["members"]
    if "ttl" in members:  # a newer botocore: give it the service model of an older one
        del members["ttl"]
        target = tmp_path / "bedrock-runtime" / version
        target.mkdir(parents=True)
        (target / "service-2.json").write_text(json.dumps(model))
        env["AWS_DATA_PATH"] = str(tmp_path)
    script = textwrap.dedent(
        f"""
        from bedrock_cache import BedrockCache, CachePolicy, resolve_model
        from bedrock_cache.emulator import BedrockEmulator
        assert resolve_model({SONNET_45!r}).spec.ttls == ("5m",)
        with BedrockEmulator() as emu:
            client = BedrockCache(CachePolicy(static_ttl="1h")).instrument(emu.client())
            usage = client.converse(
                modelId={SONNET_45!r},
                system=[{{"text": {POLICY!r}}}],
                messages=[{{"role": "user", "content": [{{"text": "Hi"}}]}}],
            )["usage"]
            sent = emu.requests[-1].request
        assert usage["cacheWriteInputTokens"] > 0
        assert "ttl" not in str(sent["system"]), sent["system"]
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_ttl_field_follows_extended_ttl_unless_stated() -> None:
    table = ModelTable.shipped()
    extended = table.register_like("acme.extended-v1:0", like=NO_TTL_FIELD[0], ttls=("5m", "1h"))
    assert extended.accepts_ttl_field, "a model given 1h takes the key that carries it"
    stated = table.register_like("acme.strict-v1:0", like=SONNET_45, ttls=("5m",), ttl_field=False)
    assert not stated.accepts_ttl_field
