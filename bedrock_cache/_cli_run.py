"""``bedrock-cache run -- COMMAND``: run an unchanged Python app with every Bedrock call planned."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from importlib import resources
from typing import Any

ENV_QUIET = "BEDROCK_CACHE_RUN_QUIET"


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "run",
        help="run a Python app with every bedrock-runtime call planned and counted",
        description=(
            "Run COMMAND (a Python program) as if its first line were "
            "bedrock_cache.instrument_all(): every Converse / ConverseStream call of every boto3 "
            "bedrock-runtime client is planned and counted, and the totals (tokens, hit rate, "
            "USD) are printed to stderr at exit. Works through PYTHONPATH (a sitecustomize "
            "module), like opentelemetry-instrument; the app's own sitecustomize still runs."
        ),
        epilog="example: bedrock-cache run -- python app.py --port 8000",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print the totals at exit (default: print)"
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="the program and its arguments, after --"
    )
    parser.set_defaults(run=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        args.parser.error(
            "give the program to run after --, e.g. bedrock-cache run -- python app.py"
        )
    program = shutil.which(command[0])
    if program is None:
        args.parser.error(f"program not found: {command[0]!r}")
    bootstrap = str(resources.files("bedrock_cache").joinpath("_bootstrap"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (bootstrap, env.get("PYTHONPATH")) if p)
    if args.quiet:
        env[ENV_QUIET] = "1"
    sys.stdout.flush()
    os.execve(program, command, env)
    return 0  # pragma: no cover - execve does not return
