"""Invariant: ``bedrock-cache report LOG -o report.html`` turns a real trace log into one page that
needs no network and that headless Chromium lays out with every chart visible -- per-call token
bars, hit rate over time, spend against the uncached baseline -- plus the misses table and a run
tree that groups the calls by trace, thread and run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langgraph.checkpoint.memory import InMemorySaver
from llama_index.core.llms import ChatMessage
from opentelemetry.sdk.trace import TracerProvider

from bedrock_cache import BedrockCache
from bedrock_cache.cli import main
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from bedrock_cache.telemetry import OpenTelemetry, read_trace_log, render_report
from integrations.shared import support_system_prompt
from langchain_bedrock_cache import BedrockCacheMiddleware
from llama_index_bedrock_cache import CachingBedrockConverse

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = support_system_prompt()
CHROMIUM = "/usr/bin/chromium"
Emulator = BedrockEmulator[ManualClock]


def run_workload(emu: Emulator, log: Path) -> None:
    """A small app's day: two agent threads, a batch job in an OpenTelemetry span (its system
    prompt carries a timestamp, so it never reads), a pause that expires the cache, and a
    LlamaIndex chat."""
    tracer = TracerProvider()
    cache = BedrockCache(
        clock=emu.clock.now,  # the cache sees the emulator's simulated idle time
        trace_log=log,
        opentelemetry=OpenTelemetry(tracer_provider=tracer),
    )
    llm = ChatBedrockConverse(model=MODEL, **emu.connection_kwargs)
    agent = create_agent(
        llm,
        [],
        system_prompt=SYSTEM,
        middleware=[BedrockCacheMiddleware(cache)],
        checkpointer=InMemorySaver(),
    )
    for thread in ("customer-42", "customer-7"):
        for question in ("Where is my order?", "Can I change the address?", "And a refund?"):
            agent.invoke(
                {"messages": [("human", question)]},
                config={"configurable": {"thread_id": thread}},
            )
            emu.clock.advance(20)
    client = cache.instrument(emu.client())
    with tracer.get_tracer("app").start_as_current_span("nightly-summary"):
        for hour in range(3):
            emu.clock.advance(45)
            stamped = f"Now: 2026-11-26T0{hour}:00:00Z. {SYSTEM}"
            client.converse(
                modelId=MODEL,
                system=[{"text": stamped}],
                messages=[{"role": "user", "content": [{"text": "Summarize the queue."}]}],
            )
    emu.clock.advance(400)  # idle past the 5-minute TTL
    li = CachingBedrockConverse(model=MODEL, cache=cache, **emu.connection_kwargs)
    system = ChatMessage(role="system", content=SYSTEM)
    for question in ("Where is my order?", "Is there a warranty?"):
        li.chat([system, ChatMessage(role="user", content=question)])
        emu.clock.advance(10)


@pytest.fixture
def report(bedrock_emulator: Emulator, tmp_path: Path) -> Path:
    log = tmp_path / "calls.jsonl"
    run_workload(bedrock_emulator, log)
    out = tmp_path / "report.html"
    assert main(["report", str(log), "-o", str(out)]) == 0
    return out


def test_report_is_one_self_contained_page(report: Path) -> None:
    html = report.read_text()
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"(src|href)\s*=|url\(|https?://", html)  # nothing to fetch
    assert html.count('<rect class="seg') >= 11  # one or more segments per call


def test_run_tree_and_misses_follow_the_log(report: Path, tmp_path: Path) -> None:
    html = report.read_text()
    records = list(read_trace_log(tmp_path / "calls.jsonl"))
    assert len(records) == 11
    assert "thread customer-42" in html and "thread customer-7" in html
    assert "CachingBedrockConverse.chat" in html
    otel_trace = records[6]["ids"]["otel_trace_id"]
    assert {r["ids"]["otel_trace_id"] for r in records[6:9]} == {otel_trace}
    assert f"trace · {otel_trace[:8]}" in html
    misses = re.findall(r"<tr><td class=\"num\">(\d+)</td>", html)
    read_nothing = [str(n) for n, r in enumerate(records, 1) if not r["cache_read_tokens"]]
    assert misses == read_nothing and {"7", "8", "9", "10"} <= set(misses)


def test_long_logs_are_drawn_in_buckets(report: Path, tmp_path: Path) -> None:
    records = list(read_trace_log(tmp_path / "calls.jsonl")) * 30  # 330 calls
    html = render_report(records)
    columns = {m for m in re.findall(r'<rect class="seg \w+" x="([\d.]+)"', html)}
    assert len(columns) == 165
    assert "(2 consecutive calls per bar)" in html


def chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is missing in CI: .ci/run installs Debian's chromium package")
    pytest.skip("Chromium is not installed (apt-get install chromium) -- cannot render the report")


#: Appended to a copy of the report: writes each chart element's laid-out size into the DOM.
MEASURE = """<script>
const measured = 'svg.chart, rect.seg, polyline, table.misses, details.node';
for (const el of document.querySelectorAll(measured)) {
  const box = el.getBoundingClientRect();
  el.setAttribute('data-box', `${Math.round(box.width)}x${Math.round(box.height)}`);
}
document.body.setAttribute('data-measured', 'yes');
</script>"""


def render(html: Path, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=1280,2700",
                *args,
                html.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def boxes(dom: str, pattern: str) -> list[tuple[int, int]]:
    return [(int(w), int(h)) for w, h in re.findall(pattern + r'[^>]*data-box="(\d+)x(\d+)"', dom)]


def test_chromium_lays_out_every_chart(report: Path, tmp_path: Path) -> None:
    measured = tmp_path / "measured.html"
    measured.write_text(report.read_text().replace("</body>", MEASURE + "</body>"))
    dom = render(measured, "--dump-dom", "--virtual-time-budget=3000")
    assert 'data-measured="yes"' in dom

    charts = boxes(dom, r'<svg class="chart (?:tokens|hits|spend)"')
    assert len(charts) == 3 and all(w > 600 and h > 100 for w, h in charts)
    bars = boxes(dom, r'<rect class="seg')
    assert len(bars) >= 11 and all(w > 0 and h > 0 for w, h in bars)
    lines = boxes(dom, r"<polyline")
    assert len(lines) == 4 and all(w > 0 for w, _ in lines)
    (table,) = boxes(dom, r'<table class="misses"')
    assert table[1] > 60
    nodes = boxes(dom, r'<details class="node')
    assert nodes and all(h > 0 for _, h in nodes)

    screenshot = tmp_path / "report.png"
    render(report, f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 20_000
    target = os.environ.get("BEDROCK_CACHE_REPORT_SCREENSHOT")
    if target:  # refresh the README's picture: BEDROCK_CACHE_REPORT_SCREENSHOT=docs/report.png
        shutil.copy(screenshot, target)


def test_an_empty_log_or_a_line_cut_short_still_renders(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text('{"v":1,"time":"2026-11-26T10:00:00.000+00:00","model_id":"x","cache_re')
    out = tmp_path / "r.html"
    assert main(["report", str(log), "-o", str(out)]) == 0
    assert "The trace log has no calls yet." in out.read_text()


def test_report_of_a_missing_log_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "r.html")]) == 2
    assert "trace_log=" in capsys.readouterr().err
