"""A fleet shares what it learns of its traffic on a real Redis, without ever failing a call.

Invariants: workers that name the same Redis see each other's observations; Redis holds
fingerprints and times only (never prompt text), in expiring, namespaced keys; with Redis killed
or stalled every call still succeeds, one line is logged, and sharing resumes by itself when it
is back.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_server import RedisServer

from bedrock_cache import BedrockCache, CircuitBreaker, InProcessStore, Observation, RedisStore
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "anthropic.claude-sonnet-4-6"
SECRET = "Zanzibar-Quokka-7731"
SYSTEM = f"You are the support assistant of {SECRET} Corp. Answer briefly and politely. " * 80

Emulator = BedrockEmulator[ManualClock]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


def ask(client: Any, question: str) -> dict[str, Any]:
    response: dict[str, Any] = client.converse(
        modelId=SONNET,
        system=[{"text": SYSTEM}],
        messages=[{"role": "user", "content": [{"text": question}]}],
    )
    return response


def quick_breaker() -> CircuitBreaker:
    return CircuitBreaker("Redis store", failures=1, cooldown=0.2, max_cooldown=0.2)


def test_stores_naming_one_redis_share_observations(redis_server: RedisServer) -> None:
    first, second = RedisStore(redis_server.url), RedisStore(redis_server.url)
    observation = Observation.first(100.0).seen_again(160.0)
    first.record(160.0, {"f" * 32: observation})
    assert first.flush()
    assert second.lookup(["f" * 32, "unknown"]) == {"f" * 32: observation}
    other_tenant = RedisStore(redis_server.url + "?namespace=tenant-b")
    assert other_tenant.namespace == "tenant-b"
    assert other_tenant.lookup(["f" * 32]) == {}


def test_redis_holds_no_prompt_text_and_every_key_expires(
    redis_server: RedisServer, bedrock_emulator: Emulator
) -> None:
    cache = BedrockCache(store=redis_server.url)
    client = cache.instrument(bedrock_emulator.client())
    for number in range(3):
        ask(client, f"{SECRET}: where is order {number}?")
    assert isinstance(cache.store, RedisStore) and cache.store.flush()
    raw = redis_server.client()
    keys = list(raw.scan_iter("*"))
    assert keys, "observations were written"
    for key in keys:
        assert key.startswith(b"bedrock_cache:default:obs:")
        value = raw.get(key)
        assert value is not None and SECRET.encode() not in value and b"order" not in value
        assert 0 < raw.ttl(key) <= 2 * 3600, "keys expire"


def test_calls_survive_redis_dying_and_sharing_resumes(
    redis_server: RedisServer, bedrock_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(redis_server.url, breaker=quick_breaker())
    cache = BedrockCache(store=store)
    client = cache.instrument(bedrock_emulator.client())
    ask(client, "Before the outage")
    assert store.flush()
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        for number in range(20):
            assert ask(client, f"During the outage {number}")["output"]["message"]
    outage_lines = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(outage_lines) == 1, "one line, not one per call"
    assert SECRET not in caplog.text
    assert store.breaker.is_open and store.breaker.skipped > 0
    assert cache.stats.total().requests == 21

    redis_server.start()
    time.sleep(0.25)  # the breaker's cool-down
    ask(client, "After the outage")
    assert store.flush()
    assert not store.breaker.is_open
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    assert list(redis_server.client().scan_iter("*")), "writes resumed without a restart"


def test_a_stalled_redis_never_holds_a_call(
    redis_server: RedisServer, bedrock_emulator: Emulator
) -> None:
    store = RedisStore(redis_server.url, budget_ms=20, breaker=quick_breaker())
    client = BedrockCache(store=store).instrument(bedrock_emulator.client())
    redis_server.pause()
    try:
        for number in range(5):
            assert ask(client, f"Stalled {number}")["usage"]["outputTokens"] > 0
        assert store.breaker.is_open
    finally:
        redis_server.resume()


WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import boto3
    from bedrock_cache import BedrockCache
    endpoint, url, stop, name, model, system = sys.argv[1:7]
    client = boto3.client(
        "bedrock-runtime", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    cache = BedrockCache(store=url)
    cache.instrument(client)
    calls = ok = 0
    while not os.path.exists(stop):
        reply = client.converse(
            modelId=model,
            system=[{"text": system}],
            messages=[{"role": "user", "content": [{"text": f"{name} asks {calls}"}]}],
        )
        calls += 1
        ok += bool(reply["output"]["message"])
        with open(f"{stop}.{name}", "w") as progress:
            progress.write(str(calls))
        time.sleep(0.05)
    cache.store.flush()
    print(json.dumps({"calls": calls, "ok": ok}))
    """
)


def most_seen(server: RedisServer) -> int:
    """The highest sighting count in Redis (the prefix every worker sends)."""
    raw = server.client()
    values = [raw.get(key) for key in raw.scan_iter("*")]
    return max((json.loads(value)["seen"] for value in values if value), default=0)


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_worker_processes_share_one_redis_through_an_outage(
    redis_server: RedisServer, bedrock_emulator: Emulator, tmp_path: Path
) -> None:
    script, stop = tmp_path / "worker.py", tmp_path / "stop"
    script.write_text(WORKER)
    url = redis_server.url + "?budget_ms=200"  # a loaded test machine, not a latency target
    command = [sys.executable, str(script), bedrock_emulator.endpoint_url, url, str(stop)]
    workers = [
        subprocess.Popen(
            [*command, f"worker-{n}", SONNET, SYSTEM],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    try:
        wait_until(lambda: most_seen(redis_server) >= 12)  # the workers count together
        redis_server.kill()
        time.sleep(1.0)
        redis_server.start()
        wait_until(lambda: most_seen(redis_server) > 0)  # writes resume after the cool-down
        resumed, before = most_seen(redis_server), calls_made(stop)

        def counted_together() -> bool:
            # three workers counting one prefix: it grows faster than any one worker's calls
            grown = most_seen(redis_server) - resumed
            return grown >= 9 and grown > 1.5 * max(calls_made(stop)[n] - before[n] for n in before)

        wait_until(counted_together)
    finally:
        stop.touch()
        results = [json.loads(worker.communicate(timeout=120)[0]) for worker in workers]
    assert all(result["ok"] == result["calls"] for result in results), "no call failed"


def calls_made(stop: Path) -> dict[str, int]:
    """Each worker's calls so far, from the progress file it rewrites after every call."""
    found = {}
    for path in stop.parent.glob(f"{stop.name}.worker-*"):
        text = path.read_text()
        found[path.name] = int(text) if text else 0
    return found


def test_store_configuration_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="redis://"):
        RedisStore("http://localhost:6379")
    with pytest.raises(ValueError, match="namespace"):
        RedisStore("redis://localhost:6379/0", namespace="a b")
    with pytest.raises(ValueError, match="budget_ms"):
        RedisStore("redis://localhost:6379/0", budget_ms=0)
    with pytest.raises(TypeError, match="store"):
        BedrockCache(store=42)  # type: ignore[arg-type]
    import redis.asyncio

    with pytest.raises(TypeError, match="synchronous"):
        RedisStore(redis.asyncio.Redis())
    monkeypatch.setenv("BEDROCK_CACHE_STORE", "redis://127.0.0.1:1/0?namespace=from-env")
    from_env = BedrockCache().store
    assert isinstance(from_env, RedisStore) and from_env.namespace == "from-env"
    monkeypatch.delenv("BEDROCK_CACHE_STORE")
    assert isinstance(BedrockCache().store, InProcessStore)
