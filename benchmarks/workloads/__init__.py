"""The benchmark's workloads, one small module each; :data:`WORKLOADS` in report order."""

from __future__ import annotations

from ..calls import Workload
from . import (
    agent_tools,
    bursty_batch,
    context_in_system,
    doc_corpus,
    doc_qa,
    docs_in_system,
    few_shot,
    haiku_chat,
    long_chat_pause,
    multi_tenant,
    nova_agent,
    nova_long_chat,
    one_off,
    plan_execute,
    prefill_chat,
    prompt_deploys,
    rag_chat,
    resumed_chats,
    sliding_window,
    sparse,
    stamped_questions,
    support_chat,
    timestamp,
    timestamp_first,
    tool_choice,
    wide_turns,
)

WORKLOADS: tuple[Workload, ...] = (
    support_chat.WORKLOAD,
    doc_qa.WORKLOAD,
    rag_chat.WORKLOAD,
    agent_tools.WORKLOAD,
    wide_turns.WORKLOAD,
    few_shot.WORKLOAD,
    sparse.WORKLOAD,
    one_off.WORKLOAD,
    multi_tenant.WORKLOAD,
    nova_long_chat.WORKLOAD,
    timestamp.WORKLOAD,
    tool_choice.WORKLOAD,
    resumed_chats.WORKLOAD,
    bursty_batch.WORKLOAD,
    doc_corpus.WORKLOAD,
    nova_agent.WORKLOAD,
    haiku_chat.WORKLOAD,
    prompt_deploys.WORKLOAD,
    sliding_window.WORKLOAD,
    prefill_chat.WORKLOAD,
    timestamp_first.WORKLOAD,
    docs_in_system.WORKLOAD,
    context_in_system.WORKLOAD,
    stamped_questions.WORKLOAD,
    long_chat_pause.WORKLOAD,
    plan_execute.WORKLOAD,
)


def workload(name: str) -> Workload:
    for candidate in WORKLOADS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no workload {name!r}; choose from {[w.name for w in WORKLOADS]}")


__all__ = ["WORKLOADS", "Workload", "workload"]
