"""What the LangChain and LlamaIndex apps share: prompts, a small corpus, plain tool functions,
the connection settings (emulator by default, real Bedrock with ``--real``) and the stats table."""

from __future__ import annotations

import argparse
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bedrock_cache import BedrockCache, CachePolicy, CallReport, StatsSnapshot
from bedrock_cache.emulator import BedrockEmulator, Reply

DEFAULT_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REGION = "us-east-1"

_POLICY_AREAS = [
    "returns",
    "shipping",
    "warranty",
    "billing",
    "accounts",
    "privacy",
    "outages",
    "upgrades",
    "refunds",
    "escalation",
]


def support_system_prompt(tokens: int = 4_000) -> str:
    """A fixed support-assistant system prompt of about ``tokens`` tokens (no dates, no ids)."""
    lines = [
        "You are the support assistant of Acme Cloud Storage. Answer briefly and politely.",
        "Follow the policies below exactly; never invent a policy that is not listed.",
    ]
    number = 0
    while sum(len(line) for line in lines) < tokens * 4:
        area = _POLICY_AREAS[number % len(_POLICY_AREAS)]
        lines.append(
            f"Policy {number + 1} ({area}): when a customer asks about {area}, confirm the "
            f"account, explain the standard {area} process in plain words, list the documents "
            f"needed, give the expected time frame, and offer to escalate if the customer "
            "is unhappy."
        )
        number += 1
    return "\n".join(lines)


SUPPORT_QUESTIONS = [
    "Hi, I want to return a storage plan I bought last week.",
    "How long does the refund take?",
    "Can I keep my files while the refund is processed?",
    "What documents do you need from me?",
    "My invoice shows a double charge, can you check?",
    "How do I change the billing address?",
    "Is my data encrypted at rest?",
    "Who can see my files if I share a folder?",
    "There was an outage yesterday, will I be compensated?",
    "Please escalate this to a human, thanks.",
]

CORPUS: dict[str, str] = {
    f"handbook/{topic}.md": "\n".join(
        f"{topic.title()} handbook, section {n}: the {topic} procedure step {n} requires the "
        f"customer's account id, a confirmation email and a check of the {topic} ledger entry "
        f"number {n * 7}; agents record the outcome in the {topic} queue before closing."
        for n in range(1, 26)
    )
    for topic in ("returns", "billing", "security")
}

DOC_QUESTIONS = [
    "What does the returns procedure require in step 3?",
    "Which ledger entry is checked in step 5 of the returns procedure?",
    "Where do agents record the returns outcome?",
    "What confirmation is needed for a return?",
    "How many steps does the returns handbook list?",
]


def _tool(name: str, subject: str) -> Callable[[str], str]:
    def tool(query: str) -> str:
        digest = hashlib.sha256(f"{name}:{query}".encode()).hexdigest()[:8]
        return f"{subject} record {digest}: status ok"

    tool.__name__ = name
    tool.__doc__ = (
        f"Look up {subject} for a customer. Use it whenever the customer asks about {subject}; "
        f"pass the customer's account id or the order number as the query. Returns one record "
        f"with its status, or 'not found'."
    )
    return tool


#: Twenty plain functions ``(query: str) -> str``; each framework wraps them as its own tools.
AGENT_TOOLS: list[Callable[[str], str]] = [
    _tool(f"lookup_{subject.replace(' ', '_')}", subject)
    for subject in (
        "orders",
        "invoices",
        "refunds",
        "shipments",
        "warranties",
        "accounts",
        "passwords",
        "storage quota",
        "shared folders",
        "devices",
        "sessions",
        "api keys",
        "audit logs",
        "outages",
        "credits",
        "plans",
        "coupons",
        "tickets",
        "contacts",
        "addresses",
    )
]
AGENT_SYSTEM_PROMPT = support_system_prompt(1_500)
#: Three agent turns; the second makes 11 parallel tool calls (22 new blocks: past the lookback).
AGENT_QUESTIONS = [
    "Where is my order A-1001?",
    "Please run a full account review for account 42: check everything you can.",
    "Do I have any open tickets?",
]
REVIEW_TOOLS = [fn.__name__ for fn in AGENT_TOOLS[:11]]


