"""``python -m benchmarks``: every workload under every strategy, the bound, and the overhead.

Prints a table per workload and writes ``benchmarks/results.json`` and ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

from .bound import lower_bound
from .calls import Workload
from .report import WorkloadResult, summary, table, totals, write
from .runner import Run, run
from .strategies import Strategy, Unavailable, clairvoyant, strategies
from .workloads import WORKLOADS, workload

LIBRARIES = (
    "boto3",
    "botocore",
    "langchain-aws",
    "langchain",
    "llama-index-llms-bedrock-converse",
    "litellm",
    "strands-agents",
    "pydantic-ai-slim",
)


def versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def measure(name: str, chosen: Sequence[Strategy]) -> WorkloadResult:
    """One workload under each strategy and the feasible clairvoyant schedule; the bound comes
    from the uncached run's requests."""
    return measure_workload(workload(name), chosen)


def measure_workload(
    load: Workload, chosen: Sequence[Strategy], *, schedule: bool = True
) -> WorkloadResult:
    """:func:`measure` on a workload object; ``schedule=False`` leaves out the schedule."""
    calls = load.calls()
    by_name = {s.name: s for s in strategies()}
    baseline = run(load, by_name["none"], calls)
    base_requests = baseline.requests()
    result = WorkloadResult(load.name, load.model, len(calls), lower_bound(base_requests))
    base_tokens = baseline.usage.total_input
    runs = list(chosen)
    if schedule:  # planned knowing the future, so only when it is run
        runs.append(clairvoyant.strategy(base_requests, [s.request for s in baseline.sent]))
    for strategy in runs:
        try:
            outcome = baseline if strategy.name == "none" else run(load, strategy, calls)
        except Unavailable as exc:
            result.runs[strategy.name] = str(exc)
            continue
        result.runs[strategy.name] = outcome
        if outcome.usage.total_input != base_tokens:
            result.own_bounds[strategy.name] = lower_bound(outcome.requests())
    return result


def _measure_named(name: str, strategy_names: Sequence[str]) -> WorkloadResult:
    return measure(name, [s for s in strategies() if s.name in strategy_names])


def violations(result: WorkloadResult) -> list[str]:
    """Strategies that cost less than the bound of their own requests: a broken bound."""
    return [
        f"{result.name}: {name} costs {outcome.total_cost:.6f} < bound {result.bound_for(name):.6f}"
        for name, outcome in result.runs.items()
        if isinstance(outcome, Run) and outcome.total_cost < result.bound_for(name) - 1e-9
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--workload", action="append", choices=[w.name for w in WORKLOADS])
    parser.add_argument("--strategy", action="append", choices=[s.name for s in strategies()])
    parser.add_argument("--no-overhead", action="store_true", help="skip the overhead timing")
    parser.add_argument(
        "--only-overhead", action="store_true", help="print only the overhead timing (no workloads)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parent,
        help="where results.json and RESULTS.md go (default: benchmarks/)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="workloads run in parallel"
    )
    args = parser.parse_args(argv)
    if args.only_overhead:
        from .overhead import overhead_report

        print(overhead_report())
        return 0
    names = args.workload or [w.name for w in WORKLOADS]
    chosen = [s for s in strategies() if not args.strategy or s.name in args.strategy]

    started = time.perf_counter()
    results: list[WorkloadResult] = []
    broken: list[str] = []
    chosen_names = [s.name for s in chosen]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for result in pool.map(_measure_named, names, [chosen_names] * len(names)):
            results.append(result)
            broken += violations(result)
            print(table(result), end="\n\n", flush=True)
    print(totals(results), end="\n\n")
    print(summary(results), end="\n\n")
    overhead_text = ""
    if not args.no_overhead:
        from .overhead import overhead_report

        overhead_text = overhead_report()
        print(overhead_text)
    seconds = time.perf_counter() - started
    if not args.no_write:
        write(args.out, results, overhead_text, versions(), seconds)
        print(f"wrote {args.out / 'results.json'} and {args.out / 'RESULTS.md'} ({seconds:.0f} s)")
    return bound_status(broken)


def bound_status(broken: Sequence[str]) -> int:
    """A run's exit status: 1, with the :func:`violations` on stderr, if any strategy cost less
    than the bound of its own requests."""
    if broken:
        print("LOWER BOUND VIOLATED:\n" + "\n".join(broken), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
