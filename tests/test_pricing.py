"""Costs follow the model table (the worked savings example is in ``test_estimate.py``)."""

from __future__ import annotations

import pytest

from bedrock_cache import CacheUsage, cost_of, resolve_model

SONNET = resolve_model("global.anthropic.claude-sonnet-4-5-20250929-v1:0")


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