def script_agent_replies(emulator: BedrockEmulator[Any]) -> None:
    """The emulated model's turns for AGENT_QUESTIONS: tool calls, then an answer, per question."""
    review = tuple(
        {"toolUse": {"name": name, "input": {"query": "account 42"}}} for name in REVIEW_TOOLS
    )
    emulator.script(
        [
            Reply.tool_use("lookup_orders", {"query": "A-1001"}),
            "Your order A-1001 has shipped and arrives tomorrow.",
            Reply(review, "tool_use"),
            "Account 42 looks healthy: every record reports status ok.",
            Reply.tool_use("lookup_tickets", {"query": "account 42"}),
            "You have no open tickets.",
        ]
    )


@dataclass
class AppRun:
    """One app run: its BedrockCache, every call's report, and the totals.

    ``caching=False`` records the same numbers but places no checkpoint.
    """

    name: str
    caching: bool
    reports: list[CallReport] = field(default_factory=list)
    cache: BedrockCache = field(init=False)

    def __post_init__(self) -> None:
        self.cache = BedrockCache(None if self.caching else CachePolicy(max_checkpoints=0))
        self.cache.add_listener(self.reports.append)

    @property
    def total(self) -> StatsSnapshot:
        return self.cache.stats.total()


AppRunner = Callable[..., AppRun]


def run_once(run: AppRunner, *, real: bool, caching: bool, model: str) -> AppRun:
    """One run of an app: on real Bedrock, or on a fresh emulator (passed to apps that script
    the model's replies through an ``emulator`` parameter)."""
    if real:
        return run({"region_name": REGION}, caching=caching, model=model)
    with BedrockEmulator() as emulator:
        extra = {"emulator": emulator} if "emulator" in inspect.signature(run).parameters else {}
        return run(emulator.connection_kwargs, caching=caching, model=model, **extra)


def main_for(run: AppRunner, description: str) -> None:
    """An app's command line: run it with and without caching and print both side by side."""
    args = arguments(description)
    cached = run_once(run, real=args.real, caching=True, model=args.model)
    uncached = run_once(run, real=args.real, caching=False, model=args.model)
    print_side_by_side(cached, uncached)


def print_run(run: AppRun, out: Callable[[str], None] = print) -> None:
    """Per-call rows and the total line."""
    mode = "with caching" if run.caching else "without caching"
    out(f"\n{run.name} -- {mode}")
    out(f"{'call':>4} {'read':>8} {'write':>8} {'uncached':>9} {'output':>7} {'cost $':>10}")
    for number, report in enumerate(run.reports, 1):
        u = report.usage
        out(
            f"{number:>4} {u.cache_read:>8,} {u.cache_write:>8,} {u.uncached_input:>9,} "
            f"{u.output:>7,} {report.cost.total:>10.5f}"
        )
    t = run.total
    out(
        f"total: token hit rate {t.token_hit_rate:.1%}, cost ${t.cost:.5f}, "
        f"without caching ${t.cost_without_cache:.5f}, saved ${t.saved:.5f}"
    )


def print_side_by_side(
    cached: AppRun, uncached: AppRun, out: Callable[[str], None] = print
) -> None:
    """Both runs of one app, then one comparison line."""
    print_run(cached, out)
    print_run(uncached, out)
    before, after = uncached.total.cost, cached.total.cost
    change = (after - before) / before if before else 0.0
    out(f"{cached.name}: ${before:.5f} -> ${after:.5f} ({change:+.0%}) with caching")


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--real", action="store_true", help="call real Bedrock (AWS credentials)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="Bedrock model or profile id")
    return parser.parse_args()
