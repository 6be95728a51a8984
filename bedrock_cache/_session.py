"""BedrockCache: plans every Converse request it sees and keeps the numbers of what came back."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ._layout import Layout, LayoutMemo, with_checkpoints
from ._models import ModelTable, ResolvedModel, default_table
from ._planner import CachePolicy, Plan, boundaries, lookup_keys, observed, plan_checkpoints
from ._pricing import Cost, cost_of
from ._redis_store import open_store
from ._store import Observation, ReuseStore
from ._tokens import DefaultEstimator, TokenEstimator
from ._usage import CacheStats, CacheUsage

logger = logging.getLogger("bedrock_cache")

_ACTIVE: ContextVar[BedrockCache | None] = ContextVar("bedrock_cache_active", default=None)


@dataclass(frozen=True)
class PreparedRequest:
    """A request with its planned checkpoints, and the plan that put them there."""

    request: dict[str, Any]
    plan: Plan
    model: ResolvedModel


@dataclass(frozen=True)
class CallReport:
    """One call's cache usage, cost and plan: what trace metadata and logs carry."""

    model_id: str
    usage: CacheUsage
    cost: Cost
    plan: Plan | None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"model_id": self.model_id, **self.usage.as_dict()}
        result.update(self.cost.as_dict())
        if self.plan is not None:
            result["plan"] = self.plan.reasons
            result["plan_skipped"] = list(self.plan.skipped)
        return result


ReportListener = Callable[[CallReport], None]


class BedrockCache:
    """Plans cache checkpoints for Converse requests and records what they saved.

    One instance serves a whole app (thread- and asyncio-safe). Use it through a framework
    adapter, or hook a boto3 ``bedrock-runtime`` client directly with :meth:`instrument`.

    Args:
        policy: where checkpoints may go (:class:`CachePolicy`); defaults are safe.
        base_model: the base model id when requests name an application inference profile ARN.
        table: the model table; the process-wide default if omitted.
        estimator: token counter for planning; the offline default if omitted.
        store: where reuse observations (fingerprints and times, never text) live: a store
            object, or a ``redis://`` URL for a :class:`RedisStore` shared by a fleet. If omitted,
            the URL in ``BEDROCK_CACHE_STORE``, else a bounded in-process :class:`InProcessStore`.
        tracker: deprecated alias of ``store``.
        clock: seconds for the reuse observations (wall-clock ``time.time`` by default, so the
            processes of a fleet agree; pass a simulated clock to replay traffic).
    """

    def __init__(
        self,
        policy: CachePolicy | None = None,
        *,
        base_model: str | None = None,
        table: ModelTable | None = None,
        estimator: TokenEstimator | None = None,
        store: ReuseStore | str | None = None,
        tracker: ReuseStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if policy is not None and not isinstance(policy, CachePolicy):
            raise TypeError("policy must be a bedrock_cache.CachePolicy")
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds, e.g. time.time")
        if tracker is not None:
            warnings.warn(
                "BedrockCache(tracker=...) is deprecated; pass store=", DeprecationWarning, 2
            )
            store = store or tracker
        self.store: ReuseStore = open_store(store)
        self._memo = LayoutMemo()
        self.policy = policy or CachePolicy()
        self.base_model = base_model
        self.table = table or default_table()
        self.estimator: TokenEstimator = estimator or DefaultEstimator()
        self.stats = CacheStats()
        self._clock = clock
        self._listeners: list[ReportListener] = []
        self._lock = threading.Lock()

    def resolve(self, model_id: str) -> ResolvedModel:
        return self.table.resolve(model_id, base_model=self.base_model)

    def prepare(self, request: Mapping[str, Any]) -> PreparedRequest:
        """Plan ``request`` (Converse keyword arguments) and return a copy with checkpoints.

        The input is never modified (only the lists that get a checkpoint are copied). The reuse
        store learns the request's prefix fingerprints and the entries the plan writes.
        """
        model = self.resolve(str(request.get("modelId", "")))
        spec = model.spec
        layout = Layout.of(request, self.estimator, self._memo)
        now = self._clock()
        found = boundaries(layout, spec, self.policy)
        observations = self._lookup(lookup_keys(found)) if found else {}
        plan = plan_checkpoints(layout, spec, self.policy, observations, now)
        points = [(cp.after, cp.ttl if cp.ttl != "5m" else None) for cp in plan.checkpoints]
        planned = with_checkpoints(request, layout, points) if points else dict(request)
        if found:
            self._record(now, observed(found, observations, plan, spec, now))
        return PreparedRequest(planned, plan, model)

    def _lookup(self, keys: list[str]) -> Mapping[str, Observation]:
        try:
            return self.store.lookup(keys)
        except Exception:
            logger.warning("bedrock_cache reuse store lookup failed; planning without it")
            return {}

    def _record(self, now: float, observations: Mapping[str, Observation]) -> None:
        try:
            self.store.record(now, observations)
        except Exception:
            logger.warning("bedrock_cache reuse store record failed; observations dropped")

    def record(self, model_id: str, usage: CacheUsage, plan: Plan | None = None) -> CallReport:
        """Count one call's usage in :attr:`stats` and tell the report listeners."""
        report = record_call(self.stats, self.resolve(model_id), usage, plan)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(report)
            except Exception:
                logger.exception("bedrock_cache report listener failed; the call is unaffected")
        return report

    def add_listener(self, listener: ReportListener) -> None:
        """Call ``listener(report)`` after every recorded call (telemetry, logs, reports)."""
        with self._lock:
            self._listeners.append(listener)

    def instrument(self, client: Any) -> Any:
        """Plan every ``converse``/``converse_stream`` call made through this boto3 client.

        Returns the client. Calling it again replaces the earlier cache on that client.
        """
        from ._instrument import instrument_client

        instrument_client(client, self)
        return client

    @contextmanager
    def activate(self) -> Iterator[BedrockCache]:
        """Within this block, instrumented clients plan with this cache (overrides their own)."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def summary(self) -> str:
        return self.stats.summary()


def record_call(
    stats: CacheStats, model: ResolvedModel, usage: CacheUsage, plan: Plan | None = None
) -> CallReport:
    """Price one call's usage, add it to ``stats`` and return its report."""
    cost = cost_of(usage, model)
    stats.record(model.requested_id, usage, cost=cost.total, cost_without_cache=cost.without_cache)
    return CallReport(model.requested_id, usage, cost, plan)


def active_cache() -> BedrockCache | None:
    """The cache activated in this context, if any."""
    return _ACTIVE.get()
