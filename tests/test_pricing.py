"""Costs follow the model table, and the worked savings example is reproduced exactly."""

from __future__ import annotations

import pytest

from bedrock_cache import CacheUsage, Workload, cost_of, estimate, resolve_model

SONNET = resolve_model("global.anthropic.claude-sonnet-4-5-20250929-v1:0")


def test_worked_example_support_assistant() -> None:
    """200,000 requests: 4,000 cached + 500 uncached tokens in, 400 out, on a $3/$15 model."""
    workload = Workload(
        requests=200_000,
        cached_prefix_tokens=4_000,
        uncached_tokens=500,
        output_tokens=400,
        cache_writes=333,
    )
    cost = estimate(workload, SONNET)
    assert cost.without_cache == pytest.approx(3_900, abs=1)
    assert cost.total == pytest.approx(1_745, abs=1)
    assert cost.cache_write == pytest.approx(5, abs=0.1)
    assert cost.saved / cost.without_cache == pytest.approx(0.55, abs=0.01)
    input_with = cost.uncached_input + cost.cache_read + cost.cache_write
    assert 1 - input_with / 2_700 == pytest.approx(0.80, abs=0.01)


def test_one_off_write_costs_more_than_no_caching() -> None:
    cost = cost_of(CacheUsage(cache_write_5m=10_000, output=100), SONNET)
    assert cost.saved < 0


def test_one_hour_writes_cost_twice_the_input_price() -> None:
    cost = cost_of(CacheUsage(cache_write_1h=1_000_000), SONNET)
    assert cost.cache_write == pytest.approx(6.00)


def test_regional_profile_multiplier_applies() -> None:
    regional = resolve_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    usage = CacheUsage(uncached_input=1_000_000)
    assert cost_of(usage, regional).total == pytest.approx(3.30)
