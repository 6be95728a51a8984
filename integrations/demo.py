"""`make demo`: the local Bedrock emulator plus real framework apps, with cache stats.

Each app runs twice against a fresh emulator -- with caching and without -- and prints every
call's read / write / uncached / output tokens and cost, then the totals side by side.
Pass ``--real`` to run the same apps on Amazon Bedrock (needs AWS credentials).
"""

from __future__ import annotations

import importlib

from integrations.shared import arguments, print_side_by_side, run_once

APPS = [
    "integrations.boto3_support_bot",
    "integrations.langchain.support_bot",
    "integrations.langchain.support_bot_invoke",
    "integrations.langchain.doc_qa",
    "integrations.langchain.agent",
    "integrations.llama_index.support_bot",
    "integrations.llama_index.doc_qa",
    "integrations.llama_index.agent",
]


def main() -> None:
    args = arguments(__doc__ or "")
    summary: list[tuple[str, float, float, float]] = []
    for name in APPS:
        module = importlib.import_module(name)
        cached = run_once(module.run, real=args.real, caching=True, model=args.model)
        uncached = run_once(module.run, real=args.real, caching=False, model=args.model)
        print_side_by_side(cached, uncached)
        hit = cached.total.token_hit_rate
        summary.append((cached.name, hit, uncached.total.cost, cached.total.cost))
    print("\nSummary (cost in USD, same traffic with and without caching)")
    print(f"{'app':<32} {'hit rate':>9} {'without':>10} {'with':>10} {'change':>7}")
    for name, hit, before, after in summary:
        change = (after - before) / before if before else 0.0
        print(f"{name:<32} {hit:>9.1%} {before:>10.5f} {after:>10.5f} {change:>+7.0%}")


if __name__ == "__main__":
    main()
