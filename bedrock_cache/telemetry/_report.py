"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network) drawn
from a trace log -- per-call token bars, hit rate over time, spend against the uncached baseline,
the misses with their causes, and the calls grouped into a run tree.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import Any

from ._tracelog import read_trace_log

#: Stacked segments of a call's input, bottom to top: (record key, label, CSS class).
SEGMENTS = (
    ("cache_read_tokens", "cache read", "read"),
    ("cache_write_5m_tokens", "cache write 5m", "write5m"),
    ("cache_write_1h_tokens", "cache write 1h", "write1h"),
    ("uncached_input_tokens", "uncached input", "uncached"),
)
#: More calls than this are drawn as buckets of consecutive calls.
MAX_BARS = 240
_W, _H = 960, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 14, 34


@dataclass(frozen=True)
class _Call:
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
    def hit_rate(self) -> float:
        total = self.total_input
        return self.tokens("cache_read_tokens") / total if total else 0.0

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


def write_report(
    log: str | os.PathLike[str], out: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Render the trace log at ``log`` into the HTML file ``out``; returns its path."""
    records = list(read_trace_log(log))
    html = render_report(records, title=title or f"Bedrock prompt cache: {Path(log).name}")
    target = Path(out)
    target.write_text(html, encoding="utf-8")
    return target


def render_report(
    records: Iterable[Mapping[str, Any]], *, title: str = "Bedrock prompt cache report"
) -> str:
    """The report page for trace-log ``records`` (oldest first), as one HTML string."""
    calls = [_Call(number, record) for number, record in enumerate(records, 1)]
    if not calls:
        body = '<p class="empty">The trace log has no calls yet.</p>'
    else:
        body = "\n".join(
            [
                _summary(calls),
                _section("Tokens per call", "chart-tokens", _token_chart(calls), _legend()),
                _section("Hit rate over time", "chart-hits", _hit_chart(calls), _hit_legend()),
                _section(
                    "Spend vs. no caching", "chart-spend", _spend_chart(calls), _spend_legend()
                ),
                _section("Misses", "misses", _misses(calls)),
                _section("Run tree", "runs", _run_tree(calls)),
            ]
        )
    style = resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")
    return _PAGE.format(title=escape(title), style=style, body=body)


# -- numbers ------------------------------------------------------------------------------------


def _tokens(n: float) -> str:
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            return f"{n / limit:.1f}".removesuffix(".0") + suffix
    return f"{n:.0f}"


def _usd(x: float) -> str:
    if abs(x) >= 100:
        return f"${x:,.0f}"
    if abs(x) >= 1:
        return f"${x:,.2f}"
    return f"${x:.4f}"


def _tick_usd(x: float) -> str:
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return f"${text}"


def _percent(x: float) -> str:
    return f"{x:.0%}" if x in (0.0, 1.0) else f"{x:.1%}"


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


# -- page parts ---------------------------------------------------------------------------------


def _summary(calls: Sequence[_Call]) -> str:
    read = sum(c.tokens("cache_read_tokens") for c in calls)
    total = sum(c.total_input for c in calls)
    cost = sum(c.usd("cost_usd") for c in calls)
    baseline = sum(c.usd("cost_without_cache_usd") for c in calls)
    saved = baseline - cost
    misses = sum(c.miss is not None for c in calls)
    with_read = sum(c.tokens("cache_read_tokens") > 0 for c in calls)
    models = sorted({c.model for c in calls})
    cards = [
        ("Calls", f"{len(calls):,}", _period(calls[0].time, calls[-1].time)),
        (
            "Token hit rate",
            _percent(read / total if total else 0.0),
            f"{_tokens(read)} of {_tokens(total)} input tokens read from cache",
        ),
        ("Request hit rate", _percent(with_read / len(calls)), f"{with_read} calls read the cache"),
        ("Spend", _usd(cost), f"{_usd(baseline)} without caching"),
        ("Saved", _usd(saved), _percent(saved / baseline) + " of the baseline" if baseline else ""),
        ("Misses", f"{misses:,}", "calls that did not read what they could"),
    ]
    html = "".join(
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div><div class="note">{escape(note)}</div></div>'
        for label, value, note in cards
    )
    model_list = ", ".join(escape(m) for m in models)
    return (
        f'<section id="summary"><div class="cards">{html}</div>'
        f'<p class="models">Models: {model_list}</p></section>'
    )


def _period(first: str, last: str) -> str:
    """``2026-11-26 10:09:33 to 10:12:04 UTC`` from two ISO times (the date once if shared)."""
    start, end = first[:19].replace("T", " "), last[:19].replace("T", " ")
    if start[:10] == end[:10]:
        end = end[11:]
    return f"{start} to {end} UTC"


def _section(title: str, anchor: str, content: str, legend: str = "") -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{legend}{content}</section>'


def _legend() -> str:
    items = "".join(
        f'<span><i class="swatch {css}"></i>{escape(label)}</span>' for _, label, css in SEGMENTS
    )
    return f'<div class="legend">{items}</div>'


def _hit_legend() -> str:
    return (
        '<div class="legend"><span><i class="swatch line-call"></i>each call</span>'
        '<span><i class="swatch line-cumulative"></i>cumulative</span></div>'
    )


def _spend_legend() -> str:
    return (
        '<div class="legend"><span><i class="swatch line-cost"></i>with caching</span>'
        '<span><i class="swatch line-baseline"></i>without caching</span>'
        '<span><i class="swatch area-saved"></i>saved</span></div>'
    )


# -- charts -------------------------------------------------------------------------------------


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


def _buckets(calls: Sequence[_Call]) -> tuple[int, list[list[_Call]]]:
    per = max(1, -(-len(calls) // MAX_BARS))
    return per, [list(calls[i : i + per]) for i in range(0, len(calls), per)]


def _token_chart(calls: Sequence[_Call]) -> str:
    per, buckets = _buckets(calls)
    left, top, width, height = _plot_box()
    totals = [sum(c.total_input for c in bucket) for bucket in buckets]
    top_value, steps = _scale(max(totals))
    slot = width / len(buckets)
    bar = max(1.0, slot * 0.78)
    parts = [_y_axis(top_value, steps, _tokens)]
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


def _sums(buckets: Sequence[Sequence[_Call]], value: Callable[[_Call], float]) -> list[float]:
    return [sum(value(call) for call in bucket) for bucket in buckets]


def _ratios(parts: Iterable[float], wholes: Iterable[float]) -> list[float]:
    return [part / whole if whole else 0.0 for part, whole in zip(parts, wholes, strict=True)]


def _hit_chart(calls: Sequence[_Call]) -> str:
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
        f"{bucket[0].number}: {_percent(1 - (y - top) / height)} read from cache</title></circle>"
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


def _spend_chart(calls: Sequence[_Call]) -> str:
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
        f'text-anchor="end">{escape(_usd(baselines[-1]))} without caching</text>',
        f'<text class="end-label cost" x="{left + width - 4}" y="{cost_points[-1][1] + 16:.1f}" '
        f'text-anchor="end">{escape(_usd(costs[-1]))} spent, {escape(_usd(saved))} saved</text>',
        _x_axis(len(buckets), calls[0].number, per),
    ]
    return _svg("spend", "".join(parts), "Cumulative dollars, with caching and without")


# -- tables -------------------------------------------------------------------------------------


def _where(miss: Mapping[str, Any]) -> str:
    parts = []
    if miss.get("section") is not None:
        parts.append(str(miss["section"]))
    if miss.get("block") is not None:
        parts.append(f"block {miss['block']}")
    if miss.get("offset") is not None:
        parts.append(f"char {miss['offset']}")
    return ", ".join(parts) or "—"


def _misses(calls: Sequence[_Call]) -> str:
    rows = []
    for call in calls:
        miss = call.miss
        if miss is None:
            continue
        idle = miss.get("idle_seconds")
        written = call.tokens("cache_write_5m_tokens") + call.tokens("cache_write_1h_tokens")
        rows.append(
            "<tr>"
            f'<td class="num">{call.number}</td><td>{escape(call.time[11:23])}</td>'
            f'<td class="model" title="{escape(call.model)}">'
            f"{escape(_short_model(call.model))}</td>"
            f'<td><span class="cause">{escape(str(miss.get("cause") or "unexplained"))}</span></td>'
            f'<td class="where">{escape(_where(miss))}</td>'
            f'<td class="num">{"—" if idle is None else f"{float(idle):,.0f}s"}</td>'
            f'<td class="num">{_tokens(written)}</td>'
            f"<td>{escape(str(miss.get('message') or ''))}</td>"
            "</tr>"
        )
    if not rows:
        return '<p class="empty">No misses: every call read what its plan expected.</p>'
    head = (
        "<tr><th>#</th><th>time (UTC)</th><th>model</th><th>cause</th><th>where</th>"
        "<th>idle</th><th>written</th><th>explanation</th></tr>"
    )
    return f'<table class="misses"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _short_model(model: str) -> str:
    """``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` reads ``claude-sonnet-4-5-20250929``."""
    name = model.rsplit("/", 1)[-1]
    name = re.sub(r"^(?:[a-z]{2,6}\.)?[a-z0-9-]+\.(?=[a-z])", "", name)
    return re.sub(r"-v\d+(?::\d+)?$", "", name) or model


# -- run tree -----------------------------------------------------------------------------------


@dataclass
class _Node:
    name: str
    kind: str
    children: dict[str, _Node] = field(default_factory=dict)
    calls: list[_Call] = field(default_factory=list)

    def child(self, key: str, name: str, kind: str) -> _Node:
        if key not in self.children:
            self.children[key] = _Node(name, kind)
        return self.children[key]

    def all_calls(self) -> list[_Call]:
        found = list(self.calls)
        for child in self.children.values():
            found += child.all_calls()
        return found


def _group(call: _Call, shared_otel: set[str]) -> tuple[str, str]:
    """The trace a call belongs to: LangSmith's, the LangGraph thread, or an OpenTelemetry trace
    that holds more than this call (a span the cache started for the call alone is no group)."""
    ids = call.ids
    if ids.get("trace_id"):
        path = ids.get("path") or []
        name = str(path[0]) if ids.get("source") == "langsmith" and path else "trace"
        return f"trace:{ids['trace_id']}", f"{name} · {str(ids['trace_id'])[:8]}"
    if ids.get("thread_id"):
        return f"thread:{ids['thread_id']}", f"thread {ids['thread_id']}"
    otel = str(ids.get("otel_trace_id", ""))
    if otel in shared_otel:
        return f"otel:{otel}", f"trace · {otel[:8]}"
    return "none", "calls outside any trace"


def _tree(calls: Sequence[_Call]) -> _Node:
    root = _Node("root", "root")
    seen: dict[str, int] = {}
    for call in calls:
        otel = str(call.ids.get("otel_trace_id", ""))
        seen[otel] = seen.get(otel, 0) + 1
    shared_otel = {trace for trace, count in seen.items() if trace and count > 1}
    for call in calls:
        key, label = _group(call, shared_otel)
        node = root.child(key, label, "trace")
        path = [str(p) for p in (call.ids.get("path") or [])]
        if call.ids.get("source") == "langsmith":
            path = path[1:]  # the root run names the trace
        for depth, name in enumerate(path):
            last = depth == len(path) - 1
            run_id = str(call.ids.get("run_id", "")) if last else ""
            node = node.child(f"{name}:{run_id}", name, "run")
        node.calls.append(call)
    return root


def _stats(calls: Sequence[_Call]) -> str:
    read = sum(c.tokens("cache_read_tokens") for c in calls)
    total = sum(c.total_input for c in calls)
    rate = read / total if total else 0.0
    cost = sum(c.usd("cost_usd") for c in calls)
    count = f"{len(calls)} call{'s' if len(calls) != 1 else ''}"
    return (
        f'<span class="meta">{count} · {_tokens(total)} in · {_percent(rate)} read · '
        f'{escape(_usd(cost))}</span><span class="hitbar"><i style="width:{rate * 100:.1f}%">'
        "</i></span>"
    )


def _render_node(node: _Node) -> str:
    calls = node.all_calls()
    inner = "".join(_render_node(child) for child in node.children.values())
    inner += "".join(_render_call(call) for call in node.calls)
    return (
        f'<details class="node {node.kind}" open><summary><span class="kind">{node.kind}</span>'
        f'<span class="name">{escape(node.name)}</span>{_stats(calls)}</summary>'
        f'<div class="children">{inner}</div></details>'
    )


def _render_call(call: _Call) -> str:
    miss = call.miss
    badge = (
        f'<span class="badge miss">{escape(str(miss.get("cause") or "miss"))}</span>'
        if miss is not None
        else ""
    )
    return (
        f'<div class="leaf"><span class="kind llm">llm</span><span class="name" '
        f'title="{escape(call.model)}">#{call.number} chat {escape(_short_model(call.model))}'
        f"</span>{badge}"
        f'<span class="time">{escape(call.time[11:23])}</span>{_stats([call])}</div>'
    )


def _run_tree(calls: Sequence[_Call]) -> str:
    root = _tree(calls)
    return (
        '<div class="tree">' + "".join(_render_node(n) for n in root.children.values()) + "</div>"
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header><h1>{title}</h1></header>
<main>
{body}
</main>
</body>
</html>
"""
