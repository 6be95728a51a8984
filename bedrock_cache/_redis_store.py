"""Reuse observations shared by a fleet on Redis (or Valkey), never slowing or failing a call.

Every worker of a deployment sees only its share of the traffic; Bedrock's cache is shared by all
of them. Sharing the planner's observations (fingerprints and times, never text) lets each worker
decide as if it saw the whole traffic.

On the call path there is one round trip at most: an ``MGET`` of the request's fingerprints,
bounded by a time budget (socket timeouts of 80% of it, no retries). Writes go to Redis from a
background thread. Each worker keeps its own bounded in-process copy, used alone while Redis is
slow or down; a circuit breaker then skips Redis entirely until a trial call succeeds again.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._breaker import CircuitBreaker
from ._models import TTL_SECONDS
from ._store import InProcessStore, Observation, ReuseStore

logger = logging.getLogger("bedrock_cache")

#: Keys outlive the longest TTL twice: a prefix that recurs within the hour is still known then.
DEFAULT_EXPIRE_SECONDS = int(2 * max(TTL_SECONDS.values()))
_URL_SCHEMES = ("redis", "rediss", "unix", "valkey", "valkeys")
_OPTIONS = ("namespace", "budget_ms")
#: The socket timeout's share of the budget: the rest is for the client's own work, so a lookup
#: that times out still returns within the budget.
SOCKET_SHARE = 0.8


class RedisStore:
    """A :class:`~bedrock_cache.ReuseStore` on Redis, shared by every process that names it.

    Args:
        redis: a ``redis://`` / ``rediss://`` / ``unix://`` URL (``?namespace=…&budget_ms=…``
            in its query set those arguments, handy in ``BEDROCK_CACHE_STORE``), or a
            ``redis.Redis`` client (its own timeouts then apply: give it a
            ``socket_timeout`` no longer than the budget).
        namespace: keeps apps or tenants apart: keys are ``bedrock_cache:{namespace}:…``.
        budget_ms: the longest a lookup may add to a call; past it the call plans on this
            process's own observations.
        expire_seconds: how long an observation lives in Redis after its last update.
        breaker: when to stop trying Redis and when to try again.
        max_pending: observations waiting to be written; beyond it new ones stay local only.
    """

    def __init__(
        self,
        redis: Any,
        *,
        namespace: str = "default",
        budget_ms: float = 5.0,
        expire_seconds: int = DEFAULT_EXPIRE_SECONDS,
        breaker: CircuitBreaker | None = None,
        max_pending: int = 10_000,
    ) -> None:
        budget_ms = _positive(budget_ms, "budget_ms")
        if not isinstance(expire_seconds, int) or expire_seconds < 1:
            raise ValueError(f"expire_seconds must be a positive int: {expire_seconds!r}")
        if not isinstance(max_pending, int) or max_pending < 1:
            raise ValueError(f"max_pending must be a positive int: {max_pending!r}")
        if isinstance(redis, str):
            redis, options = _split_options(redis)
            namespace = options.get("namespace", namespace)
            budget_ms = _positive(options.get("budget_ms", budget_ms), "budget_ms")
            redis = _client_from_url(redis, SOCKET_SHARE * budget_ms / 1000.0)
        elif _is_async_client(redis):
            raise TypeError(
                "RedisStore needs a synchronous client: planning runs inside botocore's "
                "synchronous call path (async frameworks call boto3 from worker threads). "
                "Pass the URL instead, e.g. RedisStore('redis://localhost:6379/0')."
            )
        elif not callable(getattr(redis, "mget", None)):
            raise TypeError(f"redis must be a redis:// URL or a redis.Redis client, not {redis!r}")
        if not namespace or not isinstance(namespace, str) or any(c in namespace for c in " :{}"):
            raise ValueError(f"namespace must be a non-empty word without ' :{{}}': {namespace!r}")
        self.client = redis
        self.namespace = namespace
        self.breaker = breaker or CircuitBreaker("Redis store")
        self._prefix = f"bedrock_cache:{namespace}:obs:"
        self._expire = expire_seconds
        self._local = InProcessStore()
        self._max_pending = max_pending
        self._pid = -1
        self._pending: queue.Queue[dict[str, Observation]] = queue.Queue()
        self.dropped = 0
        """Observations not written to Redis (queue full or Redis unavailable)."""

    def key(self, fingerprint: str) -> str:
        """The Redis key of one prefix fingerprint."""
        return self._prefix + fingerprint

    def lookup(self, fingerprints: Sequence[str]) -> dict[str, Observation]:
        """Observations from Redis within the budget, else this process's own."""
        local = self._local.lookup(fingerprints)
        if not fingerprints or not self.breaker.allow():
            return local
        try:
            values = self.client.mget([self.key(fp) for fp in fingerprints])
        except Exception as error:  # any failure of the service: plan on local knowledge
            self.breaker.failed(error)
            return local
        self.breaker.succeeded()
        merged = dict(local)
        for fingerprint, value in zip(fingerprints, values, strict=True):
            remote = _decode(value)
            if remote is not None and _newer(remote, merged.get(fingerprint)):
                merged[fingerprint] = remote
        return merged

    def record(self, now: float, observations: Mapping[str, Observation]) -> None:
        """Keep the observations here at once and hand them to the writer thread."""
        self._local.record(now, observations)
        if not observations:
            return
        self._ensure_writer()
        if self._pending.qsize() >= self._max_pending:
            self.dropped += len(observations)
            return
        self._pending.put(dict(observations))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every handed-over observation was written (or dropped); ``True`` if so."""
        waiter = threading.Thread(target=self._pending.join, daemon=True)
        waiter.start()
        waiter.join(timeout)
        return not waiter.is_alive()

    def _ensure_writer(self) -> None:
        """Start the writer thread, again in a forked child (threads do not survive a fork)."""
        pid = os.getpid()
        if self._pid == pid:
            return
        with _START_LOCK:
            if self._pid == pid:
                return
            self._pending = queue.Queue()
            thread = threading.Thread(
                target=self._write_forever, name="bedrock-cache-redis", daemon=True
            )
            thread.start()
            self._pid = pid

    def _write_forever(self) -> None:
        pending = self._pending
        while True:
            batch = [pending.get()]
            while True:
                try:
                    batch.append(pending.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            finally:
                for _ in batch:
                    pending.task_done()

    def _write(self, batch: list[dict[str, Observation]]) -> None:
        merged: dict[str, Observation] = {}
        for observations in batch:
            merged.update(observations)
        if not self.breaker.allow():
            self.dropped += len(merged)
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for fingerprint, observation in merged.items():
                pipe.set(self.key(fingerprint), _encode(observation), ex=self._expire)
            pipe.execute()
        except Exception as error:
            self.dropped += len(merged)
            self.breaker.failed(error)
            return
        self.breaker.succeeded()


_START_LOCK = threading.Lock()


def _positive(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if not number > 0:
        raise ValueError(f"{name} must be a positive number of milliseconds, not {value!r}")
    return number


def _split_options(url: str) -> tuple[str, dict[str, str]]:
    """The URL without our own query options, and those options."""
    parts = urlsplit(url)
    if parts.scheme not in _URL_SCHEMES:
        raise ValueError(
            f"not a Redis URL: {url!r}; write redis://host:6379/0 (rediss:// for TLS, "
            "unix:///path.sock)"
        )
    query = parse_qs(parts.query)
    options = {name: query.pop(name)[-1] for name in _OPTIONS if name in query}
    rest = "&".join(f"{name}={value}" for name, values in query.items() for value in values)
    scheme = {"valkey": "redis", "valkeys": "rediss"}.get(parts.scheme, parts.scheme)
    return parts._replace(scheme=scheme, query=rest).geturl(), options


def _client_from_url(url: str, timeout: float) -> Any:
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError as exc:
        raise ImportError(
            "the Redis store needs redis-py: pip install 'bedrock-prompt-cache[redis]'"
        ) from exc
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


def _is_async_client(client: Any) -> bool:
    return type(client).__module__.startswith("redis.asyncio")


def _encode(observation: Observation) -> str:
    return json.dumps(asdict(observation), separators=(",", ":"))


def _decode(value: bytes | str | None) -> Observation | None:
    """An observation from its JSON; ``None`` for a missing or unreadable value."""
    if value is None:
        return None
    try:
        data = json.loads(value)
        return Observation.from_json(data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


def _newer(candidate: Observation, current: Observation | None) -> bool:
    if current is None:
        return True
    return (candidate.seen, candidate.last_seen) > (current.seen, current.last_seen)


#: Names the store every :class:`~bedrock_cache.BedrockCache` of the process uses by default.
STORE_ENV = "BEDROCK_CACHE_STORE"


def open_store(store: ReuseStore | str | None) -> ReuseStore:
    """The store a cache uses: the one given, a :class:`RedisStore` for a URL, else the one
    ``BEDROCK_CACHE_STORE`` names, else a fresh :class:`InProcessStore`."""
    if store is None:
        store = os.environ.get(STORE_ENV) or None
    if store is None:
        return InProcessStore()
    if isinstance(store, str):
        return RedisStore(store)
    if not isinstance(store, ReuseStore):
        raise TypeError(
            "store must be a redis:// URL or have lookup(fingerprints) and "
            f"record(now, observations), not {store!r}"
        )
    return store
