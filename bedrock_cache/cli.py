"""``bedrock-cache``: the command line.

Each subcommand is one ``_add_<name>`` function that registers its parser and sets
``run=<function(args) -> exit code>``; add a new one to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from . import _cli_calibrate, _cli_models, _cli_run, _estimate_cli
from .diagnostics import _lint_cli
from .emulator import _cli as _emulator_cli
from .telemetry import _report_cli

#: Subcommand registrars, in help order.
COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _emulator_cli.add_parser,
    _estimate_cli.add_parser,
    _lint_cli.add_parser,
    _report_cli.add_parser,
    _cli_models.add_parser,
    _cli_calibrate.add_parser,
    _cli_run.add_parser,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``bedrock-cache`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="bedrock-cache", description="Amazon Bedrock prompt caching tools."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bedrock-cache``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
