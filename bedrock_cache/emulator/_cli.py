"""``bedrock-cache emulator``: serve the local Bedrock on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading

from ._emulator import DEFAULT_LOG_SIZE, DEFAULT_READ_TIMEOUT, DUMMY_CREDENTIALS, REGION
from ._service import RecordedRequest


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port; use 0 (a free one) to 65535")
    return int(text)


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; use 0 or more")
    return value


def _positive(text: str) -> float:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a timeout; use a number of seconds above 0")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bedrock-cache emulator``."""
    parser = commands.add_parser(
        "emulator",
        help="serve the local Bedrock emulator on 127.0.0.1 until Ctrl-C",
        description=(
            "A local Amazon Bedrock (bedrock-runtime Converse, ConverseStream, CountTokens and "
            "the bedrock control plane's inference profiles) with Bedrock's prompt-caching "
            "rules. No AWS call is made. Prints the environment lines that point boto3, "
            "LangChain and LlamaIndex at it, then one line per request. It knows the shipped "
            "model table plus any file named by BEDROCK_CACHE_MODELS."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="PORT",
        help="TCP port on 127.0.0.1; 0 picks a free one",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only the requests that fail, not one line per request",
    )
    parser.add_argument(
        "--latency-base-ms",
        type=_non_negative,
        default=0.0,
        metavar="MS",
        help="SIMULATED fixed latency per call, in milliseconds (not a measurement of Bedrock)",
    )
    parser.add_argument(
        "--latency-per-token-ms",
        type=_non_negative,
        default=0.0,
        metavar="MS",
        help="SIMULATED latency per input token not read from cache, in milliseconds",
    )
    parser.add_argument(
        "--request-log-size",
        type=_positive_int,
        default=DEFAULT_LOG_SIZE,
        metavar="N",
        help="recent requests kept in memory for inspection (totals count all)",
    )
    parser.add_argument(
        "--read-timeout",
        type=_positive,
        default=DEFAULT_READ_TIMEOUT,
        metavar="SECONDS",
        help="seconds a started request may take to send its headers and body",
    )
    parser.set_defaults(run=run)


def environment_lines(endpoint_url: str) -> list[str]:
    """Shell lines that point every AWS SDK client in a process at ``endpoint_url``."""
    return [
        f"export AWS_ENDPOINT_URL_BEDROCK_RUNTIME={endpoint_url}",
        f"export AWS_ENDPOINT_URL_BEDROCK={endpoint_url}",
        f"export AWS_REGION={REGION}",
        f"export AWS_DEFAULT_REGION={REGION}",  # the name boto3 reads
        f"export AWS_ACCESS_KEY_ID={DUMMY_CREDENTIALS['aws_access_key_id']}",
        f"export AWS_SECRET_ACCESS_KEY={DUMMY_CREDENTIALS['aws_secret_access_key']}",
    ]


def request_line(record: RecordedRequest) -> str:
    """One log line per request: model, token counts and checkpoints; never prompt text."""
    head = f"{record.operation} {record.model_id}"
    if record.error is not None:
        return f"{head} -> {record.error}: {record.error_message}"
    if record.outcome is None:
        usage = record.usage or {}
        return f"{head}: {usage.get('inputTokens', 0):,} input tokens"
    outcome = record.outcome
    checkpoints = ", ".join(cp.status for cp in outcome.checkpoints) or "none"
    output = (record.usage or {}).get("outputTokens", 0)
    return (
        f"{head}: read {outcome.cache_read:,} / write {outcome.cache_write:,} / "
        f"uncached {outcome.uncached_input:,} input tokens, {output:,} output; "
        f"checkpoints: {checkpoints}"
    )


def _print_request(record: RecordedRequest) -> None:
    print(request_line(record), flush=True)


def _print_error(record: RecordedRequest) -> None:
    if record.error is not None:
        _print_request(record)


def run(args: argparse.Namespace) -> int:
    from ._emulator import BedrockEmulator
    from ._replies import SimulatedLatency

    latency = None
    if args.latency_base_ms or args.latency_per_token_ms:
        latency = SimulatedLatency(args.latency_base_ms, args.latency_per_token_ms)
    emulator = BedrockEmulator(
        port=args.port,
        latency=latency,
        request_log_size=args.request_log_size,
        read_timeout=args.read_timeout,
        on_request=_print_error if args.quiet else _print_request,
    )
    try:
        emulator.start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"bedrock-cache emulator: port {args.port} on 127.0.0.1 is already in use; "
            "pick another with --port, or --port 0 for a free one",
            file=sys.stderr,
        )
        return 2
    print(f"Bedrock emulator (local; no AWS calls) on {emulator.endpoint_url}", flush=True)
    print("Paste these lines into a shell to point boto3 and the frameworks at it:", flush=True)
    for line in environment_lines(emulator.endpoint_url):
        print(f"  {line}", flush=True)
    print("Ctrl-C (or SIGTERM) stops it.", flush=True)
    try:
        _until_stopped()
        print("stopping", flush=True)
    finally:
        emulator.stop()
    return 0


def _until_stopped() -> None:
    """Wait for SIGINT or SIGTERM. Handlers are installed explicitly: a process started in the
    background by a non-interactive shell inherits SIGINT ignored, and Ctrl-C must still work."""
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    stop.wait()
