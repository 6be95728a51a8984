"""InvokeModel on an instrumented boto3 client: plan the native body, read the usage back.

The JSON body is read into its Converse-shaped mirror and planned like a Converse request; the
planned checkpoints are written back as the body's own markers, and the body is re-serialized
only when something was added. A body that is not JSON, or not a shape this package maps, goes
out untouched. The response body is read once and handed back as an identical fresh stream; a
stream's usage is recorded once, at the chunk carrying ``amazon-bedrock-invocationMetrics``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._faults import fault
from .._usage import (
    INVOCATION_METRICS,
    CacheUsage,
    _int,
    usage_from_anthropic,
    usage_from_invocation_metrics,
    usage_from_native,
    usage_from_nova,
)
from ._native import NativeBodyError
from ._read import read_native

if TYPE_CHECKING:
    from .._session import BedrockCache, PreparedRequest

INVOKE_OPERATIONS = ("InvokeModel", "InvokeModelWithResponseStream")

#: Counts one call's usage and puts its report into the given response dict.
Recorder = Callable[[CacheUsage, dict[str, Any]], None]


def plan_invoke(
    cache: BedrockCache, params: dict[str, Any], base_model_hint: str | None = None
) -> PreparedRequest | None:
    """Plan an ``invoke_model*`` call's body in place; the plan, or ``None`` for a body this
    package does not map (left as it is)."""
    raw = params.get("body")
    if not isinstance(raw, str | bytes | bytearray):
        return None  # a file-like body is the caller's to stream; leave it alone
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    model_id = str(params.get("modelId", ""))
    family = cache.resolve(model_id, base_model_hint).spec.family
    try:
        native = read_native(body, model_id, family)
    except NativeBodyError:
        return None
    prepared: PreparedRequest = cache.prepare(native.converse, base_model_hint=base_model_hint)
    points = [(cp.after, cp.ttl) for cp in prepared.plan.checkpoints]
    if points:
        text = json.dumps(native.with_checkpoints(points))
        params["body"] = text if isinstance(raw, str) else text.encode()
    return prepared


def tap_invoke_response(parsed: dict[str, Any], record: Recorder) -> None:
    """Record the usage of an ``invoke_model*`` response without changing what the caller reads."""
    body: Any = parsed.get("body")
    if hasattr(body, "read"):
        from botocore.response import StreamingBody

        raw = body.read()
        parsed["body"] = StreamingBody(io.BytesIO(raw), len(raw))
        record(usage_from_native(json.loads(raw).get("usage") or {}), parsed)
    elif body is not None:
        parsed["body"] = _ChunkTap(body, record)


class _ChunkTap:
    """Passes a response stream's events through; records usage once from its chunks.

    Anthropic: input usage (with writes by TTL) in ``message_start``, output in
    ``message_delta``; Nova: ``metadata.usage``. The invocation metrics fill any gap.
    """

    def __init__(self, stream: Any, record: Recorder) -> None:
        self._stream = stream
        self._record = record
        self._usage: CacheUsage | None = None
        self._output: int | None = None
        self._done = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for event in self._stream:
            if not self._done:
                try:
                    self._observe(event)
                except Exception as exc:
                    self._done = True  # once per stream, and the stream goes on untouched
                    fault("could not record a stream's usage; the stream is unaffected", exc)
            yield event

    def _observe(self, event: dict[str, Any]) -> None:
        chunk = event.get("chunk")
        if not isinstance(chunk, Mapping) or "bytes" not in chunk:
            return
        payload = json.loads(chunk["bytes"])
        if not isinstance(payload, Mapping):
            return
        if payload.get("type") == "message_start":
            self._usage = usage_from_anthropic((payload.get("message") or {}).get("usage") or {})
        elif payload.get("type") == "message_delta":
            self._output = _int(payload.get("usage") or {}, "output_tokens")
        elif isinstance(payload.get("metadata"), Mapping):
            self._usage = usage_from_nova(payload["metadata"].get("usage") or {})
        metrics = payload.get(INVOCATION_METRICS)
        if isinstance(metrics, Mapping):
            self._done = True
            self._record(self._final(metrics), event)

    def _final(self, metrics: Mapping[str, Any]) -> CacheUsage:
        if self._usage is None:
            return usage_from_invocation_metrics(metrics)
        if self._output is not None:
            return replace(self._usage, output=self._output)
        return self._usage

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
