"""``bedrock-cache``: the command line.

Each subcommand is one ``_add_<name>`` function that registers its parser and sets
``run=<function(args) -> exit code>``; add a new one to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Sequence

from . import _estimate_cli
from .diagnostics import _lint_cli


def _add_emulator(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "emulator",
        help="serve the local Bedrock emulator on 127.0.0.1 until Ctrl-C",
        description="A local bedrock-runtime with Bedrock's prompt-caching rules.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument(
        "--latency-base-ms", type=float, default=0.0, help="SIMULATED fixed latency per call"
    )
    parser.add_argument(
        "--latency-per-token-ms",
        type=float,
        default=0.0,
        help="SIMULATED latency per input token not read from cache",
    )
    parser.set_defaults(run=_run_emulator)


def _run_emulator(args: argparse.Namespace) -> int:
    from .emulator import BedrockEmulator, SimulatedLatency

    latency = None
    if args.latency_base_ms or args.latency_per_token_ms:
        latency = SimulatedLatency(args.latency_base_ms, args.latency_per_token_ms)
    emulator = BedrockEmulator(port=args.port, latency=latency).start()
    print(f"Bedrock emulator listening on {emulator.endpoint_url}", flush=True)
    print(f"  export AWS_ENDPOINT_URL_BEDROCK_RUNTIME={emulator.endpoint_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        emulator.stop()
    return 0


#: Subcommand registrars, in help order.
COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_emulator,
    _estimate_cli.add_parser,
    _lint_cli.add_parser,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``bedrock-cache`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="bedrock-cache", description="Amazon Bedrock prompt caching tools."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bedrock-cache``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
