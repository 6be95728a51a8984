"""`make bench` measures what a user relies on, on two small workloads.

Invariants: every strategy's cost -- the feasible clairvoyant schedule's too -- is at least the
lower bound of the requests it sent; our planner's and the schedule's requests are never
rejected; the uncached run reads and writes nothing; ``results.json`` has the documented shape.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# benchmarks/ is a repository folder, not an installed package: plain `pytest` (unlike
# `python -m pytest`) does not put the repository root on sys.path.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.__main__ import measure, violations  # noqa: E402
from benchmarks.random_traffic import main as random_traffic  # noqa: E402
from benchmarks.random_traffic import shape  # noqa: E402
from benchmarks.report import results_json  # noqa: E402
from benchmarks.runner import Run  # noqa: E402
from benchmarks.strategies import strategies  # noqa: E402

CHOSEN = [s for s in strategies() if s.name in ("none", "ours", "langchain-aws")]


def test_two_workloads_through_langchain_respect_the_bound() -> None:
    results = [measure(name, CHOSEN) for name in ("doc-qa", "timestamp-system")]

    for result in results:
        assert violations(result) == []
        runs = {name: run for name, run in result.runs.items() if isinstance(run, Run)}
        assert set(runs) == {"none", "ours", "langchain-aws", "clairvoyant"}
        assert runs["ours"].rejected == runs["clairvoyant"].rejected == 0
        assert runs["none"].usage.cache_read == runs["none"].usage.cache_write == 0
        assert all(len(run.sent) == result.calls for run in runs.values())
        # The bound is below the uncached cost: both workloads have prefixes worth caching.
        assert result.bound < runs["none"].total_cost

    written = results_json(results, "abc123")
    assert written["commit"] == "abc123"
    entry = written["workloads"]["doc-qa"]
    assert set(entry) == {"model", "calls", "bound", "strategies"}
    assert set(entry["strategies"]["ours"]) == {"input_cost", "total_cost", "hit_rate", "rejected"}


def test_random_traffic_is_the_same_for_a_seed_and_priced_against_the_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A seed draws the same calls on any machine, so a result can be reproduced; every
    strategy, ours included, is priced against the bound of its requests on it."""
    assert shape(8).calls() == shape(8).calls()
    assert shape(8).calls() != shape(10).calls()

    out = tmp_path / "random_traffic.json"
    assert random_traffic(["--first", "8", "--seeds", "3", "--jobs", "1", "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "Random traffic: seeds 8-10" in printed and "ours above no caching on" in printed
    written = json.loads(out.read_text())
    assert written["seeds"] == 3
    assert set(written["workloads"]) == {"random-8", "random-9", "random-10"}
    for entry in written["workloads"].values():
        costs = entry["strategies"]
        assert {"none", "ours", "langchain-aws"} <= set(costs)
        assert costs["ours"]["total_cost"] >= entry["bound"]
        assert costs["none"]["total_cost"] >= entry["bound"]
