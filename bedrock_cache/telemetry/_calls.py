"""One trace-log line as the report reads it, and how the report writes its numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Stacked segments of a call's input, bottom to top: (record key, label, CSS class).
SEGMENTS = (
    ("cache_read_tokens", "cache read", "read"),
    ("cache_write_5m_tokens", "cache write 5m", "write5m"),
    ("cache_write_1h_tokens", "cache write 1h", "write1h"),
    ("uncached_input_tokens", "uncached input", "uncached"),
)


@dataclass(frozen=True)
class Call:
    """The ``number``-th call of a log and its record (missing numbers read as 0)."""

    number: int
    record: Mapping[str, Any]

    def tokens(self, key: str) -> int:
        value = self.record.get(key)
        return int(value) if isinstance(value, int | float) else 0

    def usd(self, key: str) -> float:
        value = self.record.get(key)
        return float(value) if isinstance(value, int | float) else 0.0

    @property
    def total_input(self) -> int:
        return sum(self.tokens(key) for key, _, _ in SEGMENTS)

    @property
    def time(self) -> str:
        return str(self.record.get("time", ""))

    @property
    def model(self) -> str:
        return str(self.record.get("model_id", "?"))

    @property
    def ids(self) -> Mapping[str, Any]:
        ids = self.record.get("ids")
        return ids if isinstance(ids, Mapping) else {}

    @property
    def miss(self) -> Mapping[str, Any] | None:
        """The logged miss explanation; without one, a call that read nothing counts as a miss."""
        if "miss" in self.record:
            miss = self.record["miss"]
            return miss if isinstance(miss, Mapping) else None
        if self.total_input and not self.tokens("cache_read_tokens"):
            return {"message": "read nothing from the cache (this log carries no miss cause)"}
        return None


def tokens_text(n: float) -> str:
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            return f"{n / limit:.1f}".removesuffix(".0") + suffix
    return f"{n:.0f}"


def usd_text(x: float) -> str:
    if abs(x) >= 100:
        return f"${x:,.0f}"
    if abs(x) >= 1:
        return f"${x:,.2f}"
    return f"${x:.4f}"


def percent_text(x: float) -> str:
    return f"{x:.0%}" if x in (0.0, 1.0) else f"{x:.1%}"


def short_model(model: str) -> str:
    """``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` reads ``claude-sonnet-4-5-20250929``."""
    name = model.rsplit("/", 1)[-1]
    name = re.sub(r"^(?:[a-z]{2,6}\.)?[a-z0-9-]+\.(?=[a-z])", "", name)
    return re.sub(r"-v\d+(?::\d+)?$", "", name) or model
