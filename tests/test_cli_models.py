"""Invariant: ``bedrock-cache models`` lists exactly the models the table resolves, with the
caching rules and prices the planner and pricing use, as a table with units or as JSON."""

from __future__ import annotations

import json

import pytest

from bedrock_cache import default_table
from bedrock_cache.cli import main


def test_json_lists_every_model_with_its_rules_and_prices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "--json"]) == 0
    listed = {entry["id"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert set(listed) == {spec.model_id for spec in default_table().models()}
    haiku = next(s for s in default_table().models() if "haiku-4-5" in s.model_id)
    entry = listed[haiku.model_id]
    assert entry["min_tokens"] == haiku.min_tokens and entry["ttls"] == list(haiku.ttls)
    assert entry["prices_usd_per_million_tokens"]["cache_read"] == haiku.prices.cache_read
    assert entry["caching"] and entry["tools_cacheable"] == haiku.tools_cacheable


def test_table_names_units_and_marks_models_without_caching(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "USD per 1M tokens" in out and "min tokens" in out.splitlines()[0]
    llama = next(line for line in out.splitlines() if line.startswith("meta.llama3"))
    assert llama.split()[2] == "no"


def test_bad_arguments_exit_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["models", "--jsn"])
    assert exited.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
