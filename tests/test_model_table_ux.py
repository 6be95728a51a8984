"""A model is added in one line from a similar one, or from a file named in the environment,
and a mistyped id gets a suggestion.

Invariant: ``register_like`` copies a known model and changes only what is named (the planner and
the emulator then treat the new id like any shipped one); ``BEDROCK_CACHE_MODELS=path.toml`` is
merged over the shipped table at first use and validated; unknown ids say "did you mean".
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bedrock_cache import BedrockCache, ModelTable, resolve_model
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
POLICY = "You are the support assistant of Example Corp. Answer briefly and politely. " * 150


def test_register_like_copies_a_model_and_changes_only_what_is_named() -> None:
    table = ModelTable.shipped()
    spec = table.register_like(
        "acme.claude-custom-v1:0", like=SONNET_45, min_tokens=2048, prices={"input": 2.0}
    )
    original = table.lookup(SONNET_45)
    assert original is not None
    assert (spec.min_tokens, spec.prices.input) == (2048, 2.0)
    assert spec.prices.output == original.prices.output
    assert (spec.ttls, spec.lookback_blocks, spec.family) == (original.ttls, 20, "claude")
    # Resolved as the shipped model is (1h only where this botocore can send a ttl).
    resolved, like = table.resolve("eu.acme.claude-custom-v1:0").spec, table.resolve(SONNET_45).spec
    assert (resolved.model_id, resolved.min_tokens) == ("acme.claude-custom-v1:0", 2048)
    assert (resolved.ttls, resolved.ttl_field) == (like.ttls, like.ttl_field)


def test_a_registered_model_is_planned_and_emulated_like_a_shipped_one() -> None:
    table = ModelTable.shipped()
    table.register_like("acme.nova-custom-v1:0", like="us.amazon.nova-pro-v1:0", min_tokens=1500)
    with BedrockEmulator(clock=ManualClock(), table=table) as emu:
        client = BedrockCache(table=table).instrument(emu.client())
        request = {
            "modelId": "us.acme.nova-custom-v1:0",
            "system": [{"text": POLICY}],
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        }
        assert client.converse(**request)["usage"]["cacheWriteInputTokens"] > 1500
        assert client.converse(**request)["usage"]["cacheReadInputTokens"] > 1500


def test_register_like_explains_its_mistakes() -> None:
    table = ModelTable.shipped()
    with pytest.raises(ValueError, match=r"did you mean 'anthropic\.claude-sonnet-4-6'"):
        table.register_like("acme.x", like="anthropic.claude-sonet-4-6")
    with pytest.raises(ValueError, match=r"register the base model id 'acme\.x'"):
        table.register_like("us.acme.x", like=SONNET_45)
    with pytest.raises(ValueError, match="'max_checkpoints' is 6"):
        table.register_like("acme.x", like=SONNET_45, max_checkpoints=6)


def test_unknown_ids_suggest_the_closest_known_one() -> None:
    table = ModelTable.shipped()
    assert table.suggest("us.anthropic.claude-sonnet-4-5") == SONNET_45
    assert table.suggest("amazon.nova-2-lite") == "amazon.nova-2-lite-v1:0"
    assert table.suggest("acme.completely-different") is None
    note = resolve_model("anthropic.claude-haiku-4-5").spec.note
    assert "Did you mean 'anthropic.claude-haiku-4-5-20251001-v1:0'?" in note
    assert "register_like" in note


def test_the_emulator_suggests_too(bedrock_emulator: BedrockEmulator[ManualClock]) -> None:
    client = bedrock_emulator.client()
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="Did you mean"):
        client.converse(
            modelId="us.amazon.nova-2-lite",
            messages=[{"role": "user", "content": [{"text": "Hi"}]}],
        )


def run_with_models_file(path: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BEDROCK_CACHE_MODELS": str(path)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_models_file_in_the_environment_is_merged_over_the_shipped_table(
    tmp_path: Path,
) -> None:
    path = tmp_path / "team_models.toml"
    path.write_text(
        '[[models]]\nids = ["acme.private-claude-v1:0"]\nfamily = "claude"\nmin_tokens = 2000\n'
        "prices = { input = 2.0, output = 8.0, cache_read = 0.2, cache_write_5m = 2.5 }\n"
        f'[[models]]\nids = ["{SONNET_45}"]\nfamily = "claude"\nmin_tokens = 3000\n'
        'ttls = ["5m", "1h"]\nttl_field = true\n'
        "prices = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write_5m = 3.75 }\n"
    )
    done = run_with_models_file(
        path,
        f"""
        from bedrock_cache import resolve_model
        print(resolve_model("us.acme.private-claude-v1:0").spec.min_tokens)
        print(resolve_model({SONNET_45!r}).spec.min_tokens)
        print(resolve_model("amazon.nova-pro-v1:0").spec.min_tokens)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2000", "3000", "1000"]


def test_a_bad_models_file_in_the_environment_fails_at_first_use(tmp_path: Path) -> None:
    path = tmp_path / "team_models.toml"
    path.write_text(
        '[[models]]\nids = ["acme.x"]\nfamily = "claude"\nmax_checkpoints = 9\n'
        "prices = { input = 1.0, output = 2.0 }\n"
    )
    done = run_with_models_file(path, "from bedrock_cache import BedrockCache; BedrockCache()")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "BEDROCK_CACHE_MODELS" in last and "team_models.toml" in last
    assert "'acme.x'" in last and "max_checkpoints" in last and "0 to 4" in last
