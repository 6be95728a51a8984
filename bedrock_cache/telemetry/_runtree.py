"""The run tree: calls grouped by trace (LangSmith, a LangGraph thread, a shared OpenTelemetry
trace), then by the runs they ran in, in the style of LangSmith's trace view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from ._calls import Call, percent_text, short_model, tokens_text, usd_text


@dataclass
class _Node:
    name: str
    kind: str
    children: dict[str, _Node] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def child(self, key: str, name: str, kind: str) -> _Node:
        if key not in self.children:
            self.children[key] = _Node(name, kind)
        return self.children[key]

    def all_calls(self) -> list[Call]:
        found = list(self.calls)
        for child in self.children.values():
            found += child.all_calls()
        return found


def _group(call: Call, shared_otel: set[str]) -> tuple[str, str]:
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


def _tree(calls: Sequence[Call]) -> _Node:
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


def _stats(calls: Sequence[Call]) -> str:
    read = sum(c.tokens("cache_read_tokens") for c in calls)
    total = sum(c.total_input for c in calls)
    rate = read / total if total else 0.0
    cost = sum(c.usd("cost_usd") for c in calls)
    count = f"{len(calls)} call{'s' if len(calls) != 1 else ''}"
    return (
        f'<span class="meta">{count} · {tokens_text(total)} in · {percent_text(rate)} read · '
        f'{escape(usd_text(cost))}</span><span class="hitbar"><i style="width:{rate * 100:.1f}%">'
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


def _render_call(call: Call) -> str:
    miss = call.miss
    badge = (
        f'<span class="badge miss">{escape(str(miss.get("cause") or "miss"))}</span>'
        if miss is not None
        else ""
    )
    return (
        f'<div class="leaf"><span class="kind llm">llm</span><span class="name" '
        f'title="{escape(call.model)}">#{call.number} chat {escape(short_model(call.model))}'
        f"</span>{badge}"
        f'<span class="time">{escape(call.time[11:23])}</span>{_stats([call])}</div>'
    )


def run_tree(calls: Sequence[Call]) -> str:
    root = _tree(calls)
    return (
        '<div class="tree">' + "".join(_render_node(n) for n in root.children.values()) + "</div>"
    )
