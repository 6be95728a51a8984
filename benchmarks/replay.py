"""Replay workloads through the real ``langchain_aws.ChatBedrockConverse`` against the emulator.

Every workload runs once per strategy, each on a fresh :class:`BedrockEmulator` with a manual
clock, so all strategies see the same conversations, the same replies and the same time gaps:

- ``none``: no checkpoints.
- ``langchain-aws``: langchain-aws's own strategy, ``invoke(..., cache_control={"type":
  "ephemeral", "ttl": "5m"})`` (what its ``BedrockPromptCachingMiddleware`` passes), unmodified.
- ``ours``: ``BedrockCache().instrument(llm.client)`` with the default :class:`CachePolicy`.
- ``ours+skip-one-off``: the same with ``CachePolicy(skip_one_off_writes=True)``.

and the ``lower bound`` is computed from the ``none`` run's requests (see :func:`lower_bound`).
Every cost is priced the same way, from the usage the emulator returned for each request.

Run ``python -m benchmarks.replay`` (``--json PATH`` writes the numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from langchain_aws import ChatBedrockConverse
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool, tool

from bedrock_cache import (
    BedrockCache,
    CachePolicy,
    CacheUsage,
    Layout,
    cost_of,
    resolve_model,
    usage_from_converse,
    without_checkpoints,
)
from bedrock_cache.emulator import BedrockEmulator, ManualClock, RecordedRequest, Reply
from integrations.shared import (
    AGENT_SYSTEM_PROMPT,
    AGENT_TOOLS,
    CORPUS,
    DOC_QUESTIONS,
    SUPPORT_QUESTIONS,
    support_system_prompt,
)

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_PRO = "us.amazon.nova-pro-v1:0"

NONE = "none"
PEER = "langchain-aws"
OURS = "ours"
OURS_SKIP = "ours+skip-one-off"
LOWER = "lower bound"
STRATEGIES: tuple[str, ...] = (NONE, PEER, OURS, OURS_SKIP)
#: What langchain-aws's BedrockPromptCachingMiddleware passes to the model on every call.
PEER_CACHE_CONTROL: dict[str, str] = {"type": "ephemeral", "ttl": "5m"}
#: The lower bound's cache lifetime: a prefix seen this recently is readable.
LOWER_BOUND_TTL = 300.0
REJECTED = "ValidationException"


Emulator = BedrockEmulator[ManualClock]


# -- running one workload under one strategy ---------------------------------------------------


class Session:
    """One strategy's view of one emulator: what a workload calls the model through.

    A request the emulator rejects (``ValidationException``) is counted in :attr:`rejected` and
    sent again without checkpoints, as an app falling back would, so the workload carries on with
    the same conversation and its cost still counts every call.
    """

    def __init__(self, emu: Emulator, strategy: str, model: str) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; use one of {STRATEGIES}")
        self.emu = emu
        self.strategy = strategy
        self.model = model
        self.rejected = 0
        self.times: list[float] = []
        """The manual clock's time of each recorded request, aligned with ``emu.requests``."""
        self.llm = ChatBedrockConverse(model=model, **emu.connection_kwargs)
        self.cache: BedrockCache | None = None
        if strategy in (OURS, OURS_SKIP):
            policy = CachePolicy(skip_one_off_writes=strategy == OURS_SKIP)
            self.cache = BedrockCache(policy, clock=emu.clock.now)
            self.cache.instrument(self.llm.client)

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass on the emulator's clock (the gap before the next call)."""
        self.emu.clock.advance(seconds)

    def script(self, replies: Iterable[Reply]) -> None:
        """Queue the emulated model's next answers (for agent loops)."""
        self.emu.script(replies)

    def chat(self, messages: Sequence[BaseMessage], tools: Sequence[BaseTool] = ()) -> AIMessage:
        """One model call with this strategy's caching."""
        try:
            return self._invoke(messages, tools, fallback=False)
        except Exception:
            self._note_times()
            last = self.emu.requests[-1] if self.emu.requests else None
            if last is None or last.error != REJECTED:
                raise
            self.rejected += 1
            return self._invoke(messages, tools, fallback=True)
        finally:
            self._note_times()

    def _invoke(
        self, messages: Sequence[BaseMessage], tools: Sequence[BaseTool], *, fallback: bool
    ) -> AIMessage:
        runnable: Any = self.llm.bind_tools(list(tools)) if tools else self.llm
        kwargs: dict[str, Any] = {}
        if self.strategy == PEER and not fallback:
            kwargs["cache_control"] = dict(PEER_CACHE_CONTROL)
        if fallback and self.cache is not None:
            with BedrockCache(CachePolicy(max_checkpoints=0)).activate():
                return cast(AIMessage, runnable.invoke(list(messages), **kwargs))
        return cast(AIMessage, runnable.invoke(list(messages), **kwargs))

    def _note_times(self) -> None:
        missing = len(self.emu.requests) - len(self.times)
        self.times.extend([self.emu.clock.now()] * missing)


