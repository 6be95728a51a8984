"""LlamaIndex instrumentation: cache numbers per LLM call, as events and span tags."""

from __future__ import annotations

from typing import Any, Self

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
)
from llama_index_instrumentation import get_dispatcher, root_dispatcher
from llama_index_instrumentation.events.span import SpanDropEvent

from bedrock_cache import RECENT_CALLS
from bedrock_cache._faults import fault

from ._recorder import RecorderViews, UsageRecorder

dispatcher = get_dispatcher(__name__)

#: Prefix of the span tags set on the LLM call's span, e.g. ``bedrock_cache.cache_read_tokens``.
TAG_PREFIX = "bedrock_cache."


class BedrockCacheEvent(BaseEvent):
    """One Bedrock call's cache usage, cost and plan, dispatched right after its LLM end event.

    ``span_id`` is the LLM call's span, so any tracing backend attached to LlamaIndex's
    instrumentation files it under that call. ``report`` holds plain numbers (token counts by
    kind, ``token_hit_rate``, ``cost_usd``, ``saved_usd``...) and, when the call was planned,
    the planner's reasons.
    """

    model_id: str
    report: dict[str, Any]

    @classmethod
    def class_name(cls) -> str:
        return "BedrockCacheEvent"


class BedrockCacheEventHandler(RecorderViews, BaseEventHandler):
    """Counts the cache usage of every LLM call LlamaIndex reports, with cost and savings.

    ``handler = BedrockCacheEventHandler.register()`` attaches it to the root dispatcher. Each
    call is counted once (a stream from its final chunk; ``complete()`` once, though it also
    ends a chat), then a :class:`BedrockCacheEvent` is dispatched and the numbers are added as
    ``bedrock_cache.*`` tags to the call's span while it is still open (not for streams, whose
    span has closed by the time the stream ends). Works for any ``BedrockConverse``; planned
    calls (through :class:`CachingBedrockConverse`) also carry the planner's reasons.
    """

    emit_events: bool = True
    """Dispatch a :class:`BedrockCacheEvent` after each counted call."""
    recent: int = RECENT_CALLS
    """How many calls :attr:`reports` keep in detail (totals in :attr:`stats` cover every call)."""

    _recorder: UsageRecorder = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._recorder = UsageRecorder(recent=self.recent)

    @classmethod
    def class_name(cls) -> str:
        return "BedrockCacheEventHandler"

    @classmethod
    def register(cls, target: Any = None, **options: Any) -> Self:
        """Create a handler and add it to ``target`` (the root dispatcher by default)."""
        handler = cls(**options)
        (target or root_dispatcher).add_event_handler(handler)
        return handler

    def unregister(self, target: Any = None) -> None:
        """Remove this handler from ``target`` (the root dispatcher by default)."""
        source = target or root_dispatcher
        source.event_handlers = [h for h in source.event_handlers if h is not self]

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        try:
            self._handle(event)
        except Exception as exc:
            fault("the LlamaIndex event handler failed; the LLM call is unaffected", exc)

    def _handle(self, event: BaseEvent) -> None:
        if isinstance(event, LLMChatStartEvent | LLMCompletionStartEvent):
            self._recorder.remember_model(event.span_id, event.model_dict)
            return
        if isinstance(event, ExceptionEvent):
            self._recorder.fail(event.span_id, event.exception)
            return
        if isinstance(event, SpanDropEvent):
            self._recorder.fail(event.span_id, event.err_str)
            return
        if not isinstance(event, LLMChatEndEvent | LLMCompletionEndEvent):
            return
        if event.response is None:
            return
        report = self._recorder.record(event.response, event.span_id)
        if report is None:
            return
        _tag_open_span(event.span_id, report)
        if self.emit_events:
            dispatcher.event(
                BedrockCacheEvent(
                    model_id=str(report["model_id"]), report=report, span_id=event.span_id
                )
            )


def _tag_open_span(span_id: str | None, report: dict[str, Any]) -> None:
    if span_id is None:
        return
    tags = {f"{TAG_PREFIX}{key}": value for key, value in report.items()}
    for span_handler in root_dispatcher.span_handlers:
        span = getattr(span_handler, "open_spans", {}).get(span_id)
        if span is not None:
            span.tags = {**span.tags, **tags}
