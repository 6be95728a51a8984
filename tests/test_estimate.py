"""Invariant: the estimator reproduces BEDROCK.md §6 line by line, compares 5m with 1h, names
the break-even reuse count, Batch and a Provisioned Throughput what-if, recommends per traffic
shape, works from a log of observed calls, and refuses bad input with what to give instead."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bedrock_cache import (
    BedrockCache,
    CallReport,
    ProvisionedThroughput,
    Traffic,
    Workload,
    break_even_reads,
    estimate_savings,
    resolve_model,
)
from bedrock_cache.cli import main
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import support_system_prompt

SONNET = resolve_model("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
SECTION_6 = Workload(
    requests=200_000,
    cached_prefix_tokens=4_000,
    uncached_tokens=500,
    output_tokens=400,
    cache_writes=333,
)


def test_section_6_line_by_line() -> None:
    result = estimate_savings(SECTION_6, SONNET)
    plain, cost = result.cost_without_cache_by_kind(), result.cost
    assert plain.uncached_input == pytest.approx(2_700)  # input 900M tokens
    assert plain.output == pytest.approx(1_200)  # output 80M tokens
    assert cost.without_cache == pytest.approx(3_900)
    assert cost.cache_read == pytest.approx(240, abs=1)  # ~800M read tokens at $0.30
    assert cost.uncached_input == pytest.approx(300)  # 100M uncached at $3
    assert cost.cache_write == pytest.approx(5, abs=0.1)
    assert cost.output == pytest.approx(1_200)
    assert cost.total == pytest.approx(1_745, abs=1)
    assert cost.saved / cost.without_cache == pytest.approx(0.55, abs=0.01)
    input_with = cost.uncached_input + cost.cache_read + cost.cache_write
    assert 1 - input_with / plain.uncached_input == pytest.approx(0.80, abs=0.01)
    assert result.batch == pytest.approx(1_950)


def test_cli_prints_each_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--requests=200000", "--cached-tokens=4000", "--uncached-tokens=500"]
    assert main(["estimate", *args, "--output-tokens=400", "--writes=333"]) == 0
    out = capsys.readouterr().out
    for line in [
        "input               900,000,000 tokens $    2,700.00",
        "output               80,000,000 tokens $    1,200.00",
        "without caching        $    3,900.00",
        "cache reads         798,668,000 tokens $      239.60",
        "uncached input      100,000,000 tokens $      300.00",
        "cache writes          1,332,000 tokens $        5.00",
        "with caching           $    1,744.60  (-55%)",
        "input alone: $2,700.00 -> $544.60 (-80%)",
        "Batch (no caching)     $    1,950.00",
    ]:
        assert line in out


def test_break_even_reuse_count() -> None:
    """A 5m write (1.25x) pays from its first read (0.1x); a 1h write (2x) from its second."""
    assert break_even_reads(SONNET, "5m") == 1
    assert break_even_reads(SONNET, "1h") == 2


def test_sparse_traffic_recommends_one_hour(client_sends_ttl: bool) -> None:
    """Two requests an hour: every 5m entry expires, a 1h entry mostly survives."""
    sparse = Workload(1_440, 4_000, 500, 400, cache_writes=1_440 - 1)
    result = estimate_savings(sparse, SONNET, traffic=Traffic(days=30, active_hours=24))
    if not client_sends_ttl:  # 1h needs a botocore that can send a ttl: only 5m is weighed
        assert list(result.by_ttl) == ["5m"]
        assert result.recommendation()[0].startswith("Do not cache this prefix")
        return
    assert result.by_ttl["1h"].total < result.by_ttl["5m"].total
    assert "ttl 1h" in result.recommendation()[0]


def test_one_off_prefixes_are_not_worth_caching() -> None:
    one_off = Workload(1_000, 4_000, 500, 400, cache_writes=1_000)
    assert result_advice(one_off).startswith("Do not cache")


def result_advice(workload: Workload) -> str:
    return estimate_savings(workload, SONNET).recommendation()[0]


def test_provisioned_throughput_what_if() -> None:
    pt = ProvisionedThroughput(hourly_usd=40.0, units=1, hours=720)
    result = estimate_savings(SECTION_6, SONNET, provisioned=pt)
    assert pt.cost == 28_800
    assert any(
        "Provisioned Throughput ($28,800.00) is dearer" in a for a in result.recommendation()
    )
    assert result.processed_share == pytest.approx(0.11, abs=0.01)


def test_help_states_every_input_with_unit_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["estimate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in [
        "(count; no default: required without --from-log)",
        "(tokens; no default: required without --from-log)",
        "default: predicted from",
        "default 5m",
        "default 30",
        "hours, 0-24; default 24",
        "USD per model unit per hour",
        "default 720",
        "--from-log LOG",
    ]:
        assert phrase in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--requests=-5"], "--requests must be 0 or more"),
        (["--writes=300000"], "--writes (300000) cannot exceed --requests"),
        (["--active-hours=30"], "at most 24"),
        (["--pt-hourly-usd=-1"], "hourly_usd must be more than 0"),
        (["--from-log=x.jsonl"], "give either --from-log or"),
    ],
)
def test_bad_input_exits_2_saying_what_to_give(
    capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    base = {
        "--requests": "200000",
        "--cached-tokens": "4000",
        "--uncached-tokens": "500",
        "--output-tokens": "400",
    }
    for arg in args:
        base.pop(arg.split("=")[0], None)
    argv = ["estimate", *(f"{k}={v}" for k, v in base.items()), *args]
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def test_missing_workload_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--requests=10"]) == 2
    assert "give --cached-tokens, --uncached-tokens, --output-tokens" in capsys.readouterr().err


def test_workload_rejects_a_wrong_ttl_at_construction() -> None:
    with pytest.raises(ValueError, match=r"write_ttl must be '5m' or '1h', not '1H'"):
        Workload(10, 4_000, 500, 400, write_ttl="1H")
    with pytest.raises(ValueError, match="must be a whole number >= 0"):
        Workload(-1, 4_000, 500, 400)


def test_from_log_of_observed_calls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Calls through a real cache on the emulator logged as trace-log lines (ISO time and the
    CallReport), an hour of traffic."""
    log = tmp_path / "calls.jsonl"
    with BedrockEmulator(clock=ManualClock()) as emu, log.open("w") as out:
        cache = BedrockCache(clock=emu.clock.now)

        def write(report: CallReport) -> None:
            moment = datetime.fromtimestamp(1_795_600_000 + emu.clock.now(), UTC)
            line = {"v": 1, "time": moment.isoformat(timespec="milliseconds")}
            out.write(json.dumps({**line, **report.as_dict()}) + "\n")

        cache.add_listener(write)
        client = cache.instrument(emu.client())
        system = [{"text": support_system_prompt(4_000)}]
        for n in range(16):
            question = {"role": "user", "content": [{"text": f"Question {n}?"}]}
            client.converse(modelId=SONNET.requested_id, system=system, messages=[question])
            emu.clock.advance(240 if n < 15 else 0)  # every 4 minutes
    assert main(["estimate", f"--from-log={log}"]) == 0
    out = capsys.readouterr().out
    assert "observed 16 calls over 1.0 h, projected to a 30-day month" in out
    assert "11,520 requests" in out  # 16 calls an hour, for 720 hours
    assert "-" in out.split("with caching           $")[1][:30]  # caching saves
