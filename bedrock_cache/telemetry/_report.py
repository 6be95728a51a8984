"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network) drawn
from a trace log -- per-call token bars, hit rate over time, spend against the uncached baseline,
the misses with their causes, and the calls grouped into a run tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from ._calls import Call, percent_text, short_model, tokens_text, usd_text
from ._charts import (
    HIT_LEGEND,
    SPEND_LEGEND,
    TOKEN_LEGEND,
    hit_chart,
    legend,
    spend_chart,
    token_chart,
)
from ._runtree import run_tree
from ._tracelog import read_trace_log


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
    calls = [Call(number, record) for number, record in enumerate(records, 1)]
    if not calls:
        body = '<p class="empty">The trace log has no calls yet.</p>'
    else:
        body = "\n".join(
            [
                _summary(calls),
                _section(
                    "Tokens per call", "chart-tokens", token_chart(calls), legend(TOKEN_LEGEND)
                ),
                _section("Hit rate over time", "chart-hits", hit_chart(calls), legend(HIT_LEGEND)),
                _section(
                    "Spend vs. no caching", "chart-spend", spend_chart(calls), legend(SPEND_LEGEND)
                ),
                _section("Misses", "misses", _misses(calls)),
                _section("Run tree", "runs", run_tree(calls)),
            ]
        )
    style = resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")
    return _PAGE.format(title=escape(title), style=style, body=body)


def _summary(calls: Sequence[Call]) -> str:
    read = sum(c.tokens("cache_read_tokens") for c in calls)
    total = sum(c.total_input for c in calls)
    cost = sum(c.usd("cost_usd") for c in calls)
    baseline = sum(c.usd("cost_without_cache_usd") for c in calls)
    saved = baseline - cost
    causes = [str(c.miss.get("cause")) for c in calls if c.miss is not None]
    first = causes.count("first_seen")  # a cold start: nothing earlier could have been read
    misses = len(causes) - first
    with_read = sum(c.tokens("cache_read_tokens") > 0 for c in calls)
    models = sorted({c.model for c in calls})
    cards = [
        ("Calls", f"{len(calls):,}", _period(calls[0].time, calls[-1].time)),
        (
            "Token hit rate",
            percent_text(read / total if total else 0.0),
            f"{tokens_text(read)} of {tokens_text(total)} input tokens read from cache",
        ),
        (
            "Request hit rate",
            percent_text(with_read / len(calls)),
            f"{with_read} calls read the cache",
        ),
        ("Spend", usd_text(cost), f"{usd_text(baseline)} without caching"),
        (
            "Saved",
            usd_text(saved),
            percent_text(saved / baseline) + " of the baseline" if baseline else "",
        ),
        ("Misses", f"{misses:,}", f"calls that did not read what they could (+{first} first seen)"),
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


def _where(miss: Mapping[str, Any]) -> str:
    parts = []
    if miss.get("section") is not None:
        parts.append(str(miss["section"]))
    if miss.get("block") is not None:
        parts.append(f"block {miss['block']}")
    if miss.get("offset") is not None:
        parts.append(f"char {miss['offset']}")
    return ", ".join(parts) or "—"


def _misses(calls: Sequence[Call]) -> str:
    """One row per miss; the model column only when the log has several models."""
    several = len({call.model for call in calls}) > 1
    rows = []
    for call in calls:
        miss = call.miss
        if miss is None:
            continue
        idle = miss.get("idle_seconds")
        written = call.tokens("cache_write_5m_tokens") + call.tokens("cache_write_1h_tokens")
        model = (
            f'<td class="model" title="{escape(call.model)}">{escape(short_model(call.model))}</td>'
            if several
            else ""
        )
        rows.append(
            "<tr>"
            f'<td class="num">{call.number}</td><td>{escape(call.time[11:19])}</td>{model}'
            f'<td><span class="cause">{escape(str(miss.get("cause") or "unexplained"))}</span></td>'
            f'<td class="where">{escape(_where(miss))}</td>'
            f'<td class="num">{"—" if idle is None else f"{float(idle):,.0f}s"}</td>'
            f'<td class="num">{tokens_text(written)}</td>'
            f'<td class="why">{escape(str(miss.get("message") or ""))}</td>'
            "</tr>"
        )
    if not rows:
        return '<p class="empty">No misses: every call read what its plan expected.</p>'
    head = (
        "<tr><th>#</th><th>time (UTC)</th>"
        + ("<th>model</th>" if several else "")
        + "<th>cause</th><th>where</th><th>idle</th><th>written</th><th>explanation</th></tr>"
    )
    return f'<table class="misses"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


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
