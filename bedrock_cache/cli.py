"""``bedrock-cache``: the command line.

Each subcommand is one ``_add_<name>`` function that registers its parser and sets
``run=<function(args) -> exit code>``; add a new one to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Sequence

from . import _cli_calibrate, _cli_models, _cli_run


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


def _add_estimate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "estimate",
        help="what caching saves on a steady workload (and how it compares with Batch)",
        description="Monthly cost of a workload whose requests share a cached prefix.",
    )
    parser.add_argument("--model", default="global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    parser.add_argument("--requests", type=int, required=True, help="requests in the period")
    parser.add_argument("--cached-tokens", type=int, required=True, help="shared prefix tokens")
    parser.add_argument("--uncached-tokens", type=int, required=True, help="other input tokens")
    parser.add_argument("--output-tokens", type=int, required=True, help="output tokens")
    parser.add_argument("--writes", type=int, default=1, help="requests that write the prefix")
    parser.add_argument("--ttl", choices=["5m", "1h"], default="5m", help="TTL of the writes")
    parser.set_defaults(run=_run_estimate)


#: Batch inference: about half the on-demand price, asynchronous, and no prompt caching.
BATCH_DISCOUNT = 0.5


def _run_estimate(args: argparse.Namespace) -> int:
    from . import Workload, estimate, resolve_model

    model = resolve_model(args.model)
    if not model.spec.supports_caching:
        print(model.spec.note or f"{model.spec.model_id} does not support prompt caching")
        return 1
    workload = Workload(
        requests=args.requests,
        cached_prefix_tokens=args.cached_tokens,
        uncached_tokens=args.uncached_tokens,
        output_tokens=args.output_tokens,
        cache_writes=args.writes,
        write_ttl=args.ttl,
    )
    cost = estimate(workload, model)
    print(f"model {model.spec.model_id} ({model.requested_id}), {args.requests:,} requests")
    print(f"  without caching        ${cost.without_cache:>12,.2f}")
    print(
        f"  with caching           ${cost.total:>12,.2f}  ({-cost.saved / cost.without_cache:+.0%})"
    )
    print(f"    uncached input       ${cost.uncached_input:>12,.2f}")
    print(f"    cache reads          ${cost.cache_read:>12,.2f}")
    print(f"    cache writes         ${cost.cache_write:>12,.2f}")
    print(f"    output               ${cost.output:>12,.2f}")
    batch = cost.without_cache * BATCH_DISCOUNT
    print(f"  Batch (no caching)     ${batch:>12,.2f}  (asynchronous; caching does not apply)")
    print(
        "  Provisioned Throughput: a flat hourly rate; caching lowers the work per request "
        "inside it, so the same capacity serves more requests."
    )
    return 0


#: Subcommand registrars, in help order.
COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_emulator,
    _add_estimate,
    _cli_models.add_parser,
    _cli_calibrate.add_parser,
    _cli_run.add_parser,
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
