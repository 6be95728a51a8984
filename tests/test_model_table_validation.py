"""A model-table file with a wrong value is refused when loaded, naming file, model and field.

Invariant: types and ranges are checked for every entry (at most 4 checkpoints, TTLs from "5m"
and "1h", known rejected-position names and minimum modes, non-negative counts and prices, known
field names), so a bad table never reaches a request; the message says what to write instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock_cache import ModelSpec, ModelSpecError, ModelTable, Prices

GOOD = 'ids = ["acme.model-v1:0"]\nfamily = "claude"\nmin_tokens = 1024\n'
PRICES = "prices = { input = 1.0, output = 5.0, cache_read = 0.1, cache_write_5m = 1.25 }\n"


def load(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "my_models.toml"
    path.write_text(entry)
    ModelTable.shipped().load(path)


@pytest.mark.parametrize(
    ("line", "field", "advice"),
    [
        ("max_checkpoints = 9", "max_checkpoints", "0 to 4"),
        ('ttls = ["5m", "2h"]', "ttls", "'1h'"),
        ('ttls = ["5m", "1h"]\nttl_field = false', "ttl_field", "true"),
        ('rejected_positions = ["after_pdf"]', "rejected_positions", "after_document"),
        ('min_tokens_mode = "whole"', "min_tokens_mode", "'prefix'"),
        ("lookback_blocks = -1", "lookback_blocks", "0 or more"),
        ('max_cached_tokens = "20k"', "max_cached_tokens", "whole number"),
        ('tools_cacheable = "yes"', "tools_cacheable", "true or false"),
        ("profile_price_multiplier = 0", "profile_price_multiplier", "positive"),
        ("min_token = 2048", "min_token", "did you mean 'min_tokens'"),
    ],
)
def test_a_wrong_field_names_file_model_field_and_fix(
    tmp_path: Path, line: str, field: str, advice: str
) -> None:
    with pytest.raises(ModelSpecError) as raised:
        load(tmp_path, f"[[models]]\n{GOOD}{line}\n{PRICES}")
    message = str(raised.value)
    assert "my_models.toml" in message and "'acme.model-v1:0'" in message
    assert f"'{field}'" in message and advice in message


@pytest.mark.parametrize(
    ("prices", "says"),
    [
        ("prices = { input = -1.0, output = 5.0 }", "prices.input"),
        ('prices = { input = 1.0, output = "5" }', "prices.output"),
        ("prices = { input = 1.0 }", "output = ..."),
        ("prices = { input = 1.0, output = 2.0, cache_reed = 0.1 }", "did you mean 'cache_read'"),
        ("", "prices = { input = ..., output = ... }"),
    ],
)
def test_prices_are_checked(tmp_path: Path, prices: str, says: str) -> None:
    with pytest.raises(ModelSpecError) as raised:
        load(tmp_path, f"[[models]]\n{GOOD}{prices}\n")
    assert says in str(raised.value)


def test_unknown_family_and_missing_ids_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError, match="did you mean 'claude'"):
        load(tmp_path, f'[[models]]\nids = ["acme.x"]\nfamily = "cluade"\n{PRICES}')
    with pytest.raises(ModelSpecError, match=r"entry 1 needs ids = \["):
        load(tmp_path, f'[[models]]\nfamily = "claude"\n{PRICES}')
    with pytest.raises(ModelSpecError, match=r"\[families\.claude\].*max_checkpoint"):
        load(tmp_path, "[families.claude]\nmax_checkpoint = 2\n")


def test_unreadable_files_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError, match="no such model-table file"):
        ModelTable.shipped().load(tmp_path / "missing.toml")
    with pytest.raises(ModelSpecError, match="not valid TOML"):
        load(tmp_path, "[[models]\n")


def test_a_valid_file_loads_and_the_table_is_untouched_by_a_bad_one(tmp_path: Path) -> None:
    table = ModelTable.shipped()
    before = len(table.models())
    bad = tmp_path / "bad.toml"
    bad.write_text(f"[[models]]\n{GOOD}{PRICES}[[models]]\n{GOOD}max_checkpoints = 5\n{PRICES}")
    with pytest.raises(ModelSpecError, match="max_checkpoints"):
        table.load(bad)
    assert len(table.models()) == before, "nothing of a rejected file is applied"
    good = tmp_path / "good.toml"
    good.write_text(f"[[models]]\n{GOOD}{PRICES}")
    table.load(good)
    assert table.resolve("us.acme.model-v1:0").spec.min_tokens == 1024


def test_specs_built_in_code_are_checked_too() -> None:
    with pytest.raises(ModelSpecError, match="'max_checkpoints' is 5"):
        ModelSpec(
            model_id="acme.x",
            family="claude",
            supports_caching=True,
            min_tokens=1024,
            min_tokens_mode="segment",
            max_checkpoints=5,
            ttls=("5m",),
            tools_cacheable=True,
            lookback_blocks=20,
            max_cached_tokens=0,
            rejected_positions=frozenset(),
            prices=Prices(input=1.0, output=2.0),
        )
    with pytest.raises(ModelSpecError, match="did you mean 'min_tokens'"):
        ModelTable.shipped().override("anthropic.claude-sonnet-4-6", min_token=10)
