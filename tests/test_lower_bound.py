"""The benchmark's clairvoyant lower bound is a true lower bound under Bedrock's rules.

Invariant: on random small traces, no checkpoint placement -- every subset of positions with
every TTL, for every request, replayed on the emulator's own cache engine -- costs less than
``lower_bound``; and where the optimum is obvious, the bound reaches it.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_cache import (
    CacheUsage,
    CheckpointRuleError,
    Layout,
    ResolvedModel,
    cost_of,
    resolve_model,
    with_checkpoints,
)
from bedrock_cache.emulator import ManualClock, PromptCache

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.bound import Request, lower_bound  # noqa: E402

SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"  # 1,024 minimum, 5m and 1h
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"  # 5m only
NOVA = "amazon.nova-pro-v1:0"  # exact position, no lookback
#: Blocks of the traces: a few sizes around the 1,024-token minimum.
TEXTS = {
    name: f"{name} " + name * (tokens * 4 - len(name) - 1)
    for name, tokens in (("A", 1100), ("B", 600), ("C", 1300), ("D", 200), ("E", 900))
}
GAPS = (0.0, 120.0, 299.0, 300.0, 900.0, 3599.0, 3600.0)


def converse(
    system: str, blocks: Sequence[str], model: str, tool: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "modelId": model,
        "system": [{"text": TEXTS[system]}],
        "messages": [{"role": "user", "content": [{"text": TEXTS[b]} for b in blocks]}],
    }
    if tool is not None:
        spec = {"name": "lookup", "description": TEXTS[tool], "inputSchema": {"json": {}}}
        request["toolConfig"] = {"tools": [{"toolSpec": spec}]}
    return request


def placements(layout: Layout, ttls: Sequence[str]) -> list[list[tuple[int, Any]]]:
    """Every set of checkpoints (after any block, any TTL, at most 4)."""
    positions = range(len(layout.blocks))
    result: list[list[tuple[int, Any]]] = []
    for size in range(min(4, len(layout.blocks)) + 1):
        for chosen in itertools.combinations(positions, size):
            for picked in itertools.product(ttls, repeat=size):
                result.append(
                    [(p, None if t == "5m" else t) for p, t in zip(chosen, picked, strict=True)]
                )
    return result


def brute_force(
    trace: Sequence[tuple[float, dict[str, Any]]], model: ResolvedModel | None = None
) -> float:
    """The cheapest total over every combination of placements, on the emulator's cache."""
    model = model or resolve_model(trace[0][1]["modelId"])
    options = []
    for _, request in trace:
        layout = Layout.of(request)
        options.append(
            [
                Layout.of(with_checkpoints(request, layout, points))
                for points in placements(layout, model.spec.ttls)
            ]
        )
    best = float("inf")
    for combination in itertools.product(*options):
        clock = ManualClock()
        cache = PromptCache(clock)
        total = 0.0
        for (at, _), layout in zip(trace, combination, strict=True):
            clock.advance(at - clock.now())
            try:
                outcome = cache.process(layout, model.spec)
            except CheckpointRuleError:
                break  # Bedrock rejects it: not a placement any strategy can keep
            by_ttl = dict(outcome.write_by_ttl)
            usage = CacheUsage(
                cache_read=outcome.cache_read,
                cache_write_5m=by_ttl.get("5m", 0),
                cache_write_1h=by_ttl.get("1h", 0),
                uncached_input=outcome.uncached_input,
            )
            total += cost_of(usage, model).total
        else:
            best = min(best, total)
    return best


def bound_of(
    trace: Sequence[tuple[float, dict[str, Any]]], model: ResolvedModel | None = None
) -> float:
    return lower_bound(
        [Request(at, Layout.of(r), model or resolve_model(r["modelId"])) for at, r in trace]
    )


@st.composite
def traces(
    draw: st.DrawFn, model: str, requests: int, blocks: int, tools: bool = False
) -> list[tuple[float, Any]]:
    count = draw(st.integers(2, requests))
    now = 0.0
    trace = []
    for _ in range(count):
        now += draw(st.sampled_from(GAPS))
        system = draw(st.sampled_from("AB"))
        content = draw(st.lists(st.sampled_from("ACDE"), min_size=1, max_size=blocks))
        tool = draw(st.sampled_from("BC")) if tools else None
        trace.append((now, converse(system, content, model, tool)))
    return trace


@settings(max_examples=25, deadline=None)
@given(traces(SONNET_45, requests=3, blocks=1))
def test_no_placement_beats_the_bound_with_both_ttls(trace: list[tuple[float, Any]]) -> None:
    assert bound_of(trace) <= brute_force(trace) + 1e-12


