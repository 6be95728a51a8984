"""``python -m benchmarks.random_traffic``: every strategy on traffic nobody wrote down.

The workloads in ``workloads/`` are shapes someone chose, and a planner can be fitted to them. Here
each seed draws one shape at random: a model (Sonnet 4.5 twice as often as Haiku 4.5 or Nova
Pro); one to six system prompts of 150-6,000 tokens, picked with Pareto popularity; on half the
seeds 5 or 20 tools; 2-12 chats of 1-8 turns, questions of 40-600 tokens; gaps between turns and
between chats fast (2-60 s), medium (1-10 min), slow (10-83 min) or a mix of the three; on two
seeds in five, one of a few documents of 800-7,000 tokens ahead of each chat's first question.
Each runs under every strategy of the main benchmark but the clairvoyant schedule, priced against
the clairvoyant bound of its requests (which also checks the bound on traffic it was not
written for).

Reported: each strategy's total over all seeds as a ratio to the bound, and the seeds where ours
costs more than no caching or more than 1% above the cheapest peer, with their number of calls (in
a workload of a few calls, the one write premium risked on a prompt seen for the first time is a
large share). Writes ``benchmarks/random_traffic.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .__main__ import bound_status, measure_workload, violations
from .calls import Call, Message, Workload, filler, user
from .report import PEERS, WorkloadResult, commit, results_json
from .runner import Run
from .strategies import strategies
from .workloads._common import HAIKU_45, NOVA_PRO, SONNET_45, agent_tools, chat_turns

OUT = Path(__file__).with_name("random_traffic.json")
FIRST_SEED = 0
SEEDS = 60
#: Ours is flagged where it costs more than this times the cheapest peer.
PEER_MARGIN = 1.01


def shape(seed: int) -> Workload:
    """The workload drawn from ``seed`` (the same calls for the same seed, on any machine)."""
    draw = random.Random(seed)
    model = draw.choice([SONNET_45, SONNET_45, HAIKU_45, NOVA_PRO])
    count = draw.choice([1, 1, 2, 3, 6])
    systems = [
        (filler(draw.choice([150, 600, 1_500, 3_000, 6_000]), f"random{seed}-system{n}"),)
        for n in range(count)
    ]
    tools = agent_tools(draw.choice([5, 20])) if draw.random() < 0.5 else ()
    pace = draw.choice(["fast", "medium", "slow", "mixed"])
    documents = (
        [
            filler(draw.choice([800, 3_000, 7_000]), f"random{seed}-doc{n}")
            for n in range(draw.randint(1, 4))
        ]
        if draw.random() < 0.4
        else []
    )

    def gap() -> float:
        kind = draw.choice(["fast", "medium", "slow"]) if pace == "mixed" else pace
        low, high = {"fast": (2, 60), "medium": (60, 600), "slow": (600, 5_000)}[kind]
        return draw.uniform(low, high)

    calls: list[Call] = []
    start = 0.0
    for chat in range(draw.randint(2, 12)):
        system = systems[min(int(draw.paretovariate(1.2)) - 1, count - 1)]
        length, question, answer = (
            draw.choice([1, 1, 2, 4, 8]),
            draw.choice([40, 150, 600]),
            draw.choice([80, 300]),
        )
        turns = chat_turns(length, f"random{seed}-chat{chat}", question, answer)
        history: list[Message] = []
        at = start
        for number, (asked, answered) in enumerate(turns):
            if number == 0 and documents:
                asked = user(draw.choice(documents), *asked.texts)
            history.append(asked)
            calls.append(Call(at, system, tuple(history), tools))
            history.append(answered)
            at += gap()
        start += gap() if draw.random() < 0.7 else draw.uniform(0, 5)
    ordered = sorted(calls, key=lambda call: call.at)
    return Workload(f"random-{seed}", model, f"random traffic, seed {seed}", lambda: ordered)


def _measure(seed: int) -> WorkloadResult:
    chosen = [s for s in strategies() if s.name in ("none", "ours", *PEERS)]
    return measure_workload(shape(seed), chosen, schedule=False)


def _cost(result: WorkloadResult, name: str) -> float | None:
    outcome = result.runs.get(name)
    return outcome.total_cost if isinstance(outcome, Run) else None


def report(results: Sequence[WorkloadResult], first: int) -> str:
    """Totals as ratios to the bound, then the seeds where ours costs more than it should."""
    bound = sum(r.bound for r in results)
    names = ["none", "ours", *PEERS]
    lines = [
        f"Random traffic: seeds {first}-{first + len(results) - 1} "
        f"(python -m benchmarks.random_traffic --first {first} --seeds {len(results)}); "
        f"bound ${bound:.4f}",
        f"  {'strategy':26} {'total $':>9} {'x bound':>8}",
    ]
    for name in names:
        costs = [_cost(r, name) for r in results]
        if any(cost is None for cost in costs):
            lines.append(f"  {name:26} {'unavailable':>9}")
            continue
        total = sum(cost for cost in costs if cost is not None)
        lines.append(f"  {name:26} {total:9.4f} {total / bound:8.2f}")
    above_none, above_peer = [], []
    for result in results:
        ours, none, peer = _cost(result, "ours"), _cost(result, "none"), result.best_peer()
        if ours is None or none is None:
            continue
        if ours > none * (1 + 1e-6):
            above_none.append(f"{result.name} ({result.calls} calls) {ours / none:.3f}x")
        if peer is not None and ours > peer * PEER_MARGIN:
            above_peer.append(f"{result.name} ({result.calls} calls) {ours / peer:.3f}x")
    worst = max(results, key=lambda r: (_cost(r, "ours") or 0.0) / r.bound)
    lines += [
        f"ours within 1.10x of the bound on "
        f"{sum((_cost(r, 'ours') or 0.0) <= 1.10 * r.bound for r in results)} of {len(results)}; "
        f"worst {(_cost(worst, 'ours') or 0.0) / worst.bound:.2f}x ({worst.name}, "
        f"{worst.calls} calls)",
        f"ours above no caching on {len(above_none)}: " + (", ".join(above_none) or "none"),
        f"ours more than {PEER_MARGIN - 1:.0%} above the cheapest peer on {len(above_peer)}: "
        + (", ".join(above_peer) or "none"),
    ]
    return "\n".join(lines)


def as_json(results: Sequence[WorkloadResult], first: int) -> dict[str, Any]:
    """``results.json``'s shape (:func:`~benchmarks.report.results_json`), with the seeds."""
    return {**results_json(results, commit()), "first_seed": first, "seeds": len(results)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.random_traffic", description=__doc__
    )
    parser.add_argument("--first", type=int, default=FIRST_SEED, help="first seed")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="how many seeds")
    parser.add_argument("--jobs", type=int, default=2, help="seeds run in parallel")
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON file written")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    seeds = range(args.first, args.first + args.seeds)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(_measure, seeds))
    print(report(results, args.first))
    broken = [line for result in results for line in violations(result)]
    if not args.no_write:
        args.out.write_text(json.dumps(as_json(results, args.first), indent=2) + "\n")
    return bound_status(broken)


if __name__ == "__main__":
    sys.exit(main())
