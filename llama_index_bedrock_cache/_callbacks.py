"""Legacy ``CallbackManager`` support: the same numbers for apps not on instrumentation yet."""

from __future__ import annotations

from typing import Any

from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler

from bedrock_cache import RECENT_CALLS
from bedrock_cache._faults import fault

from ._recorder import RecorderViews, UsageRecorder


class BedrockCacheCallbackHandler(RecorderViews, BaseCallbackHandler):
    """A ``BaseCallbackHandler`` that counts cache reads, writes, uncached input, cost and savings.

    Unlike LlamaIndex's ``TokenCountingHandler``, which drops Bedrock's cache fields, this
    reads them from each LLM end event (``CallbackManager([BedrockCacheCallbackHandler()])``).
    Each Bedrock call is counted once; streams from their final chunk. ``recent``: how many calls
    :attr:`reports` keep in detail (totals in :attr:`stats` cover every call).
    """

    def __init__(self, *, recent: int = RECENT_CALLS) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self._recorder = UsageRecorder(recent=recent)

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        if event_type == CBEventType.LLM and payload:
            try:
                self._recorder.remember_model(event_id, payload.get(EventPayload.SERIALIZED))
            except Exception as exc:
                fault("the LlamaIndex callback handler failed; the LLM call is unaffected", exc)
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        if event_type != CBEventType.LLM:
            return
        found = payload or {}
        response = found.get(EventPayload.RESPONSE) or found.get(EventPayload.COMPLETION)
        try:
            error = found.get(EventPayload.EXCEPTION)
            if response is None:  # an error ends the event with an exception payload
                self._recorder.fail(event_id, error if error is not None else "failed")
            else:
                self._recorder.record(response, event_id)
        except Exception as exc:
            fault("the LlamaIndex callback handler failed; the LLM call is unaffected", exc)

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(
        self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None
    ) -> None:
        return None
