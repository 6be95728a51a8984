"""The replay harness measures what a user relies on, on one small workload.

Invariants: our planner's requests are never rejected, no strategy beats the lower bound, and
the uncached baseline reads nothing from cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("langchain_aws")
# benchmarks/ and integrations/ are repository folders, not installed packages: plain `pytest`
# (unlike `python -m pytest`) does not put the repository root on sys.path.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.replay import (  # noqa: E402
    LOWER,
    NONE,
    OURS,
    OURS_SKIP,
    STRATEGIES,
    run_workload,
    workload,
)


def test_doc_qa_replay_respects_the_lower_bound() -> None:
    result = run_workload(workload("doc-qa"))

    assert set(result.results) == {*STRATEGIES, LOWER}
    for ours in (OURS, OURS_SKIP):
        assert result.results[ours].rejected == 0, f"{ours} sent a request Bedrock rejects"
    lower = result.cost(LOWER)
    for strategy in STRATEGIES:
        assert lower <= result.cost(strategy) + 1e-12, f"{strategy} beat the lower bound"
    assert result.results[NONE].usage.cache_read == 0
    assert result.results[NONE].usage.cache_write == 0
