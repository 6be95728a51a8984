"""`make demo`: the local Bedrock emulator plus real framework apps, with cache stats.

Each app runs twice against a fresh emulator -- with caching and without -- and prints every
call's read / write / uncached / output tokens and cost, then the totals side by side.
Pass ``--real`` to run the same apps on Amazon Bedrock (needs AWS credentials).
"""

from __future__ import annotations

import importlib
from typing import Any

from integrations.shared import AppRun, arguments, connection, print_side_by_side

APPS = [
    "integrations.boto3_support_bot",
    "integrations.langchain.support_bot",
    "integrations.langchain.doc_qa",
    "integrations.langchain.agent",
    "integrations.llama_index.support_bot",
    "integrations.llama_index.doc_qa",
    "integrations.llama_index.agent",
]


def _run(module: Any, real: bool, caching: bool, model: str) -> AppRun:
    with connection(real) as kwargs:
        result: AppRun = module.run(kwargs, caching=caching, model=model)
        return result


def main() -> None:
    args = arguments(__doc__ or "")
    summary: list[tuple[str, float, float, float]] = []
    for name in APPS:
        module = importlib.import_module(name)
        cached = _run(module, args.real, True, args.model)
        uncached = _run(module, args.real, False, args.model)
        print_side_by_side(cached, uncached)
        if cached.total is not None and uncached.total is not None:
            hit = cached.total.token_hit_rate
            summary.append((cached.name, hit, uncached.total.cost, cached.total.cost))
    print("\nSummary (cost in USD, same traffic with and without caching)")
    print(f"{'app':<32} {'hit rate':>9} {'without':>10} {'with':>10} {'change':>7}")
    for name, hit, before, after in summary:
        change = (after - before) / before if before else 0.0
        print(f"{name:<32} {hit:>9.1%} {before:>10.5f} {after:>10.5f} {change:>+7.0%}")


if __name__ == "__main__":
    main()
