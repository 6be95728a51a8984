"""What both handlers share: turn one LlamaIndex LLM response into one priced call, once."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any

from bedrock_cache import (
    RECENT_CALLS,
    RESPONSE_KEY,
    CacheStats,
    CallReport,
    ModelResolver,
    ModelTable,
    outcome_of,
    record_call,
    usage_from_llama_index,
)
from bedrock_cache._outcomes import outcome_of_text

_SEEN = 1024
#: Calls started but not yet ended whose model is remembered; only calls that never end (an
#: abandoned stream) are dropped, oldest first.
IN_FLIGHT = 65_536


class UsageRecorder:
    """Counts each LLM response exactly once into a :class:`~bedrock_cache.CacheStats`.

    ``complete()`` runs through ``chat()`` on BedrockConverse, so one Bedrock call ends both a
    completion and a chat event carrying the same ``raw`` response; streams end with their final
    chunk. Responses are recognised by the identity of their ``raw`` payload.
    """

    def __init__(self, table: ModelTable | None = None, recent: int = RECENT_CALLS) -> None:
        self.stats = CacheStats(recent)
        self.resolver = ModelResolver(table)
        self.reports: deque[dict[str, Any]] = deque(maxlen=recent)
        # Held by identity (the objects stay referenced, so their ids are not reused).
        self._seen: OrderedDict[int, object] = OrderedDict()
        self._models: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def remember_model(self, key: str | None, model_dict: Mapping[str, Any] | None) -> None:
        """Note which model a call (span or callback event id) is made with."""
        found = model_dict or {}
        model = found.get("model_name") or found.get("model")  # to_payload() / to_dict()
        if key is None or not isinstance(model, str):
            return
        with self._lock:
            self._models[key] = model
            while len(self._models) > IN_FLIGHT:
                self._models.popitem(last=False)

    def fail(self, key: str | None, error: BaseException | str) -> None:
        """The call ended in ``error``, without a response: count how, release its state."""
        with self._lock:
            model = self._models.pop(key or "", None)
        if model is None:  # not a call this recorder saw start (or counted already)
            return
        outcome = outcome_of_text(error) if isinstance(error, str) else outcome_of(error)
        self.stats.record_outcome(model, outcome)

    def record(self, response: Any, key: str | None = None) -> dict[str, Any] | None:
        """Price and count ``response``; its report dict, or ``None`` (no usage, or seen)."""
        with self._lock:
            hint = self._models.pop(key, None) if key is not None else None
        usage = usage_from_llama_index(response)
        if usage is None or not self._first_sighting(response):
            return None
        planned = planner_report(response)
        model_id = str(planned.get("model_id") or hint or "unknown")
        report = record_call(self.stats, self.resolver.resolve(model_id, hint), usage)
        result = _merged(report, planned)
        with self._lock:
            self.reports.append(result)
        return result

    def reset(self) -> None:
        self.stats.reset()
        with self._lock:
            self.reports.clear()

    def _first_sighting(self, response: Any) -> bool:
        raw = getattr(response, "raw", None)
        marker = raw if raw is not None else response
        with self._lock:
            if self._seen.get(id(marker)) is marker:
                return False
            self._seen[id(marker)] = marker
            if len(self._seen) > _SEEN:
                self._seen.popitem(last=False)
            return True


def planner_report(response: Any) -> dict[str, Any]:
    """The core's report dict for this response (``raw[RESPONSE_KEY]``), or ``{}``.

    Present when the call went through an instrumented client: on a Converse response, or on the
    ``metadata`` event that ends a stream.
    """
    raw = getattr(response, "raw", None)
    if not isinstance(raw, Mapping):
        return {}
    found = raw.get(RESPONSE_KEY)
    if found is None and isinstance(raw.get("metadata"), Mapping):
        found = raw["metadata"].get(RESPONSE_KEY)
    return dict(found) if isinstance(found, Mapping) else {}


def _merged(report: CallReport, planned: Mapping[str, Any]) -> dict[str, Any]:
    result = report.as_dict()
    for key in ("plan", "plan_skipped", "miss", "miss_cause"):
        if key in planned:
            result[key] = planned[key]
    return result


class RecorderViews:
    """What both handlers show of their :class:`UsageRecorder` (``self._recorder``)."""

    _recorder: UsageRecorder

    @property
    def stats(self) -> CacheStats:
        """Totals of every counted call (per model and overall)."""
        return self._recorder.stats

    @property
    def reports(self) -> list[dict[str, Any]]:
        """The report dict of the last counted calls, oldest first (totals: :attr:`stats`)."""
        return list(self._recorder.reports)

    def summary(self) -> str:
        return self._recorder.stats.summary()

    def __str__(self) -> str:
        return self.summary()

    def reset(self) -> None:
        self._recorder.reset()
