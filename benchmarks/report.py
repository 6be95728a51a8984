"""The benchmark's outputs: a table per workload, ``results.json`` and ``RESULTS.md``."""

from __future__ import annotations

import json
import math
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .runner import Run

#: The peers: what "ratio to the best peer" compares with.
PEERS = (
    "langchain-aws",
    "langchain-aws-middleware",
    "llama-index",
    "litellm",
    "strands",
    "pydantic-ai",
)


@dataclass
class WorkloadResult:
    """Every strategy's run (or why it could not run) on one workload, and the bound."""

    name: str
    model: str
    calls: int
    bound: float
    runs: dict[str, Run | str] = field(default_factory=dict)
    """A :class:`Run`, or the reason the strategy is unavailable."""
    own_bounds: dict[str, float] = field(default_factory=dict)
    """The bound of a strategy's own requests, where its library sent different content."""

    def best_peer(self) -> float | None:
        costs = [r.total_cost for n, r in self.runs.items() if n in PEERS and isinstance(r, Run)]
        return min(costs) if costs else None

    def bound_for(self, strategy: str) -> float:
        return self.own_bounds.get(strategy, self.bound)


def _ratio(value: float, base: float | None) -> str:
    if base is None or base <= 0 or math.isnan(value):
        return "-"
    return f"{value / base:.2f}"


def table(result: WorkloadResult) -> str:
    """One workload: a row per strategy."""
    head = (
        f"{result.name} ({result.model}, {result.calls} calls, bound ${result.bound:.4f})\n"
        f"  {'strategy':<26}{'input $':>10}{'total $':>10}{'hit rate':>10}"
        f"{'x bound':>9}{'x best peer':>12}{'rejected':>10}"
    )
    lines = [head]
    best = result.best_peer()
    for name, outcome in result.runs.items():
        if isinstance(outcome, str):
            lines.append(f"  {name:<26}unavailable: {outcome}")
            continue
        note = " (own traffic)" if name in result.own_bounds else ""
        lines.append(
            f"  {name:<26}{outcome.input_cost:>10.4f}{outcome.total_cost:>10.4f}"
            f"{outcome.hit_rate:>10.1%}"
            f"{_ratio(outcome.total_cost, result.bound_for(name)):>9}"
            f"{_ratio(outcome.total_cost, best):>12}{outcome.rejected:>10}{note}"
        )
    return "\n".join(lines)


def totals(results: Sequence[WorkloadResult]) -> str:
    """Every strategy summed over the workloads it ran on all of."""
    names = list(dict.fromkeys(n for r in results for n in r.runs))
    bound = sum(r.bound for r in results)
    lines = [
        f"TOTAL over {len(results)} workloads (bound ${bound:.4f})",
        f"  {'strategy':<26}{'total $':>10}{'x bound':>9}{'worst x bound':>15}{'rejected':>10}",
    ]
    for name in names:
        runs = [(r, r.runs.get(name)) for r in results]
        done = [(r, run) for r, run in runs if isinstance(run, Run)]
        if len(done) != len(results):
            lines.append(f"  {name:<26}ran on {len(done)} of {len(results)} workloads")
            continue
        cost = sum(run.total_cost for _, run in done)
        worst = max(run.total_cost / r.bound_for(name) for r, run in done)
        rejected = sum(run.rejected for _, run in done)
        lines.append(f"  {name:<26}{cost:>10.4f}{cost / bound:>9.2f}{worst:>15.2f}{rejected:>10}")
    return "\n".join(lines)


def _money(costs: Mapping[str, float], name: str) -> str:
    return f"{costs[name]:.4f}" if name in costs else "-"


def summary(results: Sequence[WorkloadResult]) -> str:
    """One row per workload: total $ of the bound, no caching, ours, the best peer, the schedule."""
    lines = [
        f"  {'workload':<22}{'bound':>8}{'none':>8}{'ours':>8}{'best peer':>10}"
        f"{'schedule':>10}{'ours x bound':>14}{'ours x peer':>13}  best peer",
    ]
    for r in results:
        cost = {n: run.total_cost for n, run in r.runs.items() if isinstance(run, Run)}
        peers = {n: c for n, c in cost.items() if n in PEERS}
        best = min(peers, key=peers.__getitem__) if peers else "-"
        ours = cost.get("ours", math.nan)

        lines.append(
            f"  {r.name:<22}{r.bound:>8.4f}{_money(cost, 'none'):>8}{_money(cost, 'ours'):>8}"
            f"{_money(cost, best) if peers else '-':>10}{_money(cost, 'clairvoyant'):>10}"
            f"{_ratio(ours, r.bound_for('ours')):>14}{_ratio(ours, r.best_peer()):>13}  {best}"
        )
    return "\n".join(lines)


def results_json(results: Sequence[WorkloadResult], commit: str) -> dict[str, Any]:
    """``{"commit", "workloads": {name: {"model", "calls", "bound", "strategies"}}}``."""
    workloads: dict[str, Any] = {}
    for result in results:
        strategies: dict[str, Any] = {}
        for name, outcome in result.runs.items():
            if isinstance(outcome, str):
                strategies[name] = {"unavailable": outcome}
            else:
                strategies[name] = {
                    "input_cost": round(outcome.input_cost, 6),
                    "total_cost": round(outcome.total_cost, 6),
                    "hit_rate": round(outcome.hit_rate, 4),
                    "rejected": outcome.rejected,
                }
        workloads[result.name] = {
            "model": result.model,
            "calls": result.calls,
            "bound": round(result.bound, 6),
            "strategies": strategies,
        }
    return {"commit": commit, "workloads": workloads}


def commit() -> str:
    """The checked-out commit, with ``+dirty`` when the work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine() -> str:
    import os

    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def write(
    directory: Path,
    results: Sequence[WorkloadResult],
    overhead: str,
    versions: Mapping[str, str],
    seconds: float,
) -> None:
    """Write ``results.json`` and ``RESULTS.md`` for this run."""
    head = commit()
    (directory / "results.json").write_text(
        json.dumps(results_json(results, head), indent=2) + "\n"
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    tables = "\n\n".join([*(table(r) for r in results), totals(results), summary(results)])
    libraries = "\n".join(f"- {name} {version}" for name, version in versions.items())
    (directory / "RESULTS.md").write_text(
        f"# Benchmark results\n\n"
        f"Measured {when} on commit `{head}`, on {machine()}, by `python -m benchmarks` "
        f"(what `make bench` runs; {seconds:.0f} s wall clock). Costs are USD from the usage "
        f"the local emulator returned, priced with `bedrock_cache.cost_of`; `x bound` is total "
        f"cost over the clairvoyant lower bound "
        f"(`benchmarks/bound.py`), `x best peer` over the cheapest peer library.\n\n"
        f"Libraries:\n{libraries}\n\n```\n{tables}\n```\n\n## Overhead\n\n```\n{overhead}\n```\n"
    )
