"""The emulated operations: parse, apply the cache, answer, record.

Each operation is one entry of :attr:`EmulatedBedrock.handlers` (botocore name -> handler); its
route comes from botocore's service model (:mod:`._routes`). The caching rules are not here:
:class:`PromptCache` (and ``bedrock_cache._rules``) decide.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .._layout import Layout
from .._models import ModelSpec, ModelTable, is_application_profile, split_model_id
from .._rules import CheckpointRuleError
from .._tokens import block_tokens, text_tokens
from ._cache import CacheOutcome, PromptCache
from ._clock import Clock
from ._control import InferenceProfiles
from ._errors import ERROR_STATUS, STREAM_EXCEPTIONS, EmulatedError, validation
from ._invoke import InvokeAnswer, read_invoke
from ._replies import Reply, SimulatedLatency, default_reply, forced_tool_reply, render
from ._responder import (
    Call,
    Handler,
    JsonResponse,
    Response,
    StreamResponse,
    converse_body,
    stream_events,
    stream_frames,
)
from ._validate import check_converse, json_body

logger = logging.getLogger("bedrock_cache.emulator")
RequestListener = Callable[["RecordedRequest"], None]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received and what it did with it (for assertions in tests)."""

    operation: str
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


@dataclass(frozen=True)
class EmulatorTotals:
    """Running totals over every model request since start or :meth:`reset`, kept while the
    request log holds only the most recent ones."""

    requests: int = 0
    """Model requests received (Converse, ConverseStream, CountTokens, ...), failed ones too;
    control-plane calls are not counted."""
    rejected: int = 0
    """Requests answered with an error (or a stream cut by an injected fault)."""
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    uncached_input_tokens: int = 0
    output_tokens: int = 0

    def add(self, record: RecordedRequest) -> EmulatorTotals:
        """These totals plus one request: input tokens as the cache processed them (a cut
        stream's too), output tokens as answered."""
        outcome = record.outcome
        answered = record.usage if outcome is not None and record.usage is not None else {}
        return EmulatorTotals(
            self.requests + 1,
            self.rejected + (record.error is not None),
            self.cache_read_tokens + (outcome.cache_read if outcome else 0),
            self.cache_write_tokens + (outcome.cache_write if outcome else 0),
            self.uncached_input_tokens + (outcome.uncached_input if outcome else 0),
            self.output_tokens + int(answered.get("outputTokens", 0)),
        )


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
    records: deque[RecordedRequest]
    totals: EmulatorTotals = field(default_factory=EmulatorTotals)
    script: deque[Reply] = field(default_factory=deque)
    faults: list[_Fault] = field(default_factory=list)
    stream_faults: list[_Fault] = field(default_factory=list)


