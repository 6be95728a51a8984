"""``bedrock-cache models``: what the model table knows, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._models import ModelSpec, default_table

PRICE_HELP = "prices are USD per 1M tokens, on-demand, global endpoint"


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "models",
        help="list the models the table knows: caching rules and prices",
        description=(
            "Every model in the model table (the shipped one plus your overrides): whether it "
            "caches, the minimum prefix in tokens a checkpoint needs, the accepted cache TTLs, "
            f"whether tool schemas can be cached, and prices ({PRICE_HELP}). Ids are base "
            "model ids; the us./eu./apac./jp./au./global. profile prefixes resolve to them."
        ),
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON (one object per model) instead of a table"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    specs = sorted(default_table().models(), key=lambda s: (s.family, s.model_id))
    if args.json:
        print(json.dumps([as_dict(spec) for spec in specs], indent=2))
        return 0
    rows = [_row(spec) for spec in specs]
    headers = (
        "model id",
        "family",
        "caching",
        "min tokens",
        "TTLs",
        "tools",
        "input",
        "output",
        "read",
        "write 5m",
        "write 1h",
    )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    numeric = {3, 6, 7, 8, 9, 10}
    for row in [headers, *rows]:
        cells = [
            str(cell).rjust(w) if i in numeric else str(cell).ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    print(
        f"\n{len(specs)} models; {PRICE_HELP}. min tokens: the prefix a checkpoint needs "
        "before Bedrock writes a cache entry."
    )
    return 0


def as_dict(spec: ModelSpec) -> dict[str, Any]:
    """One model as plain JSON data (tokens as integers, prices in USD per 1M tokens)."""
    prices = spec.prices
    return {
        "id": spec.model_id,
        "family": spec.family,
        "caching": spec.supports_caching,
        "min_tokens": spec.min_tokens,
        "min_tokens_mode": spec.min_tokens_mode,
        "max_checkpoints": spec.max_checkpoints,
        "ttls": list(spec.ttls),
        "tools_cacheable": spec.tools_cacheable,
        "lookback_blocks": spec.lookback_blocks,
        "prices_usd_per_million_tokens": {
            "input": prices.input,
            "output": prices.output,
            "cache_read": prices.cache_read,
            "cache_write_5m": prices.cache_write_5m,
            "cache_write_1h": prices.cache_write_1h,
        },
    }


def _row(spec: ModelSpec) -> tuple[str, ...]:
    def price(value: float | None) -> str:
        return "-" if value is None else f"{value:.5f}".rstrip("0").rstrip(".")

    caching = spec.supports_caching
    p = spec.prices
    return (
        spec.model_id,
        spec.family,
        "yes" if caching else "no",
        f"{spec.min_tokens:,}" if caching else "-",
        ", ".join(spec.ttls) if caching else "-",
        ("yes" if spec.tools_cacheable else "no") if caching else "-",
        price(p.input),
        price(p.output),
        price(p.cache_read),
        price(p.cache_write_5m),
        price(p.cache_write_1h),
    )