@settings(max_examples=25, deadline=None)
@given(traces(SONNET_4, requests=3, blocks=2))
def test_no_placement_beats_the_bound_with_five_minutes_only(trace: list[Any]) -> None:
    assert bound_of(trace) <= brute_force(trace) + 1e-12


@settings(max_examples=25, deadline=None)
@given(traces(NOVA, requests=3, blocks=2))
def test_no_placement_beats_the_bound_on_nova(trace: list[tuple[float, Any]]) -> None:
    assert bound_of(trace) <= brute_force(trace) + 1e-12


@settings(max_examples=15, deadline=None)
@given(st.sampled_from([SONNET_4, NOVA]).flatmap(lambda m: traces(m, 3, 1, tools=True)))
def test_no_placement_beats_the_bound_with_tools(trace: list[tuple[float, Any]]) -> None:
    """Tool checkpoints where the model accepts them (not on Nova)."""
    assert bound_of(trace) <= brute_force(trace) + 1e-12


def test_the_bound_is_reached_where_the_optimum_is_plain() -> None:
    """Repeats within five minutes: write once at 5m, read after; gaps of 20 minutes on a
    1h model: write once at 1h, read after; a prompt seen once: no caching at all; a prompt
    read a minute later and again twenty minutes after that, each time with a new question:
    written for the hour at once (a read keeps a 5m entry's TTL, and no entry ending deeper
    can serve a question never seen before); a system prompt under the minimum asked with two
    different questions: nothing, as no entry can end at the prompt itself and the second
    question's path holds none deeper."""
    dense = [(60.0 * n, converse("A", ["C"], SONNET_45)) for n in range(3)]
    sparse = [(1200.0 * n, converse("A", ["C"], SONNET_45)) for n in range(3)]
    once = [(0.0, converse("A", ["C"], SONNET_45)), (10.0, converse("B", ["E"], SONNET_45))]
    questions = [
        (at, converse("A", [q], SONNET_45)) for at, q in ((0, "C"), (60, "D"), (1260, "E"))
    ]
    under_minimum = [
        (0.0, converse("B", ["C"], SONNET_45)),
        (60.0, converse("B", ["E"], SONNET_45)),
    ]
    for trace in (dense, sparse, once, questions, under_minimum):
        assert abs(bound_of(trace) - brute_force(trace)) < 1e-12


def test_on_nova_a_turn_under_the_minimum_is_not_written_after_reading_the_last_entry() -> None:
    """Nova finds an entry only at a checkpoint's own position and counts its minimum per
    segment: a request that reads its last entry (a checkpoint there) cannot write a 200-token
    turn after it. The bound knows (the pairing rule) and reaches the optimum, which no longer
    pays as if each small turn were written and read."""
    trace = [
        (0.0, converse("A", ["C"], NOVA)),
        (60.0, converse("A", ["C", "D"], NOVA)),
        (120.0, converse("A", ["C", "D", "D"], NOVA)),
    ]
    assert abs(bound_of(trace) - brute_force(trace)) < 1e-12


def test_a_turn_past_the_lookback_is_not_written_after_reading_the_last_entry() -> None:
    """The same on a model that looks one block back (Claude looks twenty): a turn of two small
    blocks after the last entry can be written only by a checkpoint that also finds that entry,
    which is two blocks back, or one a whole minimum past it. Wide turns, in miniature."""
    sonnet = resolve_model(SONNET_4)
    near = ResolvedModel(sonnet.requested_id, dataclasses.replace(sonnet.spec, lookback_blocks=1))
    trace = [
        (0.0, converse("A", ["C", "D"], SONNET_4)),
        (60.0, converse("A", ["C", "D", "D", "D"], SONNET_4)),
        (120.0, converse("A", ["C", "D", "D", "D"], SONNET_4)),
    ]
    assert abs(bound_of(trace, near) - brute_force(trace, near)) < 1e-12


def test_a_prompt_under_the_minimum_is_read_only_where_its_own_conversation_cached_it() -> None:
    """Two conversations on a 600-token prompt (under the minimum, so no entry ends at it): each
    second turn can read the prompt only through an entry its own conversation wrote, which
    wrote the prompt too; the other conversation's entry is on another path. The bound knows
    (the cover rule) and reaches the optimum."""
    trace = [
        (0.0, converse("B", ["C"], SONNET_4)),
        (10.0, converse("B", ["E"], SONNET_4)),
        (20.0, converse("B", ["C", "D"], SONNET_4)),
        (30.0, converse("B", ["E", "D"], SONNET_4)),
    ]
    assert abs(bound_of(trace) - brute_force(trace)) < 1e-12
