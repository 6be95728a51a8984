"""Invariant: each lint rule fires on a request that really misses the cache (the emulator
confirms the miss where it can) and stays quiet once the request is fixed; the command prints
findings in the documented JSON shape and exits 1 on warnings, 0 when clean, 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_cache import BedrockCache, CallReport, lint
from bedrock_cache.cli import main
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
POLICY = "Follow the refund policy: confirm the order, explain the steps, offer escalation. " * 60
POINT = {"cachePoint": {"type": "default"}}
FINDING_KEYS = {
    "rule", "severity", "request", "section", "block", "offset", "message", "fix",
    "monthly_cost_usd",
}  # fmt: skip


def ask(text: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}, *extra]}


def request(system: str = POLICY, *, model: str = SONNET, **more: Any) -> dict[str, Any]:
    return {"modelId": model, "system": [{"text": system}, POINT], "messages": [ask("Hi")], **more}


def tool(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = schema or {"query": {"type": "string"}, "limit": {"type": "integer"}}
    return {
        "toolSpec": {
            "name": name,
            "description": f"{name} tool. " * 40,
            "inputSchema": {"json": {"type": "object", "properties": properties}},
        }
    }


def rules(requests: list[dict[str, Any]]) -> set[str]:
    return {finding.rule for finding in lint(requests)}


def test_dynamic_content_in_the_system_prompt_is_found_at_its_offset() -> None:
    stamped = f"Current time: 2026-11-26T09:56:40Z. {POLICY}"
    (finding,) = [f for f in lint([request(stamped)]) if f.rule == "BC101"]
    assert (finding.section, finding.block, finding.offset) == ("system", 0, 14)
    assert finding.severity == "warning" and "timestamp" in finding.message
    moved = request(messages=[ask("Current time: 2026-11-26T09:56:40Z. Hi")])
    assert rules([moved]) == set()


@pytest.mark.parametrize(
    "dynamic",
    [
        "Today is Thursday, November 26, 2026.",
        "Session started at 1795600000.",
        "Trace 3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b.",
        "request_id: 8f3a9c2e1b7d",
        "It is 09:56 now.",
    ],
)
def test_every_kind_of_dynamic_content_is_found(dynamic: str) -> None:
    assert rules([request(f"{dynamic} {POLICY}")]) == {"BC101"}


def test_tools_reordered_between_requests() -> None:
    first = request(toolConfig={"tools": [tool("orders"), tool("tickets")]})
    swapped = request(toolConfig={"tools": [tool("tickets"), tool("orders")]})
    assert "BC102" in rules([first, swapped])
    assert "BC102" not in rules([first, first])


def test_json_key_order_changes_between_requests() -> None:
    reordered = {"limit": {"type": "integer"}, "query": {"type": "string"}}
    first = request(toolConfig={"tools": [tool("orders")]})
    second = request(toolConfig={"tools": [tool("orders", reordered)]})
    (finding,) = [f for f in lint([first, second]) if f.rule == "BC103"]
    assert (finding.request, finding.section, finding.block) == (1, "tools", 0)
    assert rules([first, first]) == set()


def test_json_in_text_with_another_key_order() -> None:
    profile = {"name": "Ada", "plan": "pro", "region": "eu"}
    first = request(json.dumps(profile) + POLICY.replace(".", ";"))
    text = json.dumps(dict(reversed(profile.items())))
    assert "BC103" in rules([request(json.dumps(profile)), request(text)])
    assert rules([first, first]) == set()


def test_whitespace_only_drift() -> None:
    drifted = request(POLICY.replace(". ", ".  ", 1))
    (finding,) = [f for f in lint([request(), drifted]) if f.rule == "BC104"]
    assert finding.offset == POLICY.index(". ") + 2
    assert rules([request(), request()]) == set()


def test_tool_choice_change_invalidates_the_messages() -> None:
    tools = [tool("orders")]
    auto = request(toolConfig={"tools": tools, "toolChoice": {"auto": {}}})
    forced = request(toolConfig={"tools": tools, "toolChoice": {"any": {}}})
    assert "BC105" in rules([auto, forced])
    thinking = request(additionalModelRequestFields={"thinking": {"type": "enabled"}})
    assert "BC105" in rules([request(), thinking])
    assert "BC105" not in rules([auto, auto])


def test_checkpoint_below_the_model_minimum() -> None:
    short = request("Be brief.")
    (finding,) = [f for f in lint([short]) if f.rule == "BC201"]
    assert "1,024" in finding.fix
    assert rules([request()]) == set()


def test_too_many_checkpoints() -> None:
    """The system checkpoint and four more in the message: five, one over the limit."""
    four = [block for _ in range(4) for block in ({"text": POLICY}, POINT)]
    crowded = request(messages=[{"role": "user", "content": four}])
    assert "BC202" in rules([crowded])
    assert "BC202" not in rules([request(messages=[{"role": "user", "content": four[:6]}])])


def test_ttl_order_and_ttl_field(client_sends_ttl: bool) -> None:
    short_then_long = request(
        messages=[ask(POLICY, {"cachePoint": {"type": "default", "ttl": "1h"}})]
    )
    long_then_short = request(messages=[ask(POLICY, POINT)])
    long_then_short["system"][1] = {"cachePoint": {"type": "default", "ttl": "1h"}}
    if client_sends_ttl:
        assert "BC203" in rules([short_then_long])
        assert rules([long_then_short]) == set()
    else:  # boto3 refuses any ttl before sending: that is the one finding, with its fix
        for with_ttl in (short_then_long, long_then_short):
            (finding,) = lint([with_ttl])
            assert finding.rule == "BC204" and "1.43" in finding.fix
    ttl_field = {"cachePoint": {"type": "default", "ttl": "5m"}}
    old_model = request(model=SONNET_4)
    old_model["system"][1] = ttl_field
    assert rules([old_model]) == {"BC204"}
    assert rules([request(model=SONNET_4)]) == set()


def test_checkpoint_where_bedrock_rejects_it() -> None:
    """A cachePoint as the first block of a message, or right after a non-PDF document."""
    first = request(messages=[{"role": "user", "content": [POINT, {"text": "Hi"}]}])
    document = {"document": {"name": "notes", "format": "txt", "source": {"bytes": b"x" * 9}}}
    after_doc = request(messages=[ask("Read this", document, POINT)])
    assert rules([first]) == rules([after_doc]) == {"BC206"}
    assert rules([request(messages=[ask("Read this", document, {"text": "Summary?"})])]) == set()


def test_checkpoint_on_a_model_that_does_not_cache() -> None:
    assert rules([request(model=LLAMA)]) == {"BC205"}
    plain = {"modelId": LLAMA, "system": [{"text": POLICY}], "messages": [ask("Hi")]}
    assert rules([plain]) == set()


def test_checkpoint_on_a_prefix_that_never_recurs() -> None:
    one_off = [request(f"Customer {n}: {POLICY}") for n in range(2)]
    found = [f for f in lint(one_off, monthly_requests=100_000) if f.rule == "BC301"]
    assert len(found) == 2 and found[0].monthly_cost_usd is not None
    assert found[0].monthly_cost_usd > 0
    assert "BC301" not in rules([request(), request()])


def lookback_conversation(*, bridge: bool) -> list[dict[str, Any]]:
    first = request(messages=[ask(POLICY, POINT)])
    history = [
        ask(POLICY, *([POINT] if bridge else [])),
        {"role": "assistant", "content": [{"text": "ok"}]},
    ]
    facts = [{"text": f"fact {n}: " + "details " * 30} for n in range(25)]
    second = request(messages=[*history, {"role": "user", "content": [*facts, POINT]}])
    return [first, second]


def test_more_new_blocks_than_the_lookback(bedrock_emulator: BedrockEmulator[ManualClock]) -> None:
    assert "BC302" in rules(lookback_conversation(bridge=False))
    assert rules(lookback_conversation(bridge=True)) == set()
    reports = replay(bedrock_emulator, lookback_conversation(bridge=False))
    assert reports[1].usage.cache_read < reports[0].usage.total_input  # the emulator agrees


def replay(emu: BedrockEmulator[ManualClock], requests: list[dict[str, Any]]) -> list[CallReport]:
    """Send the requests as built (no planning) and return their reports."""
    from bedrock_cache import CachePolicy

    off = CachePolicy(
        cache_tools=False, cache_system=False, cache_documents=False, cache_conversation=False
    )
    cache = BedrockCache(off, clock=emu.clock.now)
    reports: list[CallReport] = []
    cache.add_listener(reports.append)
    client = cache.instrument(emu.client())
    for item in requests:
        client.converse(**item)
    return reports


def test_dynamic_content_really_misses(bedrock_emulator: BedrockEmulator[ManualClock]) -> None:
    stamped = [request(f"Current time: 2026-11-26T09:56:4{n}Z. {POLICY}") for n in range(2)]
    assert replay(bedrock_emulator, stamped)[1].usage.cache_read == 0
    assert replay(bedrock_emulator, [request(), request()])[1].usage.cache_read > 0


def run_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, *args: str
) -> tuple[int, str, str]:
    path = tmp_path / "requests.jsonl"
    path.write_text(content)
    code = main(["lint", str(path), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_format_and_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stamped = request(f"Current time: 2026-11-26T09:56:40Z. {POLICY}")
    code, out, _ = run_cli(tmp_path, capsys, json.dumps([stamped]), "--format=json")
    assert code == 1
    (finding,) = json.loads(out)
    assert set(finding) == FINDING_KEYS
    assert finding["rule"] == "BC101" and finding["offset"] == 14
    code, out, _ = run_cli(tmp_path, capsys, json.dumps(request()) + "\n", "--format=json")
    assert (code, json.loads(out)) == (0, [])


def test_cli_reads_a_trace_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stamped = request(f"Today is 2026-11-26. {POLICY}")
    record = {"time": 1795600000.0, "model_id": SONNET, "request": stamped, "miss": None}
    lines = json.dumps({"time": 1.0, "model_id": SONNET}) + "\n" + json.dumps(record) + "\n"
    code, out, _ = run_cli(tmp_path, capsys, lines)
    assert code == 1 and "BC101 dynamic-content" in out and "fix:" in out


def test_cli_reports_the_misses_a_trace_log_recorded(
    bedrock_emulator: BedrockEmulator[ManualClock],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Trace-log lines carry each call's report (no prompt text): its misses become findings."""
    cache = BedrockCache(clock=bedrock_emulator.clock.now)
    lines: list[str] = []
    cache.add_listener(lambda report: lines.append(json.dumps({"v": 1, **report.as_dict()})))
    client = cache.instrument(bedrock_emulator.client())
    for second in range(3):
        system = [{"text": f"Current time: 2026-11-26T09:56:0{second}Z. {POLICY}"}]
        client.converse(modelId=SONNET, system=system, messages=[ask("Hi")])
    code, out, _ = run_cli(tmp_path, capsys, "\n".join(lines), "--format=json")
    findings = json.loads(out)
    assert code == 1 and [f["request"] for f in findings] == [1, 2]
    assert {(f["rule"], f["section"], f["offset"]) for f in findings} == {("BC401", "system", 14)}
    assert "prefix_changed" in findings[0]["message"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"time": 1.0}), "holds no Converse requests and no trace-log records"),
        (json.dumps([{"messages": [{"role": "user"}]}]), "request 0 is not a Converse request"),
    ],
)
def test_cli_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    code, _, err = run_cli(tmp_path, capsys, content)
    assert code == 2 and says in err
