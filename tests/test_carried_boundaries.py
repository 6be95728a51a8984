"""Carrying boundaries over from earlier requests changes no plan, however conversations mix.

Invariant: a cache that takes the boundaries ahead of each request's last message from an
earlier request with the same blocks there plans every call exactly as one that reads every
request afresh -- with two conversations interleaved on one cache, a new turn, the last question
replaced, an answer prefilled, an earlier message edited in place, a system prompt changed, and a
switch of model.
"""

from __future__ import annotations

from typing import Any

from bedrock_cache import BedrockCache, CachePolicy
from bedrock_cache._boundaries import Boundary, boundaries, lookup_keys
from bedrock_cache._boundary_memo import BoundaryMemo
from bedrock_cache._layout import Layout
from bedrock_cache._models import ModelSpec
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
POLICY = "You are a support assistant. Answer from the order records only. " * 120


def turn(n: int, who: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": [{"text": f"{who} question {n}: " + "details " * 300}]},
        {"role": "assistant", "content": [{"text": f"{who} answer {n}."}]},
    ]


def traffic() -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(model, system, messages) of each call, two conversations interleaved."""
    alice: list[dict[str, Any]] = []
    bob: list[dict[str, Any]] = []
    calls: list[tuple[str, str, list[dict[str, Any]]]] = []
    system = POLICY
    for n in range(6):
        for who, history in (("alice", alice), ("bob", bob)):
            question = {"role": "user", "content": [{"text": f"{who} asks {n}?"}]}
            model = HAIKU if who == "bob" and n == 4 else SONNET
            calls.append((model, system, [*history, question]))
            if n == 2 and who == "alice":  # the last question replaced
                calls.append(
                    (model, system, [*history, {"role": "user", "content": [{"text": "?"}]}])
                )
            if n in (1, 2) and who == "bob":  # the answer prefilled (the question closes)
                prefill = {"role": "assistant", "content": [{"text": "{"}]}
                calls.append((model, system, [*history, question, prefill]))
            history += turn(n, who)
        if n == 3:
            alice[0]["content"][0]["text"] += " (edited)"  # in place, in an earlier message
        if n == 4:
            system = POLICY + " Be brief."
    return calls


class Afresh(BoundaryMemo):
    """Keeps nothing: every request's boundaries read anew."""

    def boundaries(
        self, layout: Layout, spec: ModelSpec, policy: CachePolicy
    ) -> tuple[list[Boundary], list[str]]:
        found = boundaries(layout, spec, policy)
        return found, lookup_keys(found)


def test_plans_with_carried_boundaries_equal_plans_read_afresh() -> None:
    with BedrockEmulator(clock=ManualClock()) as emulator:
        carried = BedrockCache(clock=emulator.clock.now)
        afresh = BedrockCache(clock=emulator.clock.now)
        afresh._boundaries = Afresh()
        clients = [cache.instrument(emulator.client()) for cache in (carried, afresh)]
        calls = traffic()
        for model, system, messages in calls:
            emulator.clock.advance(20)
            plans = [
                client.converse(modelId=model, system=[{"text": system}], messages=messages)[
                    "bedrockCache"
                ]["plan"]
                for client in clients
            ]
            assert plans[0] == plans[1]
        assert carried.stats.total().requests == afresh.stats.total().requests == len(calls)
