"""Requests and responses of emulated operations; Converse and ConverseStream bodies, shaped as
bedrock-runtime sends them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._eventstream import event_frame, exception_frame

TEXT_CHUNKS = 3
Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One HTTP request, matched to its operation."""

    operation: str
    """botocore's operation name, e.g. ``Converse`` or ``GetInferenceProfile``."""
    params: Mapping[str, str]
    """Path parameters, decoded, e.g. ``modelId`` or ``inferenceProfileIdentifier``."""
    query: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JsonResponse:
    """A complete JSON body (Converse, CountTokens, InvokeModel, the control plane), sent with
    the operation's success status."""

    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamResponse:
    """Binary event-stream frames, sent one chunk each (ConverseStream, InvokeModel streams)."""

    frames: tuple[bytes, ...]
    headers: Mapping[str, str] = field(default_factory=dict)


Response = JsonResponse | StreamResponse
#: Answers one operation; raises ``EmulatedError`` for a Bedrock error.
Handler = Callable[[Call], Response]


def converse_body(
    blocks: Sequence[Mapping[str, Any]], stop_reason: str, usage: Mapping[str, Any], latency_ms: int
) -> dict[str, Any]:
    """The Converse response JSON."""
    return {
        "output": {"message": {"role": "assistant", "content": list(blocks)}},
        "stopReason": stop_reason,
        "usage": dict(usage),
        "metrics": {"latencyMs": latency_ms},
    }


def _chunks(text: str, count: int) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _block_events(index: int, block: Mapping[str, Any]) -> list[Event]:
    # Bedrock sends contentBlockStart only for toolUse blocks; text goes straight to deltas.
    events: list[Event] = []
    if "toolUse" in block:
        call = block["toolUse"]
        start = {"toolUse": {"toolUseId": call["toolUseId"], "name": call["name"]}}
        events.append(("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        arguments = json.dumps(call.get("input", {}), separators=(",", ":"))
        deltas: list[dict[str, Any]] = [
            {"toolUse": {"input": part}} for part in _chunks(arguments, 2)
        ]
    else:
        deltas = [{"text": part} for part in _chunks(str(block.get("text", "")), TEXT_CHUNKS)]
    events += [("contentBlockDelta", {"contentBlockIndex": index, "delta": d}) for d in deltas]
    events.append(("contentBlockStop", {"contentBlockIndex": index}))
    return events


def stream_events(
    blocks: Sequence[Mapping[str, Any]], stop_reason: str, usage: Mapping[str, Any], latency_ms: int
) -> list[Event]:
    """ConverseStream events in Bedrock's order, ending with ``metadata`` (usage, metrics)."""
    events: list[Event] = [("messageStart", {"role": "assistant"})]
    for index, block in enumerate(blocks):
        events += _block_events(index, block)
    events.append(("messageStop", {"stopReason": stop_reason}))
    events.append(("metadata", {"usage": dict(usage), "metrics": {"latencyMs": latency_ms}}))
    return events


def stream_frames(
    events: Sequence[Event], error: tuple[int, str, str] | None = None
) -> tuple[bytes, ...]:
    """Encode events; ``error`` = (events sent first, exception type, message) cuts the stream."""
    if error is None:
        return tuple(event_frame(name, payload) for name, payload in events)
    after, kind, message = error
    sent = [event_frame(name, payload) for name, payload in events[:after]]
    return (*sent, exception_frame(kind, message))
