"""Invariant: the three LangChain apps run end to end on the emulator, with and without caching,
and caching makes each of them cheaper; ``main()`` prints the side-by-side table."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.langchain import agent, doc_qa, support_bot

Emulator = BedrockEmulator[ManualClock]


@pytest.mark.parametrize("app", [support_bot, doc_qa])
def test_app_is_cheaper_with_caching(app: Any, bedrock_emulator: Emulator) -> None:
    kwargs = bedrock_emulator.connection_kwargs
    cached = app.run(kwargs, caching=True)
    bedrock_emulator.reset()
    uncached = app.run(kwargs, caching=False)
    assert cached.total is not None and uncached.total is not None
    assert len(cached.reports) == len(uncached.reports) > 0
    assert cached.total.cost < uncached.total.cost
    assert cached.total.token_hit_rate > 0.75


@pytest.mark.parametrize("app", [support_bot, doc_qa, agent])
def test_main_prints_side_by_side(
    app: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", [app.__name__])
    app.main()
    out = capsys.readouterr().out
    assert "with caching" in out and "without caching" in out and "saved $" in out
