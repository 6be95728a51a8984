"""Models and builders the workloads share."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import accumulate

from integrations.shared import AGENT_TOOLS

from ..calls import Call, Message, Tool, assistant, filler, user

SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU_45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_PRO = "us.amazon.nova-pro-v1:0"


def unit(seed: str) -> float:
    """A deterministic number in [0, 1) for ``seed``."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") / 2**64


def between(low: float, high: float, seed: str) -> float:
    return low + (high - low) * unit(seed)


def zipf_choice(count: int, exponent: float, seed: str) -> int:
    """Index in ``range(count)`` drawn with Zipf weights ``1 / (rank + 1) ** exponent``."""
    weights = [1 / (rank + 1) ** exponent for rank in range(count)]
    target = unit(seed) * sum(weights)
    for index, weight in enumerate(weights):
        target -= weight
        if target < 0:
            return index
    return count - 1


def conversation(
    start: float,
    gap: float | Sequence[float],
    system: Sequence[str],
    turns: Sequence[tuple[Message, Message]],
    tools: Sequence[Tool] = (),
) -> list[Call]:
    """One call per turn: the history so far plus the turn's user message. ``gap``: seconds
    between turns, the same for all or one after each turn."""
    if isinstance(gap, (int, float)):
        times = [start + number * gap for number in range(len(turns))]
    else:
        times = list(accumulate(gap, initial=start))[: len(turns)]
    calls: list[Call] = []
    history: list[Message] = []
    for at, (question, answer) in zip(times, turns, strict=True):
        history.append(question)
        calls.append(Call(at, tuple(system), tuple(history), tuple(tools)))
        history.append(answer)
    return calls


def chat_turns(count: int, seed: str, question: int, answer: int) -> list[tuple[Message, Message]]:
    """``count`` plain question/answer turns of about ``question`` / ``answer`` tokens."""
    return [
        (user(filler(question, f"{seed}-q{n}")), assistant(filler(answer, f"{seed}-a{n}")))
        for n in range(count)
    ]


def interleave(*groups: list[Call]) -> list[Call]:
    """Calls of several sources in time order (stable for equal times)."""
    return sorted((call for group in groups for call in group), key=lambda call: call.at)


def agent_tools(count: int = 20) -> tuple[Tool, ...]:
    """The apps' ``count`` lookup tools with realistic schemas (about 120 tokens each)."""
    return tuple(
        Tool(
            name=function.__name__,
            description=f"{function.__doc__ or ''} {filler(40, function.__name__)}",
            schema={
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "customer id or free text"},
                    "limit": {"type": "integer", "description": "most records to return"},
                },
                "required": ["query"],
            },
        )
        for function in AGENT_TOOLS[:count]
    )
