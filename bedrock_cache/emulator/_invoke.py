"""InvokeModel and InvokeModelWithResponseStream: native bodies in, native answers out.

The body is read into its Converse-shaped mirror (:mod:`bedrock_cache.apis`), so the same cache
and rules decide what is read and written; the answer goes back in the model's own shape:
Anthropic Messages (``usage`` with ``cache_read_input_tokens`` / ``cache_creation_input_tokens``
/ ``cache_creation``) or Nova ``messages-v1`` (``cacheReadInputTokenCount`` /
``cacheWriteInputTokenCount``), with Bedrock's token-count headers, and for streams ``chunk``
events whose base64 ``bytes`` hold the model's own stream events.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._models import ModelSpec
from .._usage import INVOCATION_METRICS
from ..apis import NativeBodyError, NativeRequest, read_native
from ._cache import CacheOutcome
from ._errors import EmulatedError
from ._eventstream import event_frame, exception_frame
from ._responder import Event, JsonResponse, StreamResponse, stream_events


def read_invoke(request: Mapping[str, Any], spec: ModelSpec) -> NativeRequest:
    """The request's native body and its mirror; Bedrock's ``ValidationException`` if malformed.
    The mirror keeps each marker's ``ttl`` key, so the shared rules judge it as in Converse."""
    body = {key: value for key, value in request.items() if key != "modelId"}
    try:
        return read_native(body, str(request["modelId"]), spec.family)
    except NativeBodyError as exc:
        raise EmulatedError("ValidationException", str(exc)) from exc


@dataclass(frozen=True)
class InvokeAnswer:
    """One emulated answer, ready to be shaped as the model's own response."""

    native: NativeRequest
    spec: ModelSpec
    blocks: Sequence[Mapping[str, Any]]
    """The answer as Converse content blocks."""
    stop_reason: str
    outcome: CacheOutcome
    output_tokens: int
    latency_ms: int

    def usage(self) -> dict[str, Any]:
        """The body's ``usage`` in the model's own field names."""
        o = self.outcome
        if self.native.api == "nova":
            return {
                "inputTokens": o.uncached_input,
                "outputTokens": self.output_tokens,
                "totalTokens": o.total_input + self.output_tokens,
                "cacheReadInputTokenCount": o.cache_read,
                "cacheWriteInputTokenCount": o.cache_write,
            }
        by_ttl = dict(o.write_by_ttl)
        return {
            "input_tokens": o.uncached_input,
            "cache_creation_input_tokens": o.cache_write,
            "cache_read_input_tokens": o.cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": by_ttl.get("5m", 0),
                "ephemeral_1h_input_tokens": by_ttl.get("1h", 0),
            },
            "output_tokens": self.output_tokens,
        }

    def headers(self) -> dict[str, str]:
        """Bedrock's token-count headers (input: the uncached part, as in the body)."""
        return {
            "X-Amzn-Bedrock-Input-Token-Count": str(self.outcome.uncached_input),
            "X-Amzn-Bedrock-Output-Token-Count": str(self.output_tokens),
            "X-Amzn-Bedrock-Invocation-Latency": str(self.latency_ms),
            "X-Amzn-Bedrock-Cache-Read-Input-Token-Count": str(self.outcome.cache_read),
            "X-Amzn-Bedrock-Cache-Write-Input-Token-Count": str(self.outcome.cache_write),
        }

    def metrics(self) -> dict[str, int]:
        """The stream's closing ``amazon-bedrock-invocationMetrics``."""
        return {
            "inputTokenCount": self.outcome.uncached_input,
            "outputTokenCount": self.output_tokens,
            "invocationLatency": self.latency_ms,
            "firstByteLatency": self.latency_ms,
            "cacheReadInputTokenCount": self.outcome.cache_read,
            "cacheWriteInputTokenCount": self.outcome.cache_write,
        }

    def response(self) -> JsonResponse:
        """The InvokeModel response: the body JSON and the headers."""
        if self.native.api == "nova":
            body: dict[str, Any] = {
                "output": {"message": {"role": "assistant", "content": list(self.blocks)}},
                "stopReason": self.stop_reason,
                "usage": self.usage(),
            }
        else:
            body = {**self._message(), "content": [_anthropic_block(b) for b in self.blocks]}
            body["stop_reason"] = self.stop_reason
        return JsonResponse(body, self.headers())

    def stream(self, cut: tuple[int, str, str] | None = None) -> StreamResponse:
        """The stream's ``chunk`` frames; ``cut`` = (chunks sent first, exception, message)."""
        events = list(self._nova_events() if self.native.api == "nova" else self._claude_events())
        frames = [_chunk_frame(event) for event in events]
        if cut is not None:
            after, kind, message = cut
            frames = [*frames[: min(after, len(frames))], exception_frame(kind, message)]
        return StreamResponse(tuple(frames), {"X-Amzn-Bedrock-Content-Type": "application/json"})

    def _converse_events(self) -> list[Event]:
        return stream_events(self.blocks, self.stop_reason, {}, self.latency_ms)

    def _nova_events(self) -> Iterator[dict[str, Any]]:
        for name, payload in self._converse_events():
            if name == "metadata":
                yield {"metadata": {"usage": self.usage()}, INVOCATION_METRICS: self.metrics()}
            else:
                yield {name: payload}

    def _message(self) -> dict[str, Any]:
        return {
            "id": "msg_bdrk_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": self.spec.model_id.removeprefix("anthropic."),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self.usage(),
        }

    def _claude_events(self) -> Iterator[dict[str, Any]]:
        """Anthropic's stream events, from the same chunking as ConverseStream."""
        started: set[int] = set()
        for name, payload in self._converse_events():
            index = payload.get("contentBlockIndex", 0)
            if name == "messageStart":
                message = self._message()
                message["usage"] = {**message["usage"], "output_tokens": 1}
                yield {"type": "message_start", "message": message}
            elif name == "contentBlockStart":
                started.add(index)
                block = _anthropic_block(payload["start"])
                yield {"type": "content_block_start", "index": index, "content_block": block}
            elif name == "contentBlockDelta":
                if index not in started:
                    started.add(index)
                    block = {"type": "text", "text": ""}
                    yield {"type": "content_block_start", "index": index, "content_block": block}
                yield {"type": "content_block_delta", "index": index, "delta": _delta(payload)}
            elif name == "contentBlockStop":
                yield {"type": "content_block_stop", "index": index}
            elif name == "messageStop":
                delta = {"stop_reason": self.stop_reason, "stop_sequence": None}
                yield {"type": "message_delta", "delta": delta, "usage": self.usage()}
            else:
                yield {"type": "message_stop", INVOCATION_METRICS: self.metrics()}


def _anthropic_block(block: Mapping[str, Any]) -> dict[str, Any]:
    if "toolUse" in block:
        call = block["toolUse"]
        return {
            "type": "tool_use",
            "id": call.get("toolUseId"),
            "name": call["name"],
            "input": call.get("input", {}),
        }
    return {"type": "text", "text": str(block.get("text", ""))}


def _delta(payload: Mapping[str, Any]) -> dict[str, Any]:
    delta = payload["delta"]
    if "toolUse" in delta:
        return {"type": "input_json_delta", "partial_json": delta["toolUse"]["input"]}
    return {"type": "text_delta", "text": delta.get("text", "")}


def _chunk_frame(event: Mapping[str, Any]) -> bytes:
    raw = json.dumps(event, separators=(",", ":")).encode()
    return event_frame("chunk", {"bytes": base64.b64encode(raw).decode()})
