"""Invariant: ``bedrock-cache calibrate`` recovers a model's caching rules from the endpoint --
minimum, minimum rule, lookback, TTLs, tool schemas -- even where they differ from the shipped
table or the model is unknown, and the file it writes, loaded, changes what the planner does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bedrock_cache import BedrockCache, ModelTable
from bedrock_cache.cli import main
from bedrock_cache.emulator import BedrockEmulator

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
UNKNOWN = "acme.frontier-v1:0"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockEmulator]:
    """An emulator whose rules differ from the shipped table, and that knows one extra model."""
    table = ModelTable.shipped()
    table.override(
        SONNET,
        min_tokens=2048,
        min_tokens_mode="prefix",
        lookback_blocks=8,
        ttls=("5m",),
        ttl_field=False,
        tools_cacheable=False,
    )
    table.register_like(
        UNKNOWN,
        like=SONNET,
        min_tokens=1536,
        min_tokens_mode="segment",
        lookback_blocks=3,
        ttls=("5m", "1h"),
        ttl_field=True,
        tools_cacheable=True,
    )
    emulator = BedrockEmulator(table=table).start()
    kwargs = emulator.connection_kwargs
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", kwargs["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", kwargs["aws_secret_access_key"])
    yield emulator
    emulator.stop()


def run_calibrate(endpoint: BedrockEmulator, model: str, output: Path) -> ModelTable:
    argv = [
        "calibrate",
        "--model",
        model,
        "--endpoint-url",
        endpoint.endpoint_url,
        "--region",
        endpoint.connection_kwargs["region_name"],
        "--output",
        str(output),
        "--yes",
    ]
    assert main(argv) == 0
    table = ModelTable.shipped()
    table.load(output)
    return table


def planned(table: ModelTable, model: str, system_words: int) -> int:
    request = {
        "modelId": model,
        "system": [{"text": "Policy. " + "word " * system_words}],
        "messages": [{"role": "user", "content": [{"text": "Where is my order?"}]}],
    }
    return len(BedrockCache(table=table).prepare(request).plan.checkpoints)


def test_recovers_rules_that_differ_from_the_shipped_table(
    endpoint: BedrockEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    client_sends_ttl: bool,
) -> None:
    table = run_calibrate(endpoint, f"us.{SONNET}", tmp_path / "models.toml")
    spec = table.resolve(SONNET).spec
    shipped = ModelTable.shipped().resolve(SONNET).spec
    assert (spec.min_tokens, spec.min_tokens_mode, spec.lookback_blocks) == (2048, "prefix", 8)
    assert not spec.tools_cacheable and spec.prices == shipped.prices
    # TTLs are measured where botocore can send a ttl; otherwise the table's are kept.
    if client_sends_ttl:
        assert spec.ttls == ("5m",) and not spec.ttl_field
    else:
        assert (spec.ttls, spec.ttl_field) == (("5m",), False)  # as this botocore sends
    assert "worst case $" in capsys.readouterr().out

    # A ~1,500-token system prompt: worth a checkpoint at the shipped 1,024 minimum, not at 2,048.
    assert planned(ModelTable.shipped(), f"us.{SONNET}", 1_500) >= 1
    assert planned(table, f"us.{SONNET}", 1_500) == 0


def test_works_for_a_model_the_table_does_not_know(
    endpoint: BedrockEmulator, tmp_path: Path, client_sends_ttl: bool
) -> None:
    table = run_calibrate(endpoint, UNKNOWN, tmp_path / "models.toml")
    spec = table.resolve(UNKNOWN).spec
    assert spec.supports_caching and spec.min_tokens == 1536
    assert (spec.min_tokens_mode, spec.lookback_blocks) == ("segment", 3)
    assert spec.tools_cacheable
    # A botocore that cannot send a ttl cannot measure TTLs: the file then claims only 5m.
    assert spec.ttls == (("5m", "1h") if client_sends_ttl else ("5m",))
    assert spec.ttl_field == client_sends_ttl
    assert planned(ModelTable.shipped(), UNKNOWN, 2_000) == 0
    assert planned(table, UNKNOWN, 2_000) >= 1


def test_a_second_run_measures_the_same(endpoint: BedrockEmulator, tmp_path: Path) -> None:
    """Each run's probe text is new, so entries of the first run cannot fake a read."""
    first = run_calibrate(endpoint, UNKNOWN, tmp_path / "one.toml").resolve(UNKNOWN).spec
    second = run_calibrate(endpoint, UNKNOWN, tmp_path / "two.toml").resolve(UNKNOWN).spec
    assert first == second


def test_asks_before_spending_and_validates_its_arguments(
    endpoint: BedrockEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "calibrate",
        "--model",
        SONNET,
        "--endpoint-url",
        endpoint.endpoint_url,
        "--region",
        "us-east-1",
        "--output",
        str(tmp_path / "m.toml"),
    ]
    assert main(argv) == 1  # no terminal to ask on, and no --yes: nothing is sent
    assert not endpoint.requests and not (tmp_path / "m.toml").exists()
    assert "Rerun with --yes" in capsys.readouterr().err
    for bad in (["--max-tokens", "10"], ["--input-price", "-1"], ["--output", "/nope/m.toml"]):
        with pytest.raises(SystemExit) as exited:
            main([*argv, *bad, "--yes"])
        assert exited.value.code == 2
    assert not endpoint.requests