@dataclass(frozen=True)
class Workload:
    """A named, deterministic sequence of model calls driven through a :class:`Session`."""

    name: str
    model: str
    description: str
    drive: Callable[[Session], None]


@dataclass(frozen=True)
class StrategyResult:
    """What one strategy (or the lower bound) cost on one workload."""

    strategy: str
    requests: int
    rejected: int
    usage: CacheUsage
    cost: float

    @property
    def hit_rate(self) -> float:
        return self.usage.hit_rate

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rejected": self.rejected,
            "cost_usd": self.cost,
            **self.usage.as_dict(),
        }


@dataclass
class WorkloadResult:
    """Every strategy's result on one workload, and the lower bound."""

    name: str
    model: str
    results: dict[str, StrategyResult] = field(default_factory=dict)

    def cost(self, strategy: str) -> float:
        return self.results[strategy].cost

    def ratio(self, strategy: str, against: str) -> float:
        base = self.cost(against)
        return self.cost(strategy) / base if base else float("nan")

    def as_dict(self) -> dict[str, Any]:
        ratios = {
            f"ours / {other}": self.ratio(OURS, other)
            for other in (PEER, NONE, LOWER)
            if OURS in self.results and other in self.results
        }
        return {
            "model": self.model,
            "strategies": {name: result.as_dict() for name, result in self.results.items()},
            "ratios": ratios,
        }


def priced(record: RecordedRequest) -> tuple[CacheUsage, float]:
    """A successful request's usage as the emulator returned it, and its price."""
    assert record.usage is not None
    usage = usage_from_converse(record.usage)
    return usage, cost_of(usage, resolve_model(record.model_id)).total


def measure(strategy: str, session: Session) -> StrategyResult:
    """Totals of one run, from the usage of every request the emulator answered."""
    usage, cost, answered = CacheUsage(), 0.0, 0
    for record in session.emu.requests:
        if record.operation == "CountTokens" or record.error is not None or not record.usage:
            continue
        one, price = priced(record)
        usage, cost, answered = usage + one, cost + price, answered + 1
    return StrategyResult(strategy, answered, session.rejected, usage, cost)


def lower_bound(records: Sequence[RecordedRequest], times: Sequence[float]) -> StrategyResult:
    """The cheapest any checkpoint strategy could be on these requests (the ``none`` run's).

    For each request, the longest block-aligned prefix (``Layout.blocks[i].fingerprint``) that
    equals a prefix of an earlier request to the same base model at most 5 minutes earlier (on the
    manual clock) is billed as a cache read; the rest as uncached input, the output as output. No
    write premium, no minimum tokens, no checkpoint limit: no strategy can beat it.
    """
    last_seen: dict[tuple[str, str], float] = {}
    usage, cost, answered = CacheUsage(), 0.0, 0
    for record, now in zip(records, times, strict=True):
        if record.operation == "CountTokens" or record.error is not None or not record.usage:
            continue
        returned = usage_from_converse(record.usage)
        model = resolve_model(record.model_id)
        base = model.spec.model_id
        layout = Layout.of(without_checkpoints(record.request))
        readable = 0
        for block in reversed(layout.blocks):
            seen = last_seen.get((base, block.fingerprint))
            if seen is not None and now - seen <= LOWER_BOUND_TTL:
                readable = block.cumulative
                break
        for block in layout.blocks:
            last_seen[(base, block.fingerprint)] = now
        one = CacheUsage(
            cache_read=readable,
            uncached_input=returned.total_input - readable,
            output=returned.output,
        )
        usage, cost, answered = usage + one, cost + cost_of(one, model).total, answered + 1
    return StrategyResult(LOWER, answered, 0, usage, cost)


