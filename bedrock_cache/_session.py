"""BedrockCache: plans every Converse request it sees and keeps the numbers of what came back."""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ._boundary_memo import BoundaryMemo
from ._config import check_callable, check_instance, check_policy, check_table
from ._config import policy_from as _policy_from
from ._faults import fault
from ._frozen import one_step_init
from ._instrument import ACTIVE, active_cache, instrument_client
from ._layout import Layout, LayoutMemo, with_checkpoints
from ._models import ModelTable, ResolvedModel, default_table
from ._observed import observed, recurrences
from ._outcomes import Outcome
from ._plan import Plan
from ._planner import plan_checkpoints
from ._policy import CachePolicy
from ._pricing import Cost, cost_of
from ._redis_store import open_store
from ._resolve import BaseModel, ModelResolver
from ._rules import Placement, existing_placements
from ._store import Observation, ReuseStore
from ._tokens import DefaultEstimator, TokenEstimator
from ._usage import RECENT_CALLS, CacheStats, CacheUsage
from .diagnostics import Expectation, Miss, MissExplainer, MissWarnings
from .telemetry import OpenTelemetry, TraceLog, attach_telemetry

__all__ = ["BedrockCache", "CallReport", "PreparedRequest", "active_cache", "record_call"]


@one_step_init
@dataclass(frozen=True)
class PreparedRequest:
    """A request with its planned checkpoints, and the plan that put them there."""

    request: dict[str, Any]
    plan: Plan
    model: ResolvedModel
    expectation: Expectation | None = None
    """What the call should read; :meth:`BedrockCache.record` explains a miss with it."""


