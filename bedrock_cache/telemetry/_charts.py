"""The report's charts as inline SVG: tokens per call, hit rate over time, spend vs. baseline.

Each chart has one slot per call, or per bucket of consecutive calls past :data:`MAX_BARS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from html import escape
from itertools import accumulate
from typing import Any

from ._calls import SEGMENTS, Call, percent_text, tokens_text, usd_text

#: More calls than this are drawn as buckets of consecutive calls.
MAX_BARS = 240
_W, _H = 960, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 14, 34


def legend(items: Iterable[tuple[str, str]]) -> str:
    """A row of (CSS class, label) swatches above a chart."""
    spans = "".join(
        f'<span><i class="swatch {css}"></i>{escape(label)}</span>' for css, label in items
    )
    return f'<div class="legend">{spans}</div>'


TOKEN_LEGEND = [(css, label) for _, label, css in SEGMENTS]
HIT_LEGEND = [("line-call", "each call"), ("line-cumulative", "cumulative")]
SPEND_LEGEND = [
    ("line-cost", "with caching"),
    ("line-baseline", "without caching"),
    ("area-saved", "saved"),
]


def _tick_usd(x: float) -> str:
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return f"${text}"


def _scale(value: float) -> tuple[float, int]:
    """An axis top at or above ``value`` and its number of gridline steps (at most 5), each a
    round number (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0, 4
    rough = value / 5
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= rough)
    steps = max(1, math.ceil(value / step - 1e-9))
    return step * steps, steps


def _svg(name: str, content: str, caption: str) -> str:
    return (
        f'<figure><svg class="chart {name}" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{escape(caption)}">{content}</svg>'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _plot_box() -> tuple[float, float, float, float]:
    return _LEFT, _TOP, _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM


def _y_axis(top_value: float, steps: int, label: Any) -> str:
    left, top, width, height = _plot_box()
    parts = []
    for i in range(steps + 1):
        value = top_value * i / steps
        y = top + height - height * i / steps
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(label(value))}</text>"
        )
    return "".join(parts)


def _x_axis(count: int, first: int, per_slot: int) -> str:
    """Call-number ticks under ``count`` slots whose first slot starts at call ``first``."""
    left, top, width, height = _plot_box()
    step = max(1, round(count / 8))
    parts = []
    for slot in range(0, count, step):
        x = left + width * (slot + 0.5) / count
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{top + height + 18}" text-anchor="middle">'
            f"{first + slot * per_slot}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="{left + width}" y="{_H - 2}" text-anchor="end">call</text>'
    )
    return "".join(parts)


def _buckets(calls: Sequence[Call]) -> tuple[int, list[list[Call]]]:
    per = max(1, -(-len(calls) // MAX_BARS))
    return per, [list(calls[i : i + per]) for i in range(0, len(calls), per)]


def token_chart(calls: Sequence[Call]) -> str:
    per, buckets = _buckets(calls)
    left, top, width, height = _plot_box()
    totals = [sum(c.total_input for c in bucket) for bucket in buckets]
    top_value, steps = _scale(max(totals))
    slot = width / len(buckets)
    bar = max(1.0, slot * 0.78)
    parts = [_y_axis(top_value, steps, tokens_text)]
    for index, bucket in enumerate(buckets):
        x = left + slot * index + (slot - bar) / 2
        y = top + height
        label = f"call {bucket[0].number}" + (f" to {bucket[-1].number}" if per > 1 else "")
        for key, name, css in SEGMENTS:
            value = sum(c.tokens(key) for c in bucket)
            if not value:
                continue
            h = height * value / top_value
            y -= h
            parts.append(
                f'<rect class="seg {css}" x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" '
                f'height="{max(h, 0.5):.2f}"><title>{escape(label)}: {value:,} {name}</title>'
                "</rect>"
            )
    parts.append(_x_axis(len(buckets), calls[0].number, per))
    caption = "Input tokens of each call by how Bedrock billed them"
    if per > 1:
        caption += f" ({per} consecutive calls per bar)"
    return _svg("tokens", "".join(parts), caption)


def _line(points: Sequence[tuple[float, float]], css: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="{css}" points="{coords}"/>'


def _xs(count: int) -> list[float]:
    left, _, width, _ = _plot_box()
    return [left + width * (i + 0.5) / count for i in range(count)]


def _sums(buckets: Sequence[Sequence[Call]], value: Callable[[Call], float]) -> list[float]:
    return [sum(value(call) for call in bucket) for bucket in buckets]


def _ratios(parts: Iterable[float], wholes: Iterable[float]) -> list[float]:
    return [part / whole if whole else 0.0 for part, whole in zip(parts, wholes, strict=True)]


def hit_chart(calls: Sequence[Call]) -> str:
    per, buckets = _buckets(calls)
    _, top, _, height = _plot_box()
    xs = _xs(len(buckets))
    reads = _sums(buckets, lambda c: c.tokens("cache_read_tokens"))
    totals = _sums(buckets, lambda c: c.total_input)
    cumulative_rates = _ratios(accumulate(reads), accumulate(totals))
    each = [(x, top + height * (1 - r)) for x, r in zip(xs, _ratios(reads, totals), strict=True)]
    cumulative = [(x, top + height * (1 - r)) for x, r in zip(xs, cumulative_rates, strict=True)]
    dots = "".join(
        f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>call '
        f"{bucket[0].number}: {percent_text(1 - (y - top) / height)} read from cache</title>"
        "</circle>"
        for (x, y), bucket in zip(each, buckets, strict=True)
    )
    parts = [
        _y_axis(1.0, 4, lambda v: f"{v:.0%}"),
        _line(each, "line-call"),
        _line(cumulative, "line-cumulative"),
        dots,
        _x_axis(len(buckets), calls[0].number, per),
    ]
    return _svg("hits", "".join(parts), "Share of input tokens read from the cache")


def spend_chart(calls: Sequence[Call]) -> str:
    per, buckets = _buckets(calls)
    left, top, width, height = _plot_box()
    xs = _xs(len(buckets))
    costs = list(accumulate(_sums(buckets, lambda c: c.usd("cost_usd"))))
    baselines = list(accumulate(_sums(buckets, lambda c: c.usd("cost_without_cache_usd"))))
    top_value, steps = _scale(max(max(baselines), max(costs)))

    def y(value: float) -> float:
        return top + height * (1 - value / top_value)

    cost_points = [(x, y(v)) for x, v in zip(xs, costs, strict=True)]
    base_points = [(x, y(v)) for x, v in zip(xs, baselines, strict=True)]
    area = " ".join(f"{x:.1f},{py:.1f}" for x, py in base_points + cost_points[::-1])
    saved = baselines[-1] - costs[-1]
    parts = [
        _y_axis(top_value, steps, _tick_usd),
        f'<polygon class="area-saved" points="{area}"/>',
        _line(base_points, "line-baseline"),
        _line(cost_points, "line-cost"),
        f'<text class="end-label" x="{left + width - 4}" y="{base_points[-1][1] - 8:.1f}" '
        f'text-anchor="end">{escape(usd_text(baselines[-1]))} without caching</text>',
        f'<text class="end-label cost" x="{left + width - 4}" y="{cost_points[-1][1] + 16:.1f}" '
        f'text-anchor="end">{escape(usd_text(costs[-1]))} spent, '
        f"{escape(usd_text(saved))} saved</text>",
        _x_axis(len(buckets), calls[0].number, per),
    ]
    return _svg("spend", "".join(parts), "Cumulative dollars, with caching and without")
