"""Caching strategies, each driven through a real library against the emulator.

A strategy opens a :data:`Sender` on one emulator; ``send(call, caching)`` makes one model call
the way a user of that library would (``caching=False``: the same library with its caching off,
the fallback after a rejected request). A library that cannot be installed or pointed at the
emulator raises :class:`Unavailable`; it is reported, never imitated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..calls import Call

Sender = Callable[[Call, bool], None]


class Unavailable(Exception):
    """The strategy cannot run here; the message says why."""


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    open: Callable[[Any, str], Sender]
    """``open(emulator, model_id)``: a sender bound to that emulator."""


def strategies() -> tuple[Strategy, ...]:
    """Every strategy, in report order: the required ones first, then our knobs."""
    from . import langchain, litellm, llama_index, pydantic_ai, strands

    return (
        langchain.NONE,
        langchain.OURS,
        langchain.LANGCHAIN_AWS,
        langchain.LANGCHAIN_AWS_MIDDLEWARE,
        llama_index.LLAMA_INDEX,
        litellm.LITELLM,
        strands.STRANDS,
        pydantic_ai.PYDANTIC_AI,
        *langchain.OURS_KNOBS,
    )


__all__ = ["Sender", "Strategy", "Unavailable", "strategies"]
