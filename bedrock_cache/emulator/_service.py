"""The emulated bedrock-runtime operations: parse, apply the cache, answer, record.

The caching rules are not here: :class:`PromptCache` (and ``bedrock_cache._rules``) decide.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .._layout import Layout
from .._models import ModelResolutionError, ModelSpec, ModelTable
from .._rules import CheckpointRuleError
from .._tokens import block_tokens, text_tokens
from ._cache import CacheOutcome, PromptCache
from ._clock import Clock
from ._errors import ERROR_STATUS, STREAM_EXCEPTIONS, EmulatedError
from ._invoke import INVOKE_OPERATIONS, InvokeAnswer, read_invoke
from ._replies import Reply, SimulatedLatency, default_reply, render
from ._responder import (
    JsonResponse,
    Response,
    StreamResponse,
    converse_body,
    stream_events,
    stream_frames,
)

Operation = Literal[
    "Converse", "ConverseStream", "CountTokens", "InvokeModel", "InvokeModelWithResponseStream"
]
logger = logging.getLogger("bedrock_cache.emulator")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received and what it did with it (for assertions in tests)."""

    operation: Operation
    model_id: str
    request: dict[str, Any]
    """The request as boto3 sent it (the JSON body plus ``modelId``)."""
    outcome: CacheOutcome | None = None
    """Cache reads and writes, with ``.checkpoints`` per checkpoint; None if rejected early."""
    usage: dict[str, Any] | None = None
    """The ``usage`` returned (for CountTokens: the ``{"inputTokens": n}`` body)."""
    output: tuple[dict[str, Any], ...] = ()
    stop_reason: str | None = None
    error: str | None = None
    """The Bedrock error name (e.g. ``ValidationException``), if the request failed."""
    error_message: str | None = None


@dataclass
class _Fault:
    code: str
    message: str
    remaining: int
    operation: str | None = None
    after_events: int = 0


@dataclass(frozen=True)
class _Answer:
    request: dict[str, Any]
    outcome: CacheOutcome
    blocks: list[dict[str, Any]]
    stop_reason: str
    usage: dict[str, Any]
    latency_ms: int


@dataclass
class _State:
    records: list[RecordedRequest] = field(default_factory=list)
    script: deque[Reply] = field(default_factory=deque)
    faults: list[_Fault] = field(default_factory=list)
    stream_faults: list[_Fault] = field(default_factory=list)


