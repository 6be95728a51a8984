"""``bedrock-cache emulator`` prints what a shell needs and logs each request in one line.

Invariant: the printed ``export`` lines alone point a fresh boto3 session (runtime and control
plane) at the emulator; each request then prints its model, read / write / uncached tokens and
checkpoints (only failures with ``--quiet``), never prompt text; a busy port is a one-line error
with exit code 2; ``--help`` gives units and defaults.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bedrock_cache.cli import main

SONNET = "anthropic.claude-sonnet-4-6"
SECRET = "The vault code is 4711. "


class Served:
    """A running ``bedrock-cache emulator`` process and the lines it prints."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "bedrock_cache.cli", "emulator", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.banner = self.until("Ctrl-C (or SIGTERM) stops it.")

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self) -> str:
        return self.lines.get(timeout=30)

    def until(self, last: str) -> list[str]:
        seen = [self.next_line()]
        while seen[-1] != last:
            seen.append(self.next_line())
        return seen

    def environment(self) -> dict[str, str]:
        exports = [line.strip()[len("export ") :] for line in self.banner if "export " in line]
        return dict(line.split("=", 1) for line in exports)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


@pytest.fixture
def served() -> Iterator[Served]:
    emulator = Served()
    yield emulator
    if emulator.process.poll() is None:
        emulator.process.kill()
        emulator.process.wait()


def session_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return boto3.session.Session()


def test_the_printed_lines_are_all_a_client_needs(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = served.environment()
    assert set(env) == {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_ENDPOINT_URL_BEDROCK",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    assert env["AWS_ENDPOINT_URL_BEDROCK"].startswith("http://127.0.0.1:")
    session = session_from(env, monkeypatch)
    runtime = session.client("bedrock-runtime")
    request = {
        "modelId": f"us.{SONNET}",
        "system": [{"text": SECRET * 300}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": SECRET}]}],
    }
    written = runtime.converse(**request)["usage"]["cacheWriteInputTokens"]
    runtime.converse(**request)
    first, second = served.next_line(), served.next_line()
    assert first.startswith(f"Converse us.{SONNET}: read 0 / write {written:,} / uncached ")
    assert first.endswith("checkpoints: write")
    assert second.startswith(f"Converse us.{SONNET}: read {written:,} / write 0 / ")
    assert "4711" not in first + second, "no prompt text in the log"

    control = session.client("bedrock")
    assert control.list_inference_profiles()["inferenceProfileSummaries"] == []
    with pytest.raises(runtime.exceptions.ResourceNotFoundException):
        runtime.converse(modelId="acme.nothing", messages=request["messages"])
    assert served.next_line().startswith("Converse acme.nothing -> ResourceNotFoundException")
    assert served.stop() == 0


def test_quiet_prints_only_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Served("--quiet")
    try:
        runtime = session_from(emulator.environment(), monkeypatch).client("bedrock-runtime")
        messages = [{"role": "user", "content": [{"text": "Hi"}]}]
        runtime.converse(modelId=SONNET, messages=messages)
        with pytest.raises(runtime.exceptions.ResourceNotFoundException):
            runtime.converse(modelId="acme.nothing", messages=messages)
        assert emulator.next_line().startswith("Converse acme.nothing -> ")
    finally:
        assert emulator.stop() == 0


def test_a_busy_port_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        f"bedrock-cache emulator: port {port} on 127.0.0.1 is already in use; "
        "pick another with --port, or --port 0 for a free one"
    )


@pytest.mark.parametrize(
    "args", [["--port", "70000"], ["--latency-base-ms", "-5"], ["--read-timeout", "0"]]
)
def test_bad_arguments_exit_2_with_a_message(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["emulator", *args])
    assert raised.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_help_gives_units_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["emulator", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for says in ("milliseconds", "SIMULATED", "(default: 0)", "(default: 1000)", "seconds"):
        assert says in text