def run_strategy(workload: Workload, strategy: str) -> tuple[StrategyResult, Session]:
    """Run ``workload`` under ``strategy`` on a fresh emulator with a manual clock."""
    with BedrockEmulator(clock=ManualClock()) as emu:
        session = Session(emu, strategy, workload.model)
        workload.drive(session)
        return measure(strategy, session), session


def run_workload(workload: Workload, strategies: Sequence[str] = STRATEGIES) -> WorkloadResult:
    """Every strategy on ``workload``, plus the lower bound from the ``none`` run."""
    result = WorkloadResult(workload.name, workload.model)
    for strategy in dict.fromkeys([NONE, *strategies]):
        measured, session = run_strategy(workload, strategy)
        if strategy in strategies:
            result.results[strategy] = measured
        if strategy == NONE:
            result.results[LOWER] = lower_bound(session.emu.requests, session.times)
    _check_same_traffic(result)
    return result


def _check_same_traffic(result: WorkloadResult) -> None:
    """Every strategy must have sent the same calls with the same content (checkpoints aside)."""
    shapes = {
        name: (r.requests, r.usage.total_input, r.usage.output)
        for name, r in result.results.items()
    }
    if len(set(shapes.values())) > 1:
        raise RuntimeError(f"{result.name}: strategies saw different traffic: {shapes}")


# -- the workloads -----------------------------------------------------------------------------


def _conversations(session: Session, system: str, conversations: int, turns: int) -> None:
    """``conversations`` chats of ``turns`` turns each, interleaved, ``20 s`` between turns."""
    histories: list[list[BaseMessage]] = [[SystemMessage(system)] for _ in range(conversations)]
    gap = 20.0 / conversations
    first = True
    for turn in range(turns):
        for number, history in enumerate(histories):
            if not first:
                session.wait(gap)
            first = False
            questions = SUPPORT_QUESTIONS[3 * number :] + SUPPORT_QUESTIONS[: 3 * number]
            history.append(HumanMessage(questions[turn % len(questions)]))
            history.append(session.chat(history))


def support_sessions(session: Session) -> None:
    """3 conversations x 10 turns sharing a ~4,000-token system prompt, 20 s between turns."""
    _conversations(session, support_system_prompt(4_000), conversations=3, turns=10)


def doc_qa(session: Session) -> None:
    """5 questions, 30 s apart, on the same ~3,000-token context (context + question blocks)."""
    context = "\n\n".join(CORPUS[path] for path in ("handbook/returns.md", "handbook/billing.md"))
    system = SystemMessage("Answer from the handbook context only; say so if it is not there.")
    for number, question in enumerate(DOC_QUESTIONS):
        if number:
            session.wait(30.0)
        human = HumanMessage(
            content=[
                {"type": "text", "text": f"Context:\n{context}"},
                {"type": "text", "text": question},
            ]
        )
        session.chat([system, human])


#: Two agent tasks; each step is the tool calls of one model reply (empty: the final answer).
AGENT_TASKS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    (
        "Order A-1001 never arrived and I think I was charged twice. Check everything.",
        (
            ("lookup_orders",),
            (
                "lookup_invoices",
                "lookup_refunds",
                "lookup_shipments",
                "lookup_warranties",
                "lookup_accounts",
                "lookup_devices",
                "lookup_sessions",
                "lookup_credits",
                "lookup_plans",
                "lookup_coupons",
                "lookup_tickets",
            ),
            ("lookup_addresses",),
            ("lookup_outages", "lookup_audit_logs"),
            ("lookup_contacts",),
            (),
        ),
    ),
    (
        "I cannot log in since yesterday and my shared folders look empty.",
        (
            ("lookup_accounts",),
            ("lookup_passwords", "lookup_sessions", "lookup_devices"),
            ("lookup_shared_folders",),
            ("lookup_storage_quota", "lookup_outages"),
            ("lookup_api_keys",),
            (),
        ),
    ),
)