class EmulatedBedrock:
    """bedrock-runtime's Converse, ConverseStream and CountTokens over one prompt cache."""

    def __init__(self, clock: Clock, table: ModelTable, latency: SimulatedLatency | None) -> None:
        self.cache = PromptCache(clock)
        self.table = table
        self.latency = latency
        self._state = _State()
        self._lock = threading.Lock()

    # -- test controls ------------------------------------------------------------------------

    def records(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._state.records)

    def reset(self) -> None:
        self.cache.clear()
        with self._lock:
            self._state = _State()

    def script(self, replies: Iterable[Reply | str]) -> None:
        queued = [Reply.text(r) if isinstance(r, str) else r for r in replies]
        with self._lock:
            self._state.script.extend(queued)

    def inject_error(self, code: str, times: int, message: str, operation: str | None) -> None:
        _check_times(times)
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown Bedrock error {code!r}; use one of {sorted(ERROR_STATUS)}")
        with self._lock:
            self._state.faults.append(_Fault(code, message, times, operation))

    def inject_stream_error(self, kind: str, after_events: int, times: int, message: str) -> None:
        _check_times(times)
        if kind not in STREAM_EXCEPTIONS:
            raise ValueError(f"unknown stream exception {kind!r}; use one of {STREAM_EXCEPTIONS}")
        with self._lock:
            self._state.stream_faults.append(_Fault(kind, message, times, None, after_events))

    # -- dispatch -----------------------------------------------------------------------------

    def dispatch(self, operation: Operation, model_id: str, raw: bytes) -> Response:
        """Answer one HTTP request body; raises :class:`EmulatedError` for Bedrock errors."""
        request: dict[str, Any] = {"modelId": model_id}
        try:
            self._raise_injected(operation)
            request = _parse_body(raw, model_id)
            spec = self._resolve(model_id)
            if operation == "CountTokens":
                return self._count_tokens(request, model_id)
            if operation in INVOKE_OPERATIONS:
                return self._invoke(operation, request, spec)
            return self._converse(operation, request, spec)
        except EmulatedError as exc:
            logger.info("%s %s -> %s", operation, model_id, exc.code)
            self._record(
                RecordedRequest(
                    operation, model_id, request, error=exc.code, error_message=exc.message
                )
            )
            raise

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self._state.records.append(record)

    def _raise_injected(self, operation: str) -> None:
        fault = self._take(self._state.faults, operation)
        if fault is not None:
            raise EmulatedError(fault.code, fault.message)

    def _take(self, faults: list[_Fault], operation: str) -> _Fault | None:
        with self._lock:
            for fault in faults:
                if fault.operation in (None, operation):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        faults.remove(fault)
                    return fault
        return None

    def _resolve(self, model_id: str) -> ModelSpec:
        try:
            spec = self.table.resolve(model_id).spec
        except ModelResolutionError as exc:
            raise EmulatedError("ResourceNotFoundException", str(exc)) from exc
        if spec.family == "unknown":
            raise EmulatedError(
                "ResourceNotFoundException",
                f"Model {model_id} is not in the emulator's model table; register it with "
                "ModelTable.register(ModelSpec(...)) and pass BedrockEmulator(table=...).",
            )
        return spec

    def _count_tokens(self, body: dict[str, Any], model_id: str) -> JsonResponse:
        counted = {"inputTokens": _input_tokens(body.get("input"), model_id)}
        self._record(RecordedRequest("CountTokens", model_id, body, usage=counted))
        return JsonResponse(counted)

    def _converse(self, operation: Operation, request: dict[str, Any], spec: ModelSpec) -> Response:
        answer = self._answer(request, spec)
        record = RecordedRequest(
            operation,
            str(request["modelId"]),
            request,
            outcome=answer.outcome,
            usage=answer.usage,
            output=tuple(answer.blocks),
            stop_reason=answer.stop_reason,
        )
        if operation == "Converse":
            self._record(record)
            return JsonResponse(
                converse_body(answer.blocks, answer.stop_reason, answer.usage, answer.latency_ms)
            )
        return self._stream(answer, record)

    def _stream(self, answer: _Answer, record: RecordedRequest) -> StreamResponse:
        events = stream_events(answer.blocks, answer.stop_reason, answer.usage, answer.latency_ms)
        fault = self._take(self._state.stream_faults, "ConverseStream")
        if fault is None:
            self._record(record)
            return StreamResponse(stream_frames(events))
        cut = min(fault.after_events, len(events))
        self._record(_failed(record, fault))
        return StreamResponse(stream_frames(events, (cut, fault.code, fault.message)))

    def _invoke(self, operation: Operation, request: dict[str, Any], spec: ModelSpec) -> Response:
        """InvokeModel*: the native body through the same cache, answered in its own shape."""
        native = read_invoke(request, spec)
        answer = self._answer(native.converse, spec)
        output_tokens = int(answer.usage["outputTokens"])
        reply = InvokeAnswer(
            native,
            spec,
            answer.blocks,
            answer.stop_reason,
            answer.outcome,
            output_tokens,
            answer.latency_ms,
        )
        record = RecordedRequest(
            operation,
            str(request["modelId"]),
            request,
            outcome=answer.outcome,
            usage=reply.usage(),
            output=tuple(answer.blocks),
            stop_reason=answer.stop_reason,
        )
        if operation == "InvokeModel":
            self._record(record)
            return reply.response()
        fault = self._take(self._state.stream_faults, operation)
        if fault is None:
            self._record(record)
            return reply.stream()
        self._record(_failed(record, fault))
        return reply.stream((fault.after_events, fault.code, fault.message))

    def _answer(self, request: dict[str, Any], spec: ModelSpec) -> _Answer:
        started = time.monotonic()
        outcome = self._process(request, spec)
        blocks, stop_reason = render(self._next_reply() or default_reply(request), request)
        output_tokens = sum(block_tokens(block) for block in blocks)
        if self.latency is not None:
            self.latency.sleep(outcome.total_input - outcome.cache_read, output_tokens)
        latency_ms = int((time.monotonic() - started) * 1000)
        usage = outcome.usage(output_tokens)
        return _Answer(request, outcome, blocks, stop_reason, usage, latency_ms)

    def _process(self, request: dict[str, Any], spec: ModelSpec) -> CacheOutcome:
        layout = _layout(request)
        try:
            return self.cache.process(layout, spec)
        except CheckpointRuleError as exc:
            raise EmulatedError("ValidationException", str(exc)) from exc

    def _next_reply(self) -> Reply | None:
        with self._lock:
            return self._state.script.popleft() if self._state.script else None


def _check_times(times: int) -> None:
    if times < 1:
        raise ValueError(f"times must be at least 1, got {times}")


def _failed(record: RecordedRequest, fault: _Fault) -> RecordedRequest:
    # The metadata event (usage) never reaches the client, so none is recorded as returned.
    return replace(record, usage=None, error=fault.code, error_message=fault.message)


def _parse_body(raw: bytes, model_id: str) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EmulatedError("ValidationException", "Malformed input request: not JSON") from exc
    if not isinstance(body, dict):
        raise EmulatedError("ValidationException", "Malformed input request: expected an object")
    return {**body, "modelId": model_id}


def _layout(request: Mapping[str, Any]) -> Layout:
    try:
        return Layout.of(request)
    except (KeyError, TypeError, AttributeError) as exc:
        raise EmulatedError(
            "ValidationException", f"Malformed input request: {type(exc).__name__}"
        ) from exc


def _input_tokens(counted: Any, model_id: str) -> int:
    """CountTokens: the Layout total of a Converse input (checkpoints count 0), or an
    InvokeModel body's text estimate."""
    if isinstance(counted, dict) and isinstance(counted.get("converse"), dict):
        return _layout({**counted["converse"], "modelId": model_id}).total_tokens
    if isinstance(counted, dict) and isinstance(counted.get("invokeModel"), dict):
        return text_tokens(_decoded(counted["invokeModel"].get("body", "")))
    raise EmulatedError("ValidationException", "input must hold 'converse' or 'invokeModel'")


def _decoded(body: Any) -> str:
    try:
        return base64.b64decode(str(body), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        raise EmulatedError("ValidationException", "invokeModel.body is not base64") from exc
