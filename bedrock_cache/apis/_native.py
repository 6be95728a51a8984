"""An InvokeModel body read as the Converse-shaped request the layout, planner and rules use.

Each native content block becomes one Converse block, and each native cache marker (Anthropic
``cache_control``, Nova ``cachePoint``) becomes a ``cachePoint`` block right after it. So the
:class:`~bedrock_cache.Layout` of :attr:`NativeRequest.converse` has the same blocks, sizes,
fingerprints and checkpoints Bedrock sees, and :attr:`NativeRequest.origins` says where each of
its blocks lives in the native body, which is where a planned checkpoint is written back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._layout import Section
from .._models import TTL

Api = Literal["anthropic", "nova"]


class NativeBodyError(ValueError):
    """An InvokeModel body this model's API does not accept (Bedrock: ``ValidationException``)."""


@dataclass(frozen=True)
class Origin:
    """Where one Converse block of the mirror came from in the native body."""

    section: Section
    message: int
    """Index of the message; -1 in tools and system."""
    index: int
    """Index in the native list (tools, system or the message's content)."""


#: Writes checkpoints after the given blocks (``(layout block index, ttl)``) into a body copy.
Placer = Callable[
    [Mapping[str, Any], Sequence[Origin], Sequence[tuple[int, TTL | None]]], dict[str, Any]
]


@dataclass(frozen=True)
class NativeRequest:
    """One InvokeModel body and its Converse-shaped mirror."""

    api: Api
    body: Mapping[str, Any]
    """The body as the caller built it (never modified)."""
    converse: dict[str, Any]
    """Converse keyword arguments with the same blocks and checkpoints, for ``Layout.of``."""
    origins: tuple[Origin, ...]
    """Per layout block (in prefix order), its place in :attr:`body`."""
    placer: Placer

    def with_checkpoints(self, points: Sequence[tuple[int, TTL | None]]) -> dict[str, Any]:
        """A copy of the body with a cache marker after each given layout block.

        ``points`` are ``(block index, ttl)`` pairs as the planner returns them; ``None`` or
        ``"5m"`` is the default TTL and writes no ``ttl`` field.
        """
        return self.placer(self.body, self.origins, points)


def require(condition: bool, message: str) -> None:
    """Reject the body with Bedrock's wording for malformed input unless ``condition``."""
    if not condition:
        raise NativeBodyError(f"Malformed input request: {message}, please reformat your input")


def list_of_objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    require(isinstance(value, list), f"{where} must be an array")
    require(all(isinstance(item, Mapping) for item in value), f"{where} must hold objects")
    return list(value)
