"""Where a call sits in the app's traces: ids read from whatever tracing is live, never guessed.

Each source is optional and read from its context variable at call time: an OpenTelemetry span,
a LangSmith run tree, a LangChain runnable config, a LlamaIndex instrumentation span. Nothing is
imported unless the library is already loaded, so an app that does not use it pays nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

#: One call's ids where a source knows them: ``trace_id``/``run_id`` (LangSmith, LangChain,
#: LlamaIndex), ``thread_id`` (LangGraph), ``otel_trace_id``/``otel_span_id`` (the call's span),
#: and ``path``, the names of the enclosing runs from the root down (the report's run tree).
Ids = dict[str, Any]


def current_ids() -> Ids:
    """The ids of the call running in this context, from every live source (may be empty)."""
    ids: Ids = {}
    for source in (_langsmith, _langchain, _llama_index, _opentelemetry):
        try:
            found = source()
        except Exception:  # a tracing library's internals moved: no ids from it
            continue
        for key, value in found.items():
            ids.setdefault(key, value)
    return ids


def _loaded(module: str) -> Any:
    return sys.modules.get(module)


def _opentelemetry() -> Ids:
    trace = _loaded("opentelemetry.trace")
    if trace is None:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "otel_trace_id": format(context.trace_id, "032x"),
        "otel_span_id": format(context.span_id, "016x"),
    }


def _langsmith() -> Ids:
    helpers = _loaded("langsmith.run_helpers")
    run = helpers.get_current_run_tree() if helpers is not None else None
    if run is None:
        return {}
    path: list[str] = []
    node = run
    while node is not None and len(path) < 32:
        path.append(str(node.name))
        node = getattr(node, "parent_run", None)
    return {
        "trace_id": str(run.trace_id),
        "run_id": str(run.id),
        "path": path[::-1],
        "source": "langsmith",
    }


def _langchain() -> Ids:
    config_module = _loaded("langchain_core.runnables.config")
    if config_module is None:
        return {}
    config = config_module.var_child_runnable_config.get()
    if not config:
        return {}
    ids: Ids = {}
    parent = getattr(config.get("callbacks"), "parent_run_id", None)
    if parent is not None:
        ids["run_id"] = str(parent)
    metadata = config.get("metadata") or {}
    thread = metadata.get("thread_id") or (config.get("configurable") or {}).get("thread_id")
    if thread is not None:
        ids["thread_id"] = str(thread)
    node = metadata.get("langgraph_node")
    if node is not None:
        ids["path"] = [str(config.get("run_name") or "graph"), str(node)]
        ids["source"] = "langchain"
    return ids


def _llama_index() -> Ids:
    span = _loaded("llama_index_instrumentation.span")
    active: Callable[[], str | None] | None = getattr(
        getattr(span, "active_span_id", None), "get", None
    )
    span_id = active() if active is not None else None
    if not span_id:
        return {}
    # Span ids read "<Class.method>-<uuid>": the name is what a run tree shows.
    name = span_id.rsplit("-", 5)[0]
    return {"run_id": span_id, "path": [name], "source": "llama_index"}
