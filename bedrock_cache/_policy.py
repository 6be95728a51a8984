"""How the planner may use a request's checkpoints (:class:`CachePolicy`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class CachePolicy:
    """How the planner may use a request's checkpoints. Every field has a safe default."""

    cache_tools: bool = True
    """May checkpoint after the tool schemas."""
    cache_system: bool = True
    """May checkpoint after system prompt blocks."""
    cache_documents: bool = True
    """May checkpoint between shared context and the question in the last message."""
    cache_conversation: bool = True
    """May checkpoint message ends: the moving end of a conversation, shared examples."""
    static_ttl: Literal["5m", "1h", "auto"] = "auto"
    """TTLs where the model offers 1h. ``auto`` picks each checkpoint's TTL from the observed
    gaps; ``5m`` never uses 1h; ``1h`` gives the tools and system checkpoints 1h, trusting
    that they recur within the hour."""
    skip_one_off_writes: bool = False
    """Never write a prefix before it has itself been seen (no learning from similar ones)."""
    max_checkpoints: int | None = None
    """Use fewer checkpoints than the model allows (user-placed ones count too)."""

    def __post_init__(self) -> None:
        for name in ("cache_tools", "cache_system", "cache_documents", "cache_conversation"):
            _require_bool(name, getattr(self, name))
        _require_bool("skip_one_off_writes", self.skip_one_off_writes)
        if self.static_ttl not in ("5m", "1h", "auto"):
            raise ValueError(f"static_ttl must be '5m', '1h' or 'auto', not {self.static_ttl!r}")
        limit = self.max_checkpoints
        if limit is not None and (type(limit) is not int or limit < 0):
            raise ValueError(
                f"max_checkpoints must be an int of 0 or more (None: the model's maximum), "
                f"not {limit!r}"
            )


def _require_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"CachePolicy.{name} must be True or False, not {value!r}")
