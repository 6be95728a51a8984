"""``BedrockCacheCallbackHandler``: cache numbers per LLM run and in aggregate.

Works with any LangChain entry point that takes ``callbacks`` (models, chains, agents, graphs)
and with or without this package's planning: it reads the usage LangChain already reports.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from bedrock_cache import (
    RECENT_CALLS,
    RESPONSE_KEY,
    CacheStats,
    CallReport,
    Miss,
    ModelResolver,
    ModelTable,
    outcome_of,
    record_call,
    usage_from_langchain,
)
from bedrock_cache._faults import fault

#: Runs started but not yet ended that are remembered; only runs that never end are dropped.
IN_FLIGHT = 65_536


class BedrockCacheCallbackHandler(BaseCallbackHandler):
    """Counts Bedrock cache reads, writes, uncached and output tokens, hit rate and dollars.

    Each finished chat-model run is counted once (a stream in ``on_llm_end``, from the usage
    on its final chunk). Safe to share across threads and concurrent asyncio tasks; it runs
    inline, so it works under ``ainvoke``/``astream`` without an async twin.

    Attributes:
        stats: the aggregate (:class:`bedrock_cache.CacheStats`, per model and overall).
        runs: the last ``recent`` counted runs' :class:`bedrock_cache.CallReport`, by LangChain
            run id, oldest first (totals in :attr:`stats` cover every run).

    Args:
        table: the model table for prices (the default table if omitted).
        base_model: the model behind application inference profile ARNs, as for
            :class:`bedrock_cache.BedrockCache`; a run's own ``base_model_id`` comes first.
        recent: how many runs :attr:`runs` (and ``stats.recent()``) keep in detail.
    """

    run_inline = True
    raise_error = False

    def __init__(
        self,
        *,
        table: ModelTable | None = None,
        base_model: Any = None,
        recent: int = RECENT_CALLS,
    ) -> None:
        self.stats = CacheStats(recent)
        self.resolver = ModelResolver(table, base_model)
        self.table = self.resolver.table
        self.base_model = base_model
        self.runs: OrderedDict[UUID, CallReport] = OrderedDict()
        self._recent = recent
        self._counted = 0
        self._models: OrderedDict[UUID, str] = OrderedDict()
        self._lock = threading.Lock()

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        params: Mapping[str, Any] = kwargs.get("invocation_params") or {}
        model = (
            params.get("model") or params.get("model_id") or (metadata or {}).get("ls_model_name")
        )
        if isinstance(model, str) and model:
            with self._lock:
                self._models[run_id] = model
                _trim(self._models, IN_FLIGHT)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            started_model = self._models.pop(run_id, None)
        try:
            report = self._count(response, started_model)
        except Exception as exc:
            fault("could not count a LangChain run's usage; the run is unaffected", exc)
            return
        if report is not None:
            with self._lock:
                self._counted += 1
                self.runs[run_id] = report
                _trim(self.runs, self._recent)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            model = self._models.pop(run_id, None)
        try:
            self.stats.record_outcome(model or "unknown", outcome_of(error))
        except Exception as exc:
            fault("could not count a failed LangChain run; the run is unaffected", exc)

    def _count(self, response: LLMResult, started_model: str | None) -> CallReport | None:
        report: CallReport | None = None
        for generations in response.generations:
            for generation in generations:
                if not isinstance(generation, ChatGeneration):
                    continue
                message = generation.message
                usage_metadata = getattr(message, "usage_metadata", None)
                if not usage_metadata:
                    continue
                model_id = str(message.response_metadata.get("model_name") or started_model or "")
                # langchain-aws reports ``base_model_id or model_id`` as the run's model.
                resolved = self.resolver.resolve(model_id, started_model)
                usage = usage_from_langchain(usage_metadata)
                report = _with_miss(record_call(self.stats, resolved, usage), message)
        return report

    def reset(self) -> None:
        """Forget every run and total."""
        with self._lock:
            self.runs.clear()
            self._models.clear()
            self._counted = 0
        self.stats.reset()

    def summary(self) -> str:
        """Readable totals: runs counted, tokens by kind, hit rates, dollars spent and saved."""
        with self._lock:
            count = self._counted
        return f"Bedrock prompt cache, {count} LLM runs -- {self.stats.summary()}"

    def __str__(self) -> str:
        return self.summary()


def _trim(runs: OrderedDict[UUID, Any], limit: int) -> None:
    while len(runs) > limit:
        runs.popitem(last=False)


def _with_miss(report: CallReport, message: BaseMessage) -> CallReport:
    """The report with the planner's miss explanation, when the call was planned."""
    planned = message.response_metadata.get(RESPONSE_KEY)
    miss = planned.get("miss") if isinstance(planned, Mapping) else None
    return replace(report, miss=Miss.from_dict(miss)) if isinstance(miss, Mapping) else report