def agent_tools() -> list[BaseTool]:
    """The 20 shared tool functions as LangChain tools, in a fixed order."""
    return [tool(function) for function in AGENT_TOOLS]


def _agent_replies(task: int, steps: Sequence[Sequence[str]]) -> list[Reply]:
    replies: list[Reply] = []
    for step, names in enumerate(steps):
        if not names:
            replies.append(Reply.text("I checked every record; here is what I found and did."))
            continue
        calls = tuple(
            {
                "toolUse": {
                    "toolUseId": f"tooluse_t{task}_s{step}_{number}",
                    "name": name,
                    "input": {"query": f"A-{1000 + task}"},
                }
            }
            for number, name in enumerate(names)
        )
        replies.append(Reply(calls, "tool_use"))
    return replies


def agent_20_tools(session: Session) -> None:
    """20 bound tools, a ~1,500-token system prompt, two agent loops of 6 model calls each;
    one step makes 11 parallel tool calls (22 new blocks: beyond Claude's ~20-block lookback)."""
    tools = agent_tools()
    by_name = {t.name: t for t in tools}
    for task, (question, steps) in enumerate(AGENT_TASKS):
        if task:
            session.wait(40.0)
        session.script(_agent_replies(task, steps))
        messages: list[BaseMessage] = [SystemMessage(AGENT_SYSTEM_PROMPT), HumanMessage(question)]
        for step in range(len(steps)):
            if step:
                session.wait(3.0)
            reply = session.chat(messages, tools)
            messages.append(reply)
            for call in reply.tool_calls:
                output = by_name[call["name"]].invoke(call["args"])
                messages.append(ToolMessage(str(output), tool_call_id=str(call["id"])))
            if not reply.tool_calls:
                break


def haiku_small_prompt(session: Session) -> None:
    """Haiku 4.5 (4,096-token minimum), a ~3,000-token system prompt, 10 turns 20 s apart."""
    _conversations(session, support_system_prompt(3_000), conversations=1, turns=10)


def one_off_prompts(session: Session) -> None:
    """15 single requests, 60 s apart, each with its own ~5,000-token system prompt."""
    base = support_system_prompt(5_000)
    for number in range(15):
        if number:
            session.wait(60.0)
        system = f"Tenant {number + 1} custom instructions (tenant id T-{9000 + number}).\n{base}"
        session.chat([SystemMessage(system), HumanMessage(SUPPORT_QUESTIONS[number % 10])])


def nova_support(session: Session) -> None:
    """The support-sessions conversations on Nova Pro (exact-position match, no tool points)."""
    _conversations(session, support_system_prompt(4_000), conversations=3, turns=10)


WORKLOADS: tuple[Workload, ...] = (
    Workload("support-sessions", SONNET, support_sessions.__doc__ or "", support_sessions),
    Workload("doc-qa", SONNET, doc_qa.__doc__ or "", doc_qa),
    Workload("agent-20-tools", SONNET, agent_20_tools.__doc__ or "", agent_20_tools),
    Workload("haiku-small-prompt", HAIKU, haiku_small_prompt.__doc__ or "", haiku_small_prompt),
    Workload("one-off-prompts", SONNET, one_off_prompts.__doc__ or "", one_off_prompts),
    Workload("nova-support", NOVA_PRO, nova_support.__doc__ or "", nova_support),
)


def workload(name: str) -> Workload:
    for candidate in WORKLOADS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no workload {name!r}; choose from {[w.name for w in WORKLOADS]}")


# -- the report --------------------------------------------------------------------------------

_COLUMNS = (NONE, PEER, OURS, OURS_SKIP, LOWER)
_SHORT = {NONE: "none", PEER: "lc-aws", OURS: "ours", OURS_SKIP: "ours+skip", LOWER: "lower"}


def _ratio(value: float) -> str:
    return "n/a" if value != value else f"{value:.2f}"


