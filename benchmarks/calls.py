"""The framework-neutral shape of a workload: timed calls of system blocks, tools and messages.

Every strategy turns the same :class:`Call` list into its own framework's objects, so all of them
send the same conversations at the same simulated times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Tool:
    """A tool the model may call: name, description and JSON schema of its input."""

    name: str
    description: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class ToolResult:
    id: str
    text: str


@dataclass(frozen=True)
class Message:
    """One conversation message: text blocks, then (assistant) tool calls or (user) results."""

    role: Role
    texts: tuple[str, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


@dataclass(frozen=True)
class Call:
    """One model call at ``at`` seconds after the workload starts."""

    at: float
    system: tuple[str, ...]
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None
    """``None`` (the model decides), ``"any"``, or a tool name the model must call."""
    thinking: int | None = None
    """Extended-thinking budget in tokens; ``None``: thinking off."""


@dataclass(frozen=True)
class Workload:
    """A named, deterministic list of calls to one model."""

    name: str
    model: str
    description: str
    build: Callable[[], list[Call]] = field(repr=False)

    def calls(self) -> list[Call]:
        calls = self.build()
        times = [call.at for call in calls]
        if times != sorted(times):
            raise ValueError(f"{self.name}: calls must be in time order")
        return calls


def user(*texts: str, results: Sequence[ToolResult] = ()) -> Message:
    return Message("user", tuple(texts), tool_results=tuple(results))


def assistant(*texts: str, calls: Sequence[ToolCall] = ()) -> Message:
    return Message("assistant", tuple(texts), tool_calls=tuple(calls))


_WORDS = [
    "account",
    "policy",
    "refund",
    "shipment",
    "invoice",
    "warranty",
    "customer",
    "order",
    "device",
    "region",
    "storage",
    "folder",
    "quota",
    "session",
    "upgrade",
    "billing",
    "credit",
    "ticket",
    "outage",
    "backup",
    "replica",
    "archive",
    "export",
    "import",
    "token",
    "limit",
    "window",
    "retention",
    "audit",
    "schedule",
    "priority",
    "escalation",
    "partner",
    "contract",
    "renewal",
    "discount",
    "voucher",
    "delivery",
    "courier",
    "address",
    "contact",
    "language",
    "timezone",
    "format",
]


def filler(tokens: int, seed: str) -> str:
    """Deterministic prose of about ``tokens`` tokens (4 characters a token), unique to ``seed``."""
    words: list[str] = []
    size = 0
    counter = 0
    while size < tokens * 4:
        digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        for byte in digest[:8]:
            word = _WORDS[byte % len(_WORDS)]
            words.append(word)
            size += len(word) + 1
        counter += 1
    text = " ".join(words)
    return text[: tokens * 4 - 1] + "."


def to_converse(call: Call, model: str) -> dict[str, Any]:
    """The Converse request of ``call`` as plain boto3 would send it (no checkpoints)."""
    request: dict[str, Any] = {
        "modelId": model,
        "messages": [_converse_message(m) for m in call.messages],
    }
    if call.system:
        request["system"] = [{"text": text} for text in call.system]
    if call.tools:
        config: dict[str, Any] = {
            "tools": [
                {
                    "toolSpec": {
                        "name": t.name,
                        "description": t.description,
                        "inputSchema": {"json": dict(t.schema)},
                    }
                }
                for t in call.tools
            ]
        }
        if call.tool_choice == "any":
            config["toolChoice"] = {"any": {}}
        elif call.tool_choice:
            config["toolChoice"] = {"tool": {"name": call.tool_choice}}
        request["toolConfig"] = config
    if call.thinking:
        request["additionalModelRequestFields"] = {
            "thinking": {"type": "enabled", "budget_tokens": call.thinking}
        }
    return request


def _converse_message(message: Message) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"text": text} for text in message.texts]
    content += [
        {"toolUse": {"toolUseId": c.id, "name": c.name, "input": dict(c.arguments)}}
        for c in message.tool_calls
    ]
    content += [
        {"toolResult": {"toolUseId": r.id, "content": [{"text": r.text}]}}
        for r in message.tool_results
    ]
    return {"role": message.role, "content": content}
