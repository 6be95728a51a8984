"""``bedrock-cache lint FILE``: what in these requests will make the cache miss."""

from __future__ import annotations

import argparse
import json
import sys

from ._inputs import InputError, read_records, requests_of
from ._lint import RULES, lint, observed_misses


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = "; ".join(f"{rule} {name} ({severity})" for rule, (name, severity) in RULES.items())
    parser = commands.add_parser(
        "lint",
        help="find what will make Bedrock's prompt cache miss in a file of Converse requests",
        description=(
            "Lint Converse requests for prompt-cache misses. Exit status: 1 when any warning "
            f"or error is found, 0 otherwise, 2 on bad input. Rules: {rules}."
        ),
    )
    parser.add_argument(
        "file",
        metavar="FILE",
        help="a JSON array or JSON Lines of Converse requests (boto3 keyword form), in the "
        "order sent, or a trace log (its recorded misses, and its requests if it holds them)",
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--monthly-requests",
        type=int,
        default=None,
        metavar="N",
        help="requests per month, to price each finding in USD (default: not priced)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        records = read_records(args.file)
        requests = requests_of(records)
        if not requests and not any("miss" in record for record in records):
            raise InputError(
                f"{args.file} holds no Converse requests and no trace-log records: give a JSON "
                "array or JSON Lines of requests (modelId, system, messages, toolConfig), or a "
                "trace log"
            )
        findings = lint(requests, monthly_requests=args.monthly_requests)
        findings += observed_misses(records)
    except (InputError, ValueError) as exc:
        print(f"bedrock-cache lint: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([finding.as_dict() for finding in findings], indent=2))
    else:
        for finding in findings:
            print(finding)
        print(f"{len(records)} records, {len(requests)} requests, {len(findings)} findings")
    return 1 if any(f.severity in ("error", "warning") for f in findings) else 0
