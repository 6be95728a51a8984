"""``bedrock-cache calibrate``: measure a model's caching rules on an account, write a table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._calibrate import calibrate, max_probes, override_toml, worst_case_cost
from ._models import ModelSpec, Prices, default_table

DEFAULT_OUTPUT = "bedrock-cache-models.toml"
DEFAULT_MAX_TOKENS = 8192
MAX_MAX_TOKENS = 200_000


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "calibrate",
        help="measure a model's caching rules on your AWS account (costs a little; asks first)",
        description=(
            "Send a bounded set of small Converse probes to MODEL and measure its minimum "
            "cacheable prefix (tokens), whether the minimum applies per segment or to the whole "
            "prefix, how many blocks a checkpoint looks back, whether the cachePoint 'ttl' field "
            "and '1h' are accepted, and whether tool schemas can be cached. Writes a model-table "
            "file (the models.toml format) that the plugin then uses. Prints the worst-case cost "
            "of the probes (USD) and asks before sending any, unless --yes. Uses your usual AWS "
            "credentials."
        ),
    )
    parser.add_argument("--model", required=True, help="model or inference profile id to measure")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration's)")
    parser.add_argument("--endpoint-url", help="bedrock-runtime endpoint (default: AWS's)")
    parser.add_argument(
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"model-table file to write (default: {DEFAULT_OUTPUT}; overwritten)",
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        help=f"largest prefix a probe sends, in tokens (default: {DEFAULT_MAX_TOKENS:,}; "
        "above every known minimum)",
    )
    parser.add_argument(
        "--input-price",
        type=float,
        help="USD per 1M input tokens, for a model the table does not know "
        "(default: the table's price)",
    )
    parser.add_argument(
        "--output-price",
        type=float,
        help="USD per 1M output tokens, for a model the table does not know "
        "(default: the table's price)",
    )
    parser.add_argument(
        "--yes", action="store_true", help="do not ask before spending (default: ask)"
    )
    parser.set_defaults(run=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if not 256 <= args.max_tokens <= MAX_MAX_TOKENS:
        parser.error(f"--max-tokens must be between 256 and {MAX_MAX_TOKENS:,}")
    for name in ("input_price", "output_price"):
        value = getattr(args, name)
        if value is not None and value < 0:
            parser.error(f"--{name.replace('_', '-')} must be a USD amount >= 0")
    output = Path(args.output)
    if not output.parent.is_dir():
        parser.error(f"--output: directory {str(output.parent)!r} does not exist")

    table = default_table()
    model = table.resolve(args.model)
    known = _known(model.spec.model_id)
    prices = _prices(known, args.input_price, args.output_price)
    budget = worst_case_cost(args.max_tokens, _worst(prices, known))
    print(
        f"Calibrating {args.model}: at most {max_probes(args.max_tokens)} probes, each with at "
        f"most {2 * args.max_tokens:,} input tokens; worst case ${budget:.2f}"
        + ("" if known else " (priced like the dearest model in the table: this one is unknown)")
        + "."
    )
    if not args.yes and not _confirm(f"Spend up to ${budget:.2f} on these probes? [y/N] "):
        print("Nothing was sent. Rerun with --yes to skip this question.", file=sys.stderr)
        return 1

    import boto3

    client = boto3.client(
        "bedrock-runtime", region_name=args.region, endpoint_url=args.endpoint_url
    )
    result = calibrate(
        client, args.model, max_tokens=args.max_tokens, progress=lambda line: print(line)
    )
    where = args.endpoint_url or f"Amazon Bedrock ({client.meta.region_name})"
    output.write_text(override_toml(result, model, known, prices, where), "utf-8")
    spent = result.cost(prices)
    print(f"{len(result.probes)} probes, about ${spent:.4f}. Wrote {output}: use it with")
    print(f"  BEDROCK_CACHE_MODELS={output}")
    print(f"  or bedrock_cache.default_table().load({str(output)!r})")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _known(base_id: str) -> ModelSpec | None:
    return next((s for s in default_table().models() if s.model_id == base_id), None)


def _prices(known: ModelSpec | None, input_price: float | None, output: float | None) -> Prices:
    base = known.prices if known else Prices(input=0.0, output=0.0)
    return Prices(
        input=base.input if input_price is None else input_price,
        output=base.output if output is None else output,
        cache_read=base.cache_read,
        cache_write_5m=base.cache_write_5m,
        cache_write_1h=base.cache_write_1h,
    )


def _worst(prices: Prices, known: ModelSpec | None) -> Prices:
    """For an unknown model without prices: the dearest rates in the table."""
    if known is not None or prices.input:
        return prices
    specs = [s.prices for s in default_table().models()]
    return Prices(
        input=max(p.input for p in specs),
        output=max(p.output for p in specs),
        cache_write_1h=max((p.cache_write_1h or 0.0) for p in specs),
        cache_write_5m=max((p.cache_write_5m or 0.0) for p in specs),
    )


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print("Not asking: standard input is not a terminal.", file=sys.stderr)
        return False
    return input(question).strip().lower() in ("y", "yes")
