"""Invariant: every traced model call carries its cache numbers where LangSmith shows them.

The real ``langsmith`` client sends its runs to a loopback HTTP sink (no network): the LLM run's
outputs hold ``response_metadata["bedrockCache"]`` and the middleware's span holds them as run
metadata under ``bedrock_cache``.
"""

from __future__ import annotations

import email.parser
import email.policy
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import HumanMessage
from langchain_core.tracers.langchain import LangChainTracer, wait_for_all_tracers
from langgraph.checkpoint.memory import InMemorySaver
from langsmith import Client
from langsmith import utils as ls_utils

from bedrock_cache import RESPONSE_KEY
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import support_system_prompt
from langchain_bedrock_cache import BedrockCacheMiddleware

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


class _Sink:
    """Collects every run payload the LangSmith client sends, decoded to dicts."""

    def __init__(self) -> None:
        self.payloads: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, name: str, value: Any) -> None:
        with self.lock:
            self.payloads.append((name, value))

    def decode(self, content_type: str, encoding: str, body: bytes) -> None:
        if encoding == "zstd":
            import zstandard

            body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
        elif encoding == "gzip":
            body = gzip.decompress(body)
        if content_type.startswith("multipart/"):
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            for part in message.iter_parts():
                payload = part.get_payload(decode=True) or b"{}"
                self.add(str(part.get_param("name", header="content-disposition")), _json(payload))
        else:
            self.add("json", _json(body))

    def text(self) -> str:
        with self.lock:
            return json.dumps(self.payloads, default=str)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


@pytest.fixture
def langsmith_sink() -> Iterator[tuple[str, _Sink]]:
    sink = _Sink()

    class Handler(BaseHTTPRequestHandler):
        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, payload: Any = None) -> None:
            data = json.dumps(payload if payload is not None else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply({})

        def do_POST(self) -> None:
            body = self._body()
            headers = self.headers
            if self.path.rstrip("/").endswith(("runs/multipart", "runs/batch", "runs")):
                content_type = headers.get("Content-Type", "")
                sink.decode(content_type, headers.get("Content-Encoding", ""), body)
            self._reply()

        do_PATCH = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", sink
    finally:
        server.shutdown()
        server.server_close()


def _runs(sink: _Sink) -> dict[str, dict[str, Any]]:
    """Runs by id, merged from multipart parts (``post.<id>``, ``patch.<id>.outputs``, ...)
    or from ``/runs/batch`` JSON bodies."""
    runs: dict[str, dict[str, Any]] = {}
    with sink.lock:
        payloads = list(sink.payloads)
    for name, value in payloads:
        if name == "json" and isinstance(value, dict):
            for run in [*(value.get("post") or []), *(value.get("patch") or [])]:
                runs.setdefault(str(run["id"]), {}).update(run)
        elif isinstance(value, dict) and name.startswith(("post.", "patch.")):
            _, run_id, *field = name.split(".")
            runs.setdefault(run_id, {}).update({field[0]: value} if field else value)
    return runs


@pytest.fixture
def tracing_to(
    langsmith_sink: tuple[str, _Sink], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, _Sink]]:
    """LangSmith tracing switched on for this test only, pointed at the sink."""
    url, _ = langsmith_sink
    for name, value in [
        ("LANGSMITH_TRACING", "true"),
        ("LANGSMITH_ENDPOINT", url),
        ("LANGSMITH_API_KEY", "dummy"),
        ("LANGSMITH_PROJECT", "bedrock-cache-test"),
    ]:
        monkeypatch.setenv(name, value)
    _clear_langsmith_env_caches()
    yield langsmith_sink
    monkeypatch.undo()
    _clear_langsmith_env_caches()


def _clear_langsmith_env_caches() -> None:
    ls_utils.get_env_var.cache_clear()
    ls_utils.get_tracer_project.cache_clear()


def test_cache_stats_reach_langsmith(tracing_to: tuple[str, _Sink]) -> None:
    url, sink = tracing_to
    client = Client(api_url=url, api_key="dummy")
    tracer = LangChainTracer(client=client, project_name="bedrock-cache-test")
    with BedrockEmulator(clock=ManualClock()) as emu:
        llm = ChatBedrockConverse(
            model=MODEL,
            **emu.connection_kwargs,
        )
        middleware = BedrockCacheMiddleware()
        agent = create_agent(
            llm,
            system_prompt=support_system_prompt(),
            middleware=[middleware],
            checkpointer=InMemorySaver(),
        )
        config: Any = {"callbacks": [tracer], "configurable": {"thread_id": "t1"}}
        for question in ("Hello", "How do refunds work?"):
            agent.invoke({"messages": [HumanMessage(question)]}, config)
    wait_for_all_tracers()
    client.flush()
    runs = list(_runs(sink).values())
    llm_runs = [run for run in runs if run.get("run_type") == "llm"]
    assert len(llm_runs) == 2
    reports = [_llm_report(run) for run in llm_runs]
    assert sorted(report["cache_read_tokens"] > 0 for report in reports) == [False, True]
    # The middleware's span (langchain >= 1.1 traces wrap_model_call; 1.0 has the model node).
    spans = [run for run in runs if "bedrock_cache" in run.get("extra", {}).get("metadata", {})]
    assert len(spans) == 2
    metadata = [span["extra"]["metadata"]["bedrock_cache"] for span in spans]
    assert sorted(m["cache_read_tokens"] for m in metadata) == sorted(
        r["cache_read_tokens"] for r in reports
    )
    by_reads = sorted(metadata, key=lambda m: m["cache_read_tokens"])
    assert [m["miss_cause"] for m in by_reads] == ["first_seen", None]  # the miss explainer


def _llm_report(run: dict[str, Any]) -> dict[str, Any]:
    """The cache report in an LLM run's outputs (``generations[0][0].message``)."""
    message = run["outputs"]["generations"][0][0]["message"]
    metadata = message.get("kwargs", message)["response_metadata"]
    report: dict[str, Any] = metadata[RESPONSE_KEY]
    return report