def total_of(results: Sequence[WorkloadResult]) -> WorkloadResult:
    """All workloads added up (dollars and tokens across models)."""
    total = WorkloadResult("TOTAL", "")
    for name in _COLUMNS:
        parts = [r.results[name] for r in results if name in r.results]
        if len(parts) != len(results):
            continue
        usage = CacheUsage()
        for part in parts:
            usage = usage + part.usage
        total.results[name] = StrategyResult(
            name,
            sum(p.requests for p in parts),
            sum(p.rejected for p in parts),
            usage,
            sum(p.cost for p in parts),
        )
    return total


def table(results: Sequence[WorkloadResult]) -> str:
    """One row per workload (and a total): cost, token hit rate, ratios, rejections."""
    cost_w, hit_w = 10, 10
    groups = (
        ("cost (USD)", cost_w * len(_COLUMNS)),
        ("token hit rate", hit_w * len(_COLUMNS)),
        ("ours / ...", 27),
        ("rejected", 18),
    )
    banner = f"{'':<26}" + "".join(f"|{title:^{width}} " for title, width in groups)
    head = (
        f"{'workload':<19}{'calls':>6} |"
        + "".join(f"{_SHORT[c]:>{cost_w}}" for c in _COLUMNS)
        + " |"
        + "".join(f"{_SHORT[c]:>{hit_w}}" for c in _COLUMNS)
        + " |"
        + f"{'lc-aws':>8}{'none':>9}{'lower':>10} |"
        + f"{'lc/ours/skip':>18} "
    )
    rule = "-" * len(head)
    lines = [banner, head, rule]
    rows = [*results, total_of(results)] if len(results) > 1 else list(results)
    for number, result in enumerate(rows):
        if number == len(results):
            lines.append(rule)
        r = result.results
        calls = r[NONE].requests if NONE in r else 0
        costs = "".join(
            f"{r[c].cost:>{cost_w}.4f}" if c in r else f"{'-':>{cost_w}}" for c in _COLUMNS
        )
        hits = "".join(
            f"{r[c].hit_rate:>{hit_w}.1%}" if c in r else f"{'-':>{hit_w}}" for c in _COLUMNS
        )
        ratios = (
            f"{_ratio(result.ratio(OURS, PEER)):>8}"
            f"{_ratio(result.ratio(OURS, NONE)):>9}"
            f"{_ratio(result.ratio(OURS, LOWER)):>10}"
        )
        rejected = "/".join(str(r[c].rejected) if c in r else "-" for c in (PEER, OURS, OURS_SKIP))
        lines.append(f"{result.name:<19}{calls:>6} |{costs} |{hits} |{ratios} |{rejected:>18} ")
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.replay",
        description="Replay workloads through langchain-aws against the local Bedrock emulator "
        "under each caching strategy, and compare their costs with the lower bound.",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    parser.add_argument(
        "--workload",
        action="append",
        choices=[w.name for w in WORKLOADS],
        help="run only this workload (repeatable); all by default",
    )
    args = parser.parse_args(argv)
    chosen = [workload(name) for name in args.workload] if args.workload else list(WORKLOADS)

    started = time.perf_counter()
    results = [run_workload(w) for w in chosen]
    elapsed = time.perf_counter() - started

    print(table(results))
    print(
        f"\n{len(chosen)} workloads x {len(STRATEGIES)} strategies through langchain-aws "
        f"ChatBedrockConverse against the local emulator in {elapsed:.1f} s. Costs are priced "
        "from each request's returned usage with bedrock_cache.cost_of; 'lower' is the "
        "lower bound computed from the 'none' run (see benchmarks/README.md)."
    )
    for result in results:
        for name, outcome in result.results.items():
            if outcome.rejected:
                print(
                    f"note: {result.name}: {name} had {outcome.rejected} request(s) rejected "
                    f"with {REJECTED} (each re-sent without checkpoints and counted in its cost)"
                )
    if args.json:
        payload = {
            "workloads": {r.name: r.as_dict() for r in results},
            "total": total_of(results).as_dict() if len(results) > 1 else None,
            "seconds": round(elapsed, 2),
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
