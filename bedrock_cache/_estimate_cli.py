"""``bedrock-cache estimate``: what caching saves on a workload, typed in or read from a log."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._estimate import ProvisionedThroughput, Traffic, estimate_savings, observed_traffic
from ._models import resolve_model
from ._pricing import Workload
from .diagnostics import InputError
from .diagnostics._inputs import read_records

DEFAULT_MODEL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
WORKLOAD_FLAGS = ("requests", "cached_tokens", "uncached_tokens", "output_tokens")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "estimate",
        help="what caching saves on a workload, with 5m vs 1h, Batch and Provisioned Throughput",
        description=(
            "The savings math for a workload whose requests share a cached prefix: cost with "
            "and without caching line by line, 5m against 1h, the break-even reuse count, "
            "Batch, a Provisioned Throughput what-if and a recommendation. Give the workload "
            "(--requests, --cached-tokens, --uncached-tokens, --output-tokens) or --from-log. "
            "Exit status 2 on bad input."
        ),
    )
    add = parser.add_argument
    add("--model", default=DEFAULT_MODEL, help=f"model or profile id (default {DEFAULT_MODEL})")
    needed = "no default: required without --from-log"
    add("--requests", type=int, help=f"requests in the period (count; {needed})")
    add("--cached-tokens", type=int, help=f"shared prefix per request (tokens; {needed})")
    add("--uncached-tokens", type=int, help=f"other input per request (tokens; {needed})")
    add("--output-tokens", type=int, help=f"output per request (tokens; {needed})")
    add(
        "--writes",
        type=int,
        help="requests that write the prefix (count; default: predicted from --days, "
        "--active-hours and the TTL)",
    )
    add("--ttl", choices=["5m", "1h"], default="5m", help="TTL of the writes (default 5m)")
    add(
        "--days",
        type=float,
        default=Traffic.days,
        help="days the requests spread over (default %(default)g)",
    )
    add(
        "--active-hours",
        type=float,
        default=Traffic.active_hours,
        help="hours a day the requests arrive in (hours, 0-24; default %(default)g)",
    )
    add(
        "--pt-hourly-usd",
        type=float,
        help="Provisioned Throughput price (USD per model unit per hour; default: no what-if)",
    )
    add(
        "--pt-units",
        type=int,
        default=ProvisionedThroughput.units,
        help="Provisioned Throughput model units (default %(default)s)",
    )
    add(
        "--pt-hours",
        type=float,
        default=ProvisionedThroughput.hours,
        help="Provisioned Throughput hours in the period (hours; default %(default)g, a 30-day "
        "month)",
    )
    add(
        "--from-log",
        metavar="LOG",
        help="estimate from observed calls: a trace log (JSON Lines, one call per line), "
        "projected to a 30-day month when its lines carry times",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        lines = _report(args)
    except (InputError, ValueError) as exc:
        print(f"bedrock-cache estimate: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def _report(args: argparse.Namespace) -> list[str]:
    traffic = Traffic(days=args.days, active_hours=args.active_hours)
    provisioned = None
    if args.pt_hourly_usd is not None:
        provisioned = ProvisionedThroughput(args.pt_hourly_usd, args.pt_units, args.pt_hours)
    header: list[str] = []
    if args.from_log:
        given = [f"--{f.replace('_', '-')}" for f in WORKLOAD_FLAGS if getattr(args, f) is not None]
        if given:
            raise ValueError(f"give either --from-log or {', '.join(given)}, not both")
        observed = observed_traffic(read_records(args.from_log))
        workload = observed.per_month()
        model_id = args.model if args.model != DEFAULT_MODEL else observed.model_id
        span = f" over {observed.span_seconds / 3600:,.1f} h" if observed.span_seconds else ""
        header.append(
            f"observed {observed.calls:,} calls{span}"
            + (", projected to a 30-day month" if observed.span_seconds else "")
        )
    else:
        workload = _typed_workload(args, traffic)
        model_id = args.model
    model = resolve_model(model_id)
    return (
        header + estimate_savings(workload, model, traffic=traffic, provisioned=provisioned).lines()
    )


def _typed_workload(args: argparse.Namespace, traffic: Traffic) -> Workload:
    missing = [f"--{f.replace('_', '-')}" for f in WORKLOAD_FLAGS if getattr(args, f) is None]
    if missing:
        raise ValueError(f"give {', '.join(missing)} (or --from-log LOG)")
    values: dict[str, Any] = {f: getattr(args, f) for f in WORKLOAD_FLAGS}
    for flag, value in values.items():
        if value < 0:
            raise ValueError(f"--{flag.replace('_', '-')} must be 0 or more, not {value}")
    writes = args.writes
    if writes is None:
        writes = traffic.expected_writes(args.requests, args.ttl) if args.cached_tokens else 0
    elif writes > args.requests:
        raise ValueError(f"--writes ({writes}) cannot exceed --requests ({args.requests})")
    return Workload(
        requests=args.requests,
        cached_prefix_tokens=args.cached_tokens,
        uncached_tokens=args.uncached_tokens,
        output_tokens=args.output_tokens,
        cache_writes=writes,
        write_ttl=args.ttl,
    )