class EmulatedBedrock:
    """bedrock-runtime's Converse, ConverseStream and CountTokens over one prompt cache, and the
    control plane's inference profiles."""

    def __init__(
        self,
        clock: Clock,
        table: ModelTable,
        latency: SimulatedLatency | None,
        *,
        region: str,
        log_size: int,
        listener: RequestListener | None = None,
    ) -> None:
        self.cache = PromptCache(clock)
        self.table = table
        self.latency = latency
        self.profiles = InferenceProfiles(table, region)
        self._log_size = log_size
        self._listener = listener
        self._state = _State(deque(maxlen=log_size))
        self._lock = threading.Lock()
        self.handlers: dict[str, Handler] = {
            "Converse": self._converse,
            "ConverseStream": self._converse,
            "CountTokens": self._count_tokens,
            "InvokeModel": self._invoke,
            "InvokeModelWithResponseStream": self._invoke,
            **self.profiles.handlers(),
        }

    # -- test controls ------------------------------------------------------------------------

    def records(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._state.records)

    def totals(self) -> EmulatorTotals:
        with self._lock:
            return self._state.totals

    def reset(self) -> None:
        self.cache.clear()
        self.profiles.clear()
        with self._lock:
            self._state = _State(deque(maxlen=self._log_size))

    def script(self, replies: Iterable[Reply | str]) -> None:
        queued: list[Reply] = []
        for reply in replies:
            if not isinstance(reply, Reply | str):
                raise TypeError(
                    f"script() takes Reply objects or strings, not {type(reply).__name__}; "
                    "build one with Reply.text(...) or Reply.tool_use(...)"
                )
            queued.append(Reply.text(reply) if isinstance(reply, str) else reply)
        with self._lock:
            self._state.script.extend(queued)

    def inject_error(self, code: str, times: int, message: str, operation: str | None) -> None:
        _check_times(times)
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown Bedrock error {code!r}; use one of {sorted(ERROR_STATUS)}")
        if operation is not None and operation not in self.handlers:
            raise ValueError(
                f"unknown operation {operation!r}; use one of {sorted(self.handlers)} "
                "(botocore's operation names), or None for any"
            )
        with self._lock:
            self._state.faults.append(_Fault(code, message, times, operation))

    def inject_stream_error(self, kind: str, after_events: int, times: int, message: str) -> None:
        _check_times(times)
        if kind not in STREAM_EXCEPTIONS:
            raise ValueError(f"unknown stream exception {kind!r}; use one of {STREAM_EXCEPTIONS}")
        if isinstance(after_events, bool) or not isinstance(after_events, int) or after_events < 0:
            raise ValueError(
                f"after_events must be a whole number, 0 or more; got {after_events!r}"
            )
        with self._lock:
            self._state.stream_faults.append(_Fault(kind, message, times, None, after_events))

    # -- dispatch -----------------------------------------------------------------------------

    def handle(self, call: Call) -> Response:
        """Answer one matched request; raises :class:`EmulatedError` for Bedrock errors."""
        try:
            self._raise_injected(call.operation)
            return self.handlers[call.operation](call)
        except EmulatedError as exc:
            model_id = call.params.get("modelId")
            if model_id is not None:
                logger.info("%s %s -> %s", call.operation, model_id, exc.code)
                request = {"modelId": model_id}
                self._record(
                    RecordedRequest(
                        call.operation, model_id, request, error=exc.code, error_message=exc.message
                    )
                )
            raise

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self._state.records.append(record)
            self._state.totals = self._state.totals.add(record)
        if self._listener is not None:
            try:
                self._listener(record)
            except Exception:
                logger.exception("the emulator's request listener failed; the answer is sent")

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

    def spec_of(self, model_id: str) -> ModelSpec:
        """The spec a request's ``modelId`` runs: prefixes, ARNs and this emulator's
        application inference profiles resolve to their base model."""
        base = self.profiles.base_model(model_id) if is_application_profile(model_id) else None
        if base is None and is_application_profile(model_id):
            raise EmulatedError(
                "ResourceNotFoundException",
                f"Inference profile {model_id} does not exist; create it with the bedrock "
                "client's create_inference_profile (emu.control_client()).",
            )
        base = base or split_model_id(model_id)[1]
        spec = self.table.lookup(base)
        if spec is None:
            suggestion = self.table.suggest(base)
            hint = f" Did you mean {suggestion}?" if suggestion else ""
            raise EmulatedError(
                "ResourceNotFoundException",
                f"Model {model_id} is not in the emulator's model table.{hint} Register it with "
                "ModelTable.register_like(...) and pass BedrockEmulator(table=...).",
            )
        return spec

    def _count_tokens(self, call: Call) -> Response:
        model_id = call.params["modelId"]
        body = {**json_body(call.body), "modelId": model_id}
        self.spec_of(model_id)
        counted = {"inputTokens": _input_tokens(body.get("input"), model_id)}
        self._record(RecordedRequest("CountTokens", model_id, body, usage=counted))
        return JsonResponse(counted)

    def _converse(self, call: Call) -> Response:
        request = {**json_body(call.body), "modelId": call.params["modelId"]}
        check_converse(request)
        spec = self.spec_of(request["modelId"])
        answer = self._answer(request, spec)
        record = RecordedRequest(
            call.operation,
            str(request["modelId"]),
            request,
            outcome=answer.outcome,
            usage=answer.usage,
            output=tuple(answer.blocks),
            stop_reason=answer.stop_reason,
        )
        if call.operation == "Converse":
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

    def _invoke(self, call: Call) -> Response:
        """InvokeModel*: the native body through the same cache, answered in its own shape."""
        operation = call.operation
        request = {**json_body(call.body), "modelId": call.params["modelId"]}
        spec = self.spec_of(request["modelId"])
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
        reply = self._next_reply() or forced_tool_reply(request) or default_reply(request)
        blocks, stop_reason = render(reply, request)
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
            raise validation(str(exc)) from exc

    def _next_reply(self) -> Reply | None:
        with self._lock:
            return self._state.script.popleft() if self._state.script else None


def _check_times(times: int) -> None:
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be a whole number, at least 1; got {times!r}")


def _failed(record: RecordedRequest, fault: _Fault) -> RecordedRequest:
    # The metadata event (usage) never reaches the client, so none is recorded as returned.
    return replace(record, usage=None, error=fault.code, error_message=fault.message)


def _layout(request: Mapping[str, Any]) -> Layout:
    try:
        return Layout.of(request)
    except (KeyError, TypeError, AttributeError) as exc:
        raise validation(f"Malformed input request: {type(exc).__name__}") from exc


def _input_tokens(counted: Any, model_id: str) -> int:
    """CountTokens: the Layout total of a Converse input (checkpoints count 0), or an
    InvokeModel body's text estimate."""
    if isinstance(counted, dict) and isinstance(counted.get("converse"), dict):
        converse = {**counted["converse"], "modelId": model_id}
        check_converse(converse)
        return _layout(converse).total_tokens
    if isinstance(counted, dict) and isinstance(counted.get("invokeModel"), dict):
        return text_tokens(_decoded(counted["invokeModel"].get("body", "")))
    raise validation("input must hold 'converse' or 'invokeModel'")


def _decoded(body: Any) -> str:
    try:
        return base64.b64decode(str(body), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        raise validation("invokeModel.body is not base64") from exc
