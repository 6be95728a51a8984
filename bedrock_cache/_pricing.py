"""What a call cost, what it would have cost without caching, and workload estimates."""

from __future__ import annotations

from dataclasses import dataclass

from ._frozen import one_step_init
from ._models import ModelSpec, ResolvedModel
from ._usage import CacheUsage

PER_TOKEN = 1e-6  # prices are per one million tokens


@one_step_init
@dataclass(frozen=True)
class Cost:
    """Dollars of one usage, by kind, and against the same tokens without caching."""

    uncached_input: float
    cache_read: float
    cache_write: float
    output: float
    without_cache: float

    @property
    def total(self) -> float:
        return self.uncached_input + self.cache_read + self.cache_write + self.output

    @property
    def saved(self) -> float:
        """Negative when caching cost more (a write that was never read)."""
        return self.without_cache - self.total

    def as_dict(self) -> dict[str, float]:
        return {
            "cost_usd": round(self.total, 6),
            "cost_without_cache_usd": round(self.without_cache, 6),
            "saved_usd": round(self.saved, 6),
        }


def cost_of(usage: CacheUsage, model: ResolvedModel | ModelSpec) -> Cost:
    """Price ``usage`` on ``model`` (a resolved id carries the profile price multiplier).

    Missing cache prices fall back to the input price (no discount, no premium).
    """
    spec = model.spec if isinstance(model, ResolvedModel) else model
    factor = (model.price_multiplier if isinstance(model, ResolvedModel) else 1.0) * PER_TOKEN
    prices = spec.prices
    read = prices.cache_read if prices.cache_read is not None else prices.input
    write_5m = prices.cache_write_5m if prices.cache_write_5m is not None else prices.input
    write_1h = prices.cache_write_1h if prices.cache_write_1h is not None else write_5m
    return Cost(
        uncached_input=usage.uncached_input * prices.input * factor,
        cache_read=usage.cache_read * read * factor,
        cache_write=(usage.cache_write_5m * write_5m + usage.cache_write_1h * write_1h) * factor,
        output=usage.output * prices.output * factor,
        without_cache=(usage.total_input * prices.input + usage.output * prices.output) * factor,
    )


@dataclass(frozen=True)
class Workload:
    """A steady workload: every request repeats the same cached prefix.

    ``cache_writes`` is how many requests write the prefix (first call, and after each expiry);
    every other request reads it.
    """

    requests: int
    cached_prefix_tokens: int
    uncached_tokens: int
    output_tokens: int
    cache_writes: int = 1
    write_ttl: str = "5m"

    def __post_init__(self) -> None:
        counts = {
            "requests": self.requests,
            "cached_prefix_tokens": self.cached_prefix_tokens,
            "uncached_tokens": self.uncached_tokens,
            "output_tokens": self.output_tokens,
            "cache_writes": self.cache_writes,
        }
        for name, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Workload.{name} must be a whole number >= 0, not {value!r}")
        if self.write_ttl not in ("5m", "1h"):
            raise ValueError(f"Workload.write_ttl must be '5m' or '1h', not {self.write_ttl!r}")
        if self.cache_writes > self.requests:
            raise ValueError(
                f"Workload.cache_writes ({self.cache_writes}) cannot exceed requests "
                f"({self.requests}): each write is one request"
            )
        if self.requests and self.cached_prefix_tokens and not self.cache_writes:
            raise ValueError(
                "Workload.cache_writes must be at least 1 when a prefix is cached: the first "
                "request writes it"
            )

    def usage(self) -> CacheUsage:
        """The workload's total usage with the prefix cached."""
        writes = min(self.cache_writes, self.requests)
        written = writes * self.cached_prefix_tokens
        return CacheUsage(
            cache_read=(self.requests - writes) * self.cached_prefix_tokens,
            cache_write_5m=written if self.write_ttl == "5m" else 0,
            cache_write_1h=written if self.write_ttl == "1h" else 0,
            uncached_input=self.requests * self.uncached_tokens,
            output=self.requests * self.output_tokens,
        )


def estimate(workload: Workload, model: ResolvedModel | ModelSpec) -> Cost:
    """Cost of a workload with caching, and without (``Cost.without_cache``)."""
    return cost_of(workload.usage(), model)
