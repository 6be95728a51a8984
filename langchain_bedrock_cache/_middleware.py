"""``BedrockCacheMiddleware``: Bedrock prompt caching for ``langchain.agents.create_agent``.

The middleware never edits the agent's messages (so neither the state nor a LangGraph
checkpoint ever holds a cachePoint). It hooks the model's boto3 client once and runs the model
call inside ``cache.activate()``; the core plans the final Converse request (or InvokeModel
body) there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeAlias

from langchain.agents.middleware.types import (
    AgentMiddleware,
    ExtendedModelResponse,
    ModelCallResult,
    ModelRequest,
    ModelResponse,
)
from langchain_core.messages import AIMessage

from bedrock_cache import RESPONSE_KEY, BedrockCache, CacheStats, CallReport
from bedrock_cache import instrument_client as _instrument_client
from bedrock_cache._faults import fault, warn_user

from ._models import BedrockChatModel, base_models_of, bedrock_chat_model, cache_from

UnsupportedModelBehavior: TypeAlias = Literal["ignore", "warn", "raise"]
#: Key of the LangSmith run metadata entry that carries a model call's cache report.
METADATA_KEY = "bedrock_cache"
#: The reports recorded during the current model call (ChatBedrock's answers cannot carry them).
_CALL_REPORTS: ContextVar[list[CallReport] | None] = ContextVar("bedrock_cache_calls", default=None)


class BedrockCacheMiddleware(AgentMiddleware[Any, Any]):
    """Plans Bedrock cache checkpoints for every model call of a ``create_agent`` agent.

    Tool schemas, the system prompt and the conversation are cached where it pays, within the
    model's limits; the numbers of each call land in ``AIMessage.response_metadata
    ["bedrockCache"]``, in the LangSmith metadata of this middleware's span, and in
    :attr:`stats`.

    Args:
        cache: the :class:`bedrock_cache.BedrockCache` to plan with and count into (one per app
            is fine); a new one if omitted.
        unsupported_model_behavior: what to do when the agent's model is neither a
            ``ChatBedrockConverse`` nor a ``ChatBedrock``, or its model does not support prompt
            caching: ``"ignore"``, ``"warn"`` (and continue uncached) or ``"raise"``
            (``ValueError``).
        **policy: :class:`bedrock_cache.CachePolicy` fields (instead of ``cache``), e.g.
            ``static_ttl="1h"``.
    """

    def __init__(
        self,
        cache: BedrockCache | None = None,
        *,
        unsupported_model_behavior: UnsupportedModelBehavior = "warn",
        **policy: Any,
    ) -> None:
        if unsupported_model_behavior not in ("ignore", "warn", "raise"):
            raise ValueError(
                "unsupported_model_behavior must be 'ignore', 'warn' or 'raise', not "
                f"{unsupported_model_behavior!r}"
            )
        self.cache = cache_from(cache, policy)
        self.cache.add_listener(_collect)
        self.unsupported_model_behavior = unsupported_model_behavior

    @property
    def stats(self) -> CacheStats:
        """Totals of every model call this middleware planned."""
        return self.cache.stats

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelCallResult[Any]:
        model = self._gate(request)
        if model is None:
            return handler(request)
        with self._planning(model) as reports:
            result = handler(request)
        _annotate_trace(result, reports)
        return result

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelCallResult[Any]:
        model = self._gate(request)
        if model is None:
            return await handler(request)
        with self._planning(model) as reports:
            result = await handler(request)
        _annotate_trace(result, reports)
        return result

    @contextmanager
    def _planning(self, model: BedrockChatModel) -> Iterator[list[CallReport]]:
        """Hook the model's client (idempotent) and plan with this cache inside the block; the
        block gets the list of reports recorded meanwhile."""
        reports: list[CallReport] = []
        try:
            _instrument_client(model.client, None, base_models=base_models_of(model))
        except Exception as exc:
            fault("could not hook a model's client; calling it uncached", exc)
            yield reports
            return
        token = _CALL_REPORTS.set(reports)
        try:
            with self.cache.activate():
                yield reports
        finally:
            _CALL_REPORTS.reset(token)

    def _gate(self, request: ModelRequest[Any]) -> BedrockChatModel | None:
        """The one gate: the request's Bedrock chat model if its model caches, else ``None``."""
        model = bedrock_chat_model(request.model)
        if model is None:
            return self._unsupported(
                f"BedrockCacheMiddleware supports ChatBedrockConverse and ChatBedrock, not "
                f"{type(request.model).__name__}; calling it without prompt caching."
            )
        resolved = self.cache.resolve(model.model_id, model.base_model_id)
        if not resolved.spec.supports_caching:
            reason = resolved.spec.note or f"{model.model_id} does not support prompt caching"
            return self._unsupported(f"{reason}; calling it without prompt caching.")
        return model

    def _unsupported(self, message: str) -> BedrockChatModel | None:
        """Apply ``unsupported_model_behavior``; returns ``None`` (no caching) unless raising."""
        if self.unsupported_model_behavior == "raise":
            raise ValueError(message)
        if self.unsupported_model_behavior == "warn":
            warn_user(message)
        return None


def _collect(report: CallReport) -> None:
    reports = _CALL_REPORTS.get()
    if reports is not None:
        reports.append(report)


def _annotate_trace(result: ModelCallResult[Any], reports: list[CallReport]) -> None:
    """Put the call's cache report into the LangSmith metadata of the current span, if any,
    and into the answer's ``response_metadata`` where the model could not (ChatBedrock)."""
    try:
        report = _report_of(result)
        if report is None and reports:
            report = reports[-1].as_dict()
            for message in _messages(result):
                message.response_metadata[RESPONSE_KEY] = report
        if report is None:
            return
        from langsmith.run_helpers import get_current_run_tree

        run = get_current_run_tree()
        if run is not None:
            run.add_metadata({METADATA_KEY: report})
    except Exception as exc:
        fault("could not annotate the trace; the call is unaffected", exc)


def _messages(result: ModelCallResult[Any]) -> list[AIMessage]:
    if isinstance(result, ExtendedModelResponse):
        result = result.model_response
    messages = [result] if isinstance(result, AIMessage) else result.result
    return [message for message in messages if isinstance(message, AIMessage)]


def _report_of(result: ModelCallResult[Any]) -> dict[str, Any] | None:
    for message in _messages(result):
        report = message.response_metadata.get(RESPONSE_KEY)
        if isinstance(report, dict):
            return report
    return None
