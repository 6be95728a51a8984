"""``bedrock-cache report LOG -o report.html``: a trace log as one self-contained HTML page."""

from __future__ import annotations

import argparse
import sys

from ._tracelog import TRACE_LOG_ENV


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "report",
        help="render a trace log as one self-contained HTML page",
        description=(
            "Per-call token bars, hit rate over time, spend vs. no caching, misses with their "
            f"causes and a run tree, from a trace log (BedrockCache(trace_log=...) or "
            f"{TRACE_LOG_ENV}). The page needs no network."
        ),
    )
    parser.add_argument("log", help="the trace log (JSON lines); its .1 rollover is read too")
    parser.add_argument(
        "-o", "--output", default="bedrock-cache-report.html", help="HTML file to write"
    )
    parser.add_argument("--title", default=None, help="page title (default: from the log name)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ._report import write_report

    try:
        path = write_report(args.log, args.output, title=args.title)
    except FileNotFoundError as exc:
        print(f"bedrock-cache report: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"bedrock-cache report: cannot write {args.output}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