@one_step_init
@dataclass(frozen=True)
class CallReport:
    """One call's cache usage, cost and plan: what trace metadata and logs carry."""

    model_id: str
    usage: CacheUsage
    cost: Cost
    plan: Plan | None
    miss: Miss | None = None
    """Why the call did not read what earlier calls cached; ``None`` when it did."""

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"model_id": self.model_id, **self.usage.as_dict()}
        result.update(self.cost.as_dict())
        result["miss"] = self.miss.as_dict() if self.miss is not None else None
        result["miss_cause"] = self.miss.cause if self.miss is not None else None
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
        base_model: the model behind application inference profile ARNs, used only for such
            ARNs (never over a model id or system profile a request names): one base model id,
            a mapping ARN -> base model id, or a boto3 ``bedrock`` control-plane client whose
            ``get_inference_profile`` is asked once per ARN.
        table: the model table; the process-wide default if omitted.
        estimator: token counter for planning; the offline default if omitted.
        store: where reuse observations (fingerprints and times, never text) live: a store
            object, or a ``redis://`` URL for a :class:`RedisStore` shared by a fleet. If omitted,
            the URL in ``BEDROCK_CACHE_STORE``, else a bounded in-process :class:`InProcessStore`.
        tracker: deprecated alias of ``store``.
        clock: seconds for the reuse observations (wall-clock ``time.time`` by default, so the
            processes of a fleet agree; pass a simulated clock to replay traffic).
        recent: how many calls :attr:`stats` keeps in detail (``stats.recent()``); totals
            always cover every call.
        explainer: explains each call's cache misses (:attr:`CallReport.miss`) and logs a
            warning per distinct miss per minute; a fresh one (no excerpts) if omitted.
        trace_log: append one JSON line per call to this file (see
            :class:`bedrock_cache.telemetry.TraceLog`); ``BEDROCK_CACHE_TRACE_LOG`` if omitted.
        opentelemetry: span attributes and metrics per call: on by default when
            ``opentelemetry-api`` is installed (global providers); ``False`` turns it off, a
            :class:`bedrock_cache.telemetry.OpenTelemetry` sets the providers.
    """

    def __init__(
        self,
        policy: CachePolicy | None = None,
        *,
        base_model: BaseModel = None,
        table: ModelTable | None = None,
        estimator: TokenEstimator | None = None,
        store: ReuseStore | str | None = None,
        tracker: ReuseStore | None = None,
        clock: Callable[[], float] = time.time,
        recent: int = RECENT_CALLS,
        explainer: MissExplainer | None = None,
        trace_log: str | os.PathLike[str] | TraceLog | None = None,
        opentelemetry: OpenTelemetry | bool | None = None,
    ) -> None:
        check_policy(policy)
        check_table(table)
        if estimator is not None and not callable(getattr(estimator, "block_tokens", None)):
            raise TypeError(
                "estimator must have a block_tokens(block) method, e.g. DefaultEstimator() or "
                f"CountTokensEstimator(client), not {type(estimator).__name__}"
            )
        check_callable("clock", clock, "a function returning seconds, e.g. time.time")
        if tracker is not None:
            warnings.warn(
                "BedrockCache(tracker=...) is deprecated; pass store=", DeprecationWarning, 2
            )
            store = store or tracker
        self.store: ReuseStore = open_store(store)
        self._memo = LayoutMemo()
        self._boundaries = BoundaryMemo()
        self.policy = policy or CachePolicy()
        self.table = table or default_table()
        self.resolver = ModelResolver(self.table, base_model)
        self.estimator: TokenEstimator = estimator or DefaultEstimator()
        self.stats = CacheStats(recent)
        self._clock = clock
        self.explainer = explainer or MissExplainer()
        self._warn = MissWarnings()
        self._listeners: list[ReportListener] = []
        self._lock = threading.Lock()
        self.trace_log, self.opentelemetry = attach_telemetry(self, trace_log, opentelemetry)

    @property
    def base_model(self) -> BaseModel:
        """What resolves application inference profile ARNs (see the class doc)."""
        return self.resolver.base_model

    def resolve(self, model_id: str, base_model_hint: str | None = None) -> ResolvedModel:
        """The model ``model_id`` runs on; ``base_model_hint`` is a framework's own base model
        id for a profile ARN (langchain-aws ``base_model_id``, LlamaIndex ``model``)."""
        return self.resolver.resolve(model_id, base_model_hint)

    def prepare(
        self, request: Mapping[str, Any], *, base_model_hint: str | None = None
    ) -> PreparedRequest:
        """Plan ``request`` (Converse keyword arguments) and return a copy with checkpoints.

        The input is never modified (only the lists that get a checkpoint are copied). The reuse
        store learns the request's prefix fingerprints and the entries the plan writes.
        """
        model = self.resolve(str(request.get("modelId", "")), base_model_hint)
        spec = model.spec
        layout = Layout.of(request, self.estimator, self._memo)
        now = self._clock()
        found, keys = self._boundaries.boundaries(layout, spec, self.policy)
        observations = self._lookup(keys) if found else {}
        learned = recurrences(found, observations, now)
        plan = plan_checkpoints(
            layout, spec, self.policy, observations, now, found=found, learned=learned
        )
        points = [(cp.after, cp.ttl if cp.ttl != "5m" else None) for cp in plan.checkpoints]
        planned = with_checkpoints(request, layout, points) if points else dict(request)
        if found:
            self._record(now, observed(found, observations, plan, spec, now, learned=learned))
        places = [
            *existing_placements(layout),
            *(Placement(cp.after, cp.section, cp.message, cp.ttl) for cp in plan.checkpoints),
        ]
        try:
            expectation = self.explainer.expect(request, layout, model.spec, places, now)
        except Exception as exc:
            fault("could not judge a request's cache reuse; it was sent as planned", exc)
            expectation = None
        return PreparedRequest(planned, plan, model, expectation)

    def _lookup(self, keys: list[str]) -> Mapping[str, Observation]:
        try:
            return self.store.lookup(keys)
        except Exception as exc:
            fault("the reuse store lookup failed; planning without it", exc)
            return {}

    def _record(self, now: float, observations: Mapping[str, Observation]) -> None:
        try:
            self.store.record(now, observations)
        except Exception as exc:
            fault("the reuse store record failed; observations dropped", exc)

    def record(
        self,
        model: str | ResolvedModel,
        usage: CacheUsage,
        plan: Plan | None = None,
        expectation: Expectation | None = None,
    ) -> CallReport:
        """Count one call's usage in :attr:`stats`, explain a miss against ``expectation``
        (from :meth:`prepare`) and tell the report listeners."""
        resolved = self.resolve(model) if isinstance(model, str) else model
        miss = None
        if expectation is not None:
            miss = self._explain(resolved.requested_id, expectation, usage)
        report = record_call(self.stats, resolved, usage, plan, miss=miss)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(report)
            except Exception as exc:
                fault("a report listener failed; the call is unaffected", exc)
        return report

    def record_outcome(self, model: str | ResolvedModel, outcome: Outcome) -> None:
        """Count a call that did not end well (``failed``, ``throttled``, ``timed_out``,
        ``cut``) in :attr:`stats`."""
        resolved = self.resolve(model) if isinstance(model, str) else model
        self.stats.record_outcome(resolved.requested_id, outcome)

    def _explain(self, model_id: str, expectation: Expectation, usage: CacheUsage) -> Miss | None:
        try:
            miss = expectation.explain(usage)
            if miss is not None:
                self._warn(model_id, miss)
            return miss
        except Exception as exc:
            fault("could not explain a call's cache usage; the call is unaffected", exc)
            return None

    def add_listener(self, listener: ReportListener) -> None:
        """Call ``listener(report)`` after every recorded call (telemetry, logs, reports)."""
        with self._lock:
            self._listeners.append(listener)

    def instrument(self, client: Any) -> Any:
        """Plan every ``converse``/``converse_stream`` call made through this boto3 client, and
        every ``invoke_model``/``invoke_model_with_response_stream`` call with an Anthropic or
        Nova body.

        Returns the client. Calling it again replaces the earlier cache on that client.
        """
        instrument_client(client, self)
        return client

    @contextmanager
    def activate(self) -> Iterator[BedrockCache]:
        """Within this block, instrumented clients plan with this cache (overrides their own)."""
        token = ACTIVE.set(self)
        try:
            yield self
        finally:
            ACTIVE.reset(token)

    def summary(self) -> str:
        return self.stats.summary()


def record_call(
    stats: CacheStats,
    model: ResolvedModel,
    usage: CacheUsage,
    plan: Plan | None = None,
    *,
    miss: Miss | None = None,
) -> CallReport:
    """Price one call's usage, add it to ``stats`` and return its report."""
    cost = cost_of(usage, model)
    stats.record(model.requested_id, usage, cost=cost.total, cost_without_cache=cost.without_cache)
    return CallReport(model.requested_id, usage, cost, plan, miss)


def cache_from(cache: Any, options: Mapping[str, Any]) -> BedrockCache:
    """An adapter's cache: ``cache`` as given, or a new one from CachePolicy ``options``."""
    if cache is not None and options:
        raise TypeError(
            "pass either cache=BedrockCache(CachePolicy(...)) or CachePolicy options as keywords "
            f"({', '.join(sorted(options))}), not both"
        )
    if cache is None:
        return BedrockCache(_policy_from(options))
    if isinstance(cache, CachePolicy):
        raise TypeError("cache must be a BedrockCache: write BedrockCache(CachePolicy(...))")
    check_instance("cache", cache, BedrockCache, "a bedrock_cache.BedrockCache")
    result: BedrockCache = cache
    return result
