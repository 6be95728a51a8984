"""Invariant: a trace log gets exactly one JSON line per call -- time, ids, model, plan, usage,
cost -- from every entry point (``trace_log=`` or ``BEDROCK_CACHE_TRACE_LOG`` for the caches that
the adapters make themselves), never holds prompt text, stays within its size bound, and never
fails a call.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langgraph.checkpoint.memory import InMemorySaver
from langsmith import Client, traceable, tracing_context
from llama_index.core.llms import ChatMessage

from bedrock_cache import BedrockCache, ModelTable
from bedrock_cache.cli import main
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from bedrock_cache.telemetry import TRACE_LOG_ENV, TraceLog, read_trace_log
from integrations.shared import support_system_prompt
from langchain_bedrock_cache import BedrockCacheMiddleware
from llama_index_bedrock_cache import CachingBedrockConverse

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = support_system_prompt()
Emulator = BedrockEmulator[ManualClock]


def ask(client: Any, text: str) -> dict[str, Any]:
    messages = [{"role": "user", "content": [{"text": text}]}]
    response: dict[str, Any] = client.converse(
        modelId=MODEL, system=[{"text": SYSTEM}], messages=messages
    )
    return response


def test_boto3_calls_are_logged_one_line_each(bedrock_emulator: Emulator, tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    client = BedrockCache(trace_log=log).instrument(bedrock_emulator.client())
    usages = [ask(client, q)["usage"] for q in ("Where is my order?", "Can I get a refund?")]

    records = list(read_trace_log(log))
    assert len(records) == len(log.read_text().splitlines()) == 2
    write, read = records
    assert write["model_id"] == MODEL and write["time"] < read["time"]
    assert write["cache_write_5m_tokens"] == usages[0]["cacheWriteInputTokens"] > 0
    assert read["cache_read_tokens"] == usages[1]["cacheReadInputTokens"] > 0
    assert read["uncached_input_tokens"] == usages[1]["inputTokens"]
    assert read["saved_usd"] > 0 > write["saved_usd"]
    (checkpoint,) = write["checkpoints"]
    assert checkpoint["ttl"] == "5m" and checkpoint["role"] == "system"
    assert isinstance(checkpoint["after_block"], int)
    text = log.read_text()
    assert "Where is my order?" not in text and SYSTEM[:40] not in text  # no prompt text


def test_requests_as_sent_only_when_asked(bedrock_emulator: Emulator, tmp_path: Path) -> None:
    """``include_request`` logs the request with its checkpoints, for ``bedrock-cache lint``."""
    log = TraceLog(tmp_path / "requests.jsonl", include_request=True)
    client = BedrockCache(trace_log=log).instrument(bedrock_emulator.client())
    ask(client, "Where is my order?")
    messages = [{"role": "user", "content": [{"text": "Can I get a refund?"}]}]
    response = client.converse_stream(modelId=MODEL, system=[{"text": SYSTEM}], messages=messages)
    for _ in response["stream"]:
        pass

    plain, streamed = read_trace_log(log.path)
    assert plain["request"]["messages"][0]["content"] == [{"text": "Where is my order?"}]
    assert plain["request"]["system"] == [{"text": SYSTEM}, {"cachePoint": {"type": "default"}}]
    assert streamed["request"]["messages"][0]["content"][0] == messages[0]["content"][0]
    assert streamed["cache_read_tokens"] > 0


def test_a_log_with_requests_feeds_the_lint(
    bedrock_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = TraceLog(tmp_path / "stamped.jsonl", include_request=True)
    client = BedrockCache(trace_log=log).instrument(bedrock_emulator.client())
    for hour in range(3):
        client.converse(
            modelId=MODEL,
            system=[{"text": f"Now: 2026-11-26T0{hour}:00:00Z. {SYSTEM}"}],
            messages=[{"role": "user", "content": [{"text": "Summarize the queue."}]}],
        )
    assert main(["lint", str(log.path), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    rules = {(f["rule"], f["section"]) for f in findings}
    assert ("BC101", "system") in rules  # the timestamp, found in the logged requests
    assert ("BC401", "system") in rules  # the misses the log recorded


def test_a_resent_request_is_logged_as_it_finally_went_out(
    bedrock_emulator: Emulator, tmp_path: Path
) -> None:
    """Bedrock refuses a checkpoint the (stale) table allowed -- next to a toolResult on Nova --
    and the caller's request is resent as built."""
    nova = "us.amazon.nova-pro-v1:0"
    table = ModelTable.shipped()
    table.register(replace(table.resolve(nova).spec, rejected_positions=frozenset()))
    log = TraceLog(tmp_path / "resent.jsonl", include_request=True)
    client = BedrockCache(table=table, trace_log=log).instrument(bedrock_emulator.client())
    result = {"toolResult": {"toolUseId": "t1", "content": [{"text": "Shipped Monday. " * 600}]}}
    messages = [
        {"role": "user", "content": [{"text": "Where is order A-1? " + "Details. " * 900}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup_order", "input": {}}}],
        },
        {"role": "user", "content": [result]},
    ]
    for _ in range(2):  # seen once, then planned: the planner writes what recurs
        client.converse(modelId=nova, system=[{"text": SYSTEM}], messages=messages)

    _, rejected, accepted = bedrock_emulator.requests
    assert rejected.error == "ValidationException" and accepted.error is None
    _, record = read_trace_log(log.path)
    assert record["request"] == {**accepted.request, "modelId": nova}
    assert "cachePoint" not in json.dumps(record["request"])


def test_env_var_logs_a_langchain_agent_with_its_thread_and_node(
    bedrock_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "agent.jsonl"
    monkeypatch.setenv(TRACE_LOG_ENV, str(log))
    llm = ChatBedrockConverse(model=MODEL, **bedrock_emulator.connection_kwargs)
    agent = create_agent(
        llm,
        [],
        system_prompt=SYSTEM,
        middleware=[BedrockCacheMiddleware()],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "customer-42"}}
    for question in ("Where is my order?", "Can I get a refund?"):
        agent.invoke({"messages": [("human", question)]}, config=config)

    records = list(read_trace_log(log))
    assert len(records) == 2
    assert [r["ids"]["thread_id"] for r in records] == ["customer-42"] * 2
    assert all(r["ids"]["path"][-1] == "model" for r in records)
    assert records[1]["cache_read_tokens"] > 0
    assert "Where is my order?" not in log.read_text()


async def test_env_var_logs_llama_index_calls_with_their_span(
    bedrock_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "llama.jsonl"
    monkeypatch.setenv(TRACE_LOG_ENV, str(log))
    llm = CachingBedrockConverse(model=MODEL, **bedrock_emulator.connection_kwargs)
    system = ChatMessage(role="system", content=SYSTEM)
    llm.chat([system, ChatMessage(role="user", content="Where is my order?")])
    await llm.achat([system, ChatMessage(role="user", content="Can I get a refund?")])

    records = list(read_trace_log(log))
    assert [r["ids"]["path"] for r in records] == [
        ["CachingBedrockConverse.chat"],
        ["CachingBedrockConverse.achat"],
    ]
    assert records[1]["cache_read_tokens"] > 0


def test_a_langsmith_traced_function_names_its_trace_and_run(
    bedrock_emulator: Emulator, tmp_path: Path
) -> None:
    log = tmp_path / "traced.jsonl"
    client = BedrockCache(trace_log=log).instrument(bedrock_emulator.client())

    @traceable(name="support-turn")
    def answer(question: str) -> dict[str, Any]:
        return ask(client, question)

    # Traced in process only: a client on a closed loopback port that needs no server info.
    offline = Client(api_url="http://127.0.0.1:9", api_key="unused", info={})
    with tracing_context(enabled="local", client=offline):
        answer("Where is my order?")
        answer("Can I get a refund?")
    first, second = (record["ids"] for record in read_trace_log(log))
    assert first["path"] == second["path"] == ["support-turn"]
    assert first["trace_id"] != second["trace_id"]  # two top-level runs, two traces
    assert first["run_id"] == first["trace_id"]


def test_log_rolls_over_and_stays_bounded(bedrock_emulator: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl"
    log = TraceLog(path, max_bytes=2048)
    client = BedrockCache(trace_log=log).instrument(bedrock_emulator.client())
    for turn in range(12):
        ask(client, f"Question {turn}")

    assert log.rollover_path.exists()
    assert path.stat().st_size <= 2048 and log.rollover_path.stat().st_size <= 2048
    records = list(read_trace_log(path))
    assert 2 <= len(records) < 12  # the oldest calls were dropped with the old rollover file
    assert [r["time"] for r in records] == sorted(r["time"] for r in records)


def test_concurrent_calls_write_whole_lines(bedrock_emulator: Emulator, tmp_path: Path) -> None:
    log = tmp_path / "threads.jsonl"
    cache = BedrockCache(trace_log=log)

    def worker(n: int) -> None:
        client = cache.instrument(bedrock_emulator.client())
        for turn in range(5):
            ask(client, f"Worker {n}, question {turn}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = log.read_text().splitlines()
    assert len(lines) == 30
    assert all(json.loads(line)["model_id"] == MODEL for line in lines)


def test_an_unwritable_log_never_fails_the_call(
    bedrock_emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    client = BedrockCache(trace_log=blocker / "calls.jsonl").instrument(bedrock_emulator.client())
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        for question in ("Where is my order?", "Can I get a refund?"):
            assert ask(client, question)["output"]["message"]["content"]
    warnings = [r for r in caplog.records if "trace log" in r.getMessage()]
    assert len(warnings) == 1  # once per distinct fault per minute


def test_bad_trace_log_argument_is_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="file path"):
        BedrockCache(trace_log=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes"):
        TraceLog("calls.jsonl", max_bytes=10)
