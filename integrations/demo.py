"""`make demo`: the local Bedrock emulator plus real framework apps, with cache stats.

Each app runs twice against a fresh emulator -- with caching and without -- and prints every
call's read / write / uncached / output tokens and cost, then the totals side by side.
Pass ``--real`` to run the same apps on Amazon Bedrock (needs AWS credentials).
"""

from __future__ import annotations

import importlib

from bedrock_cache import ResolvedModel, resolve_model
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


LEGEND = [
    ("read", "input read from the cache (billed at the cache-read price)"),
    ("write", "input written to the cache (billed at the cache-write price)"),
    ("uncached", "input billed at the full input price"),
    ("output", "tokens the model generated"),
    ("cost $", "what the call cost, in USD"),
]


def usd_per_million(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.4g}"


def print_intro(model: ResolvedModel, real: bool) -> None:
    """Where the calls go, which model and prices are used, and how to read the tables."""
    if real:
        print("Running on Amazon Bedrock with your AWS credentials: these calls are billed.")
    else:
        print(
            "Running on the local Bedrock emulator (127.0.0.1) with Bedrock's caching rules: "
            "no AWS call is made and nothing is billed."
        )
    p = model.spec.prices
    factor = model.price_multiplier
    print(
        f"Model {model.requested_id} (base model {model.spec.model_id}); prices in USD per 1M "
        f"tokens: input {usd_per_million(p.input)}, output {usd_per_million(p.output)}, "
        f"cache read {usd_per_million(p.cache_read)}, "
        f"cache write {usd_per_million(p.cache_write_5m)}"
        + (f", times {factor:g} for this profile." if factor != 1 else ".")
    )
    print("Each app runs twice on the same traffic, with caching and without. Per call, in tokens:")
    for column, meaning in LEGEND:
        print(f"  {column:<9} {meaning}")


def main() -> None:
    args = arguments(__doc__ or "")
    print_intro(resolve_model(args.model), args.real)
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
    print(
        "hit rate: input tokens read from the cache / all input tokens, over the cached run. "
        "'without' and 'with' are each app's total USD cost."
    )


if __name__ == "__main__":
    main()
