"""The reuse store keeps fingerprints and times only, stays bounded, and round-trips through plain
data (so a store shared by a fleet can serialize it).

Invariant: ``Observation`` holds primitives; ``InProcessStore`` forgets the least recently recorded
prefix first; liveness follows the TTL table.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from bedrock_cache import BedrockCache, InProcessStore, Observation, ReuseStore


def test_observations_round_trip_as_plain_json() -> None:
    seen = Observation.first(100.0, group="g").seen_again(160.0).seen_again(2000.0)
    seen = seen.with_entry(2000.0, "1h")
    data = json.loads(json.dumps(dataclasses.asdict(seen)))
    assert Observation.from_json(data) == seen
    group = dataclasses.replace(seen, waiting=(100.0, 160.5))
    assert Observation.from_json(json.loads(json.dumps(dataclasses.asdict(group)))) == group
    assert (seen.seen, seen.recurred_5m, seen.recurred_1h) == (3, 1, 1)


def test_an_entry_is_alive_for_its_ttl_after_the_last_touch() -> None:
    written = Observation.first(0.0).with_entry(0.0, "5m")
    assert written.entry_alive(299.0) and not written.entry_alive(300.0)
    long_lived = written.with_entry(0.0, "1h")
    assert long_lived.entry_alive(3599.0) and not long_lived.entry_alive(3600.0)
    assert not Observation.first(0.0).entry_alive(1.0)


def test_in_process_store_is_bounded_and_answers_in_one_lookup() -> None:
    store = InProcessStore(max_entries=2)
    store.record(0.0, {"a": Observation.first(0.0), "b": Observation.first(0.0)})
    store.lookup(["a"])  # a lookup does not count as recording
    store.record(1.0, {"c": Observation.first(1.0)})
    assert set(store.lookup(["a", "b", "c", "d"])) == {"b", "c"}
    assert len(store) == 2


def test_bedrock_cache_takes_any_store_and_rejects_what_is_not_one() -> None:
    store = InProcessStore()
    assert isinstance(store, ReuseStore)
    assert BedrockCache(store=store).store is store
    with pytest.raises(TypeError, match="lookup"):
        BedrockCache(store=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_entries"):
        InProcessStore(max_entries=0)
