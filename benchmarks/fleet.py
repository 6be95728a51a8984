"""``python -m benchmarks.fleet``: a fleet whose workers share, or do not share, what they learn.

The multi-tenant and sparse workloads are split round-robin over four workers -- each with its own
``BedrockCache`` and ``ChatBedrockConverse``, as the processes of a deployment behind a load
balancer are -- against one emulator (Bedrock's cache belongs to the account, not the worker).
Compared, as ratios to the clairvoyant bound: one process seeing all the traffic, four workers
each learning alone (in-process stores), and four workers sharing one real ``redis-server``.
Each worker's writes reach Redis before the next call arrives (real gaps are seconds long).

Then the price of the time budget: the added latency of a store lookup (p50 / p99) with Redis up,
stalled (SIGSTOP: connections open, nothing answers) and down, beside the budget.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bedrock_cache import BedrockCache, CircuitBreaker, InProcessStore, RedisStore, ReuseStore

from .bound import lower_bound
from .calls import Call
from .runner import run
from .strategies import Sender, Strategy
from .strategies.langchain import NONE, _invoker, _model
from .workloads import workload

WORKLOADS = ("multi-tenant", "sparse-traffic")
WORKERS = 4
BUDGET_MS = 5.0
OUT = Path(__file__).with_name("fleet.json")


def fleet(name: str, stores: Callable[[], list[ReuseStore]]) -> Strategy:
    """Our default planner on ``len(stores())`` workers that take the calls in turn."""

    def open_fleet(emu: Any, model: str) -> Sender:
        from langchain_bedrock_cache import with_bedrock_cache

        workers = []
        for store in stores():
            cache = BedrockCache(store=store, clock=emu.clock.now)
            workers.append((store, _invoker(with_bedrock_cache(_model(emu, model), cache))))
        plain = _invoker(_model(emu, model))
        turn = iter(range(10**9))

        def send(call: Call, caching: bool) -> None:
            store, planned = workers[next(turn) % len(workers)]
            (planned if caching else plain)(call, caching)
            if isinstance(store, RedisStore):
                store.flush()

        return send

    return Strategy(name, f"ours on {name}", open_fleet)


@contextmanager
def redis_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway ``redis-server`` on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        process = subprocess.Popen([*args, "--dir", workdir], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_for(url)
            yield url, process
        finally:
            process.kill()
            process.wait()


def _wait_for(url: str) -> None:
    import redis

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url).ping():
                return
        except redis.ConnectionError:
            time.sleep(0.02)
    raise RuntimeError(f"redis-server at {url} did not answer")


def costs(url: str) -> list[dict[str, Any]]:
    """One row per workload: each arrangement's cost over the bound."""
    rows = []
    for name in WORKLOADS:
        load = workload(name)
        calls = load.calls()
        bound = lower_bound(run(load, NONE, calls).requests())
        namespace = uuid.uuid4().hex
        arrangements = {
            "one process": fleet("one process", lambda: [InProcessStore()]),
            "4 workers, local stores": fleet(
                "local", lambda: [InProcessStore() for _ in range(WORKERS)]
            ),
            "4 workers, one Redis": fleet(
                "redis",
                lambda namespace=namespace: [
                    RedisStore(url, namespace=namespace, budget_ms=50) for _ in range(WORKERS)
                ],
            ),
        }
        row: dict[str, Any] = {"workload": name, "calls": len(calls), "bound": bound}
        for label, strategy in arrangements.items():
            row[label] = run(load, strategy, calls).total_cost / bound
        rows.append(row)
    return rows


def latency(url: str, process: subprocess.Popen[bytes], lookups: int = 300) -> dict[str, Any]:
    """Added milliseconds of one store lookup (p50, p99) with Redis up, stalled and down."""
    keys = [uuid.uuid4().hex for _ in range(12)]

    def sample(store: RedisStore) -> tuple[float, float]:
        times = []
        for _ in range(lookups):
            start = time.perf_counter()
            store.lookup(keys)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times), statistics.quantiles(times, n=100)[98]

    def fresh() -> RedisStore:
        return RedisStore(url, budget_ms=BUDGET_MS, breaker=CircuitBreaker("Redis store"))

    result: dict[str, Any] = {"budget_ms": BUDGET_MS, "up": sample(fresh())}
    process.send_signal(signal.SIGSTOP)
    try:
        result["stalled"] = sample(fresh())
    finally:
        process.send_signal(signal.SIGCONT)
    process.kill()
    process.wait()
    result["down"] = sample(fresh())
    return result


def report(rows: Sequence[dict[str, Any]], lat: dict[str, Any]) -> str:
    labels = ("one process", "4 workers, local stores", "4 workers, one Redis")
    lines = [
        "Fleet: cost / bound, the traffic split round-robin over 4 workers",
        f"  {'workload':<14}{'calls':>6}" + "".join(f"{label:>26}" for label in labels),
    ]
    for row in rows:
        cells = "".join(f"{row[label]:>26.3f}" for label in labels)
        lines.append(f"  {row['workload']:<14}{row['calls']:>6}{cells}")
    lines.append(f"Store lookup, added ms (p50 / p99), budget {lat['budget_ms']:g} ms")
    for state in ("up", "stalled", "down"):
        p50, p99 = lat[state]
        lines.append(f"  Redis {state:<8}{p50:>8.3f} / {p99:.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help="JSON results (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.getLogger("bedrock_cache").setLevel(logging.ERROR)  # miss warnings: expected here
    try:
        with redis_server() as (url, process):
            rows = costs(url)
            lat = latency(url, process)
    except RuntimeError as exc:
        print(f"fleet benchmark unavailable: {exc}")
        return 0
    print(report(rows, lat))
    args.out.write_text(json.dumps({"workloads": rows, "lookup_ms": lat}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
