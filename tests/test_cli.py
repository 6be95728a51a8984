"""The bedrock-cache command estimates savings before anything is built."""

from __future__ import annotations

import pytest

from bedrock_cache.cli import main


def test_estimate_reproduces_the_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "estimate",
            "--requests=200000",
            "--cached-tokens=4000",
            "--uncached-tokens=500",
            "--output-tokens=400",
            "--writes=333",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "$    3,900.00" in out
    assert "$    1,744.60  (-55%)" in out
    assert "Batch (no caching)     $    1,950.00" in out


def test_estimate_refuses_a_model_without_caching(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["estimate", "--model=meta.llama3-3-70b-instruct-v1:0", "--requests=1"]
    code = main([*args, "--cached-tokens=1", "--uncached-tokens=1", "--output-tokens=1"])
    assert code == 2
    assert "does not support prompt caching" in capsys.readouterr().err
