"""Invariant: every call's report says why it did not read what earlier calls cached -- a
timestamp in the system prompt (with its character offset), an entry that expired while idle, a
prefix below the model's minimum, a conversation that outgrew the lookback, a changed model --
and says nothing (``miss is None``) once the call reads what it should."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import ModelRequest, dynamic_prompt
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from bedrock_cache import BedrockCache, CachePolicy, CallReport, MissExplainer
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import DEFAULT_MODEL, support_system_prompt
from langchain_bedrock_cache import BedrockCacheCallbackHandler, BedrockCacheMiddleware

Emulator = BedrockEmulator[ManualClock]
POLICIES = support_system_prompt(2_000)
QUESTIONS = ["Where is my order?", "How long does a refund take?", "Can I change my address?"]


@tool
def lookup_orders(query: str) -> str:
    """Look up the customer's orders matching ``query``."""
    return "order A-1001: shipped"


def run_agent(emu: Emulator, *, timestamp_in_system: bool) -> tuple[list[CallReport], list[str]]:
    """Three turns of a support agent; returns the reports and each call's system prompt."""
    cache = BedrockCache(clock=emu.clock.now)
    reports: list[CallReport] = []
    cache.add_listener(reports.append)
    prompts: list[str] = []

    @dynamic_prompt
    def system_prompt(request: ModelRequest[Any]) -> str:
        if timestamp_in_system:
            prompt = f"You are Acme's support agent. Current time: {datetime.now()}.\n{POLICIES}"
        else:
            prompt = f"You are Acme's support agent.\n{POLICIES}"
        prompts.append(prompt)
        return prompt

    agent = create_agent(
        ChatBedrockConverse(model=DEFAULT_MODEL, **emu.connection_kwargs),
        tools=[lookup_orders],
        middleware=[system_prompt, BedrockCacheMiddleware(cache)],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "support"}}
    for question in QUESTIONS:
        text = question if timestamp_in_system else f"(sent {datetime.now()}) {question}"
        agent.invoke({"messages": [HumanMessage(text)]}, config)
        emu.clock.advance(30)
    return reports, prompts


def miss_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_timestamp_in_system_prompt_is_named_then_fixed(
    bedrock_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bedrock_cache")
    reports, prompts = run_agent(bedrock_emulator, timestamp_in_system=True)
    assert reports[0].miss is not None and reports[0].miss.cause == "first_seen"
    for report, prompt in zip(reports[1:], prompts[1:], strict=True):
        miss = report.miss
        assert miss is not None and miss.cause == "prefix_changed"
        assert (miss.section, miss.block) == ("system", 0)
        assert miss.offset == prompt.index("Current time: ") + len("Current time: ")
        assert "timestamp" in miss.message and miss.excerpt is None
        assert report.as_dict()["miss_cause"] == "prefix_changed"
    assert len(miss_warnings(caplog)) == 1  # rate-limited: once per distinct miss per minute
    assert "prefix_changed" in miss_warnings(caplog)[0] and "Current time" not in caplog.text

    caplog.clear()
    bedrock_emulator.reset()
    fixed, _ = run_agent(bedrock_emulator, timestamp_in_system=False)
    assert all(report.miss is None for report in fixed[1:])
    assert all(report.usage.cache_read > len(POLICIES) // 4 for report in fixed[1:])
    assert miss_warnings(caplog) == []


def converse(emu: Emulator, cache: BedrockCache, **request: Any) -> CallReport:
    reports: list[CallReport] = []
    cache.add_listener(reports.append)
    client = cache.instrument(emu.client())
    client.converse(**request)
    return reports[-1]


def ask(question: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": question}]}


def test_an_entry_that_expired_while_idle(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache(clock=bedrock_emulator.clock.now)
    request = {"modelId": DEFAULT_MODEL, "system": [{"text": POLICIES}]}
    converse(bedrock_emulator, cache, **request, messages=[ask("Hi")])
    bedrock_emulator.clock.advance(120)
    assert converse(bedrock_emulator, cache, **request, messages=[ask("Hello")]).miss is None
    bedrock_emulator.clock.advance(400)
    miss = converse(bedrock_emulator, cache, **request, messages=[ask("Hey")]).miss
    assert miss is not None and miss.cause == "expired"
    assert miss.idle_seconds == 400 and "6m40s idle" in miss.message


def test_an_entry_read_by_lookback_lives_on_from_that_read(bedrock_emulator: Emulator) -> None:
    """The user's own checkpoints, and no planning: the second call reaches the system prompt's
    entry by lookback from its question (and writes its own); the third, eight minutes after
    the first but four after the second, reads that entry again: no miss to report."""
    off = CachePolicy(
        cache_tools=False, cache_system=False, cache_documents=False, cache_conversation=False
    )
    cache = BedrockCache(off, clock=bedrock_emulator.clock.now)
    point = {"cachePoint": {"type": "default"}}
    system = [{"text": POLICIES}]
    request = {"modelId": DEFAULT_MODEL, "system": system}

    def asked(question: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": [{"text": question * 300}, point]}]

    converse(
        bedrock_emulator,
        cache,
        modelId=DEFAULT_MODEL,
        system=[*system, point],
        messages=[ask("Hi")],
    )
    bedrock_emulator.clock.advance(240)
    second = converse(bedrock_emulator, cache, **request, messages=asked("Where is my order? "))
    assert second.usage.cache_read > 0 and second.miss is None
    bedrock_emulator.clock.advance(240)
    third = converse(bedrock_emulator, cache, **request, messages=asked("Can I get a refund? "))
    assert third.usage.cache_read > 0
    assert third.miss is None


def test_a_prefix_below_the_model_minimum() -> None:
    with BedrockEmulator(clock=ManualClock()) as emu:
        cache = BedrockCache()
        haiku = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
        request = {"modelId": haiku, "system": [{"text": "Be brief. " * 200}]}
        miss = converse(emu, cache, **request, messages=[ask("Hi")]).miss
    assert miss is not None and miss.cause == "below_minimum"
    assert "4,096" in miss.message


def test_a_turn_beyond_the_lookback(bedrock_emulator: Emulator) -> None:
    """The user's own checkpoints, and no planning: 25 new blocks outrun the 20-block lookback."""
    off = CachePolicy(
        cache_tools=False, cache_system=False, cache_documents=False, cache_conversation=False
    )
    cache = BedrockCache(off, clock=bedrock_emulator.clock.now)
    point = {"cachePoint": {"type": "default"}}
    system = [{"text": POLICIES}, point]
    first = {"role": "user", "content": [{"text": POLICIES}, point]}
    converse(bedrock_emulator, cache, modelId=DEFAULT_MODEL, system=system, messages=[first])
    many = [{"text": f"fact {n}: " + "details " * 30} for n in range(25)]
    history = [ask(POLICIES), {"role": "assistant", "content": [{"text": "ok"}]}]
    messages = [*history, {"role": "user", "content": [*many, point]}]
    report = converse(
        bedrock_emulator, cache, modelId=DEFAULT_MODEL, system=system, messages=messages
    )
    assert report.miss is not None and report.miss.cause == "lookback_exceeded"
    assert (report.miss.section, report.miss.block) == ("messages", 0)


def test_a_changed_model_writes_again(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache(clock=bedrock_emulator.clock.now)
    request = {"system": [{"text": POLICIES}], "messages": [ask("Hi")]}
    converse(bedrock_emulator, cache, modelId=DEFAULT_MODEL, **request)
    other = "us.anthropic.claude-sonnet-4-6"
    miss = converse(bedrock_emulator, cache, modelId=other, **request).miss
    assert miss is not None and miss.cause == "model_changed"


def test_excerpts_only_when_asked(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache(clock=bedrock_emulator.clock.now, explainer=MissExplainer(excerpts=True))
    for n in range(2):
        system = [{"text": f"Request id: req_{n:012d}. {POLICIES}"}]
        report = converse(
            bedrock_emulator, cache, modelId=DEFAULT_MODEL, system=system, messages=[ask("Hi")]
        )
    assert report.miss is not None and report.miss.cause == "prefix_changed"
    assert report.miss.excerpt is not None and "req_000000000001" in report.miss.excerpt


def test_callback_handler_carries_the_miss(bedrock_emulator: Emulator) -> None:
    handler = BedrockCacheCallbackHandler()
    middleware = BedrockCacheMiddleware(BedrockCache(clock=bedrock_emulator.clock.now))
    agent = create_agent(
        ChatBedrockConverse(model=DEFAULT_MODEL, **bedrock_emulator.connection_kwargs),
        system_prompt=POLICIES,
        middleware=[middleware],
    )
    agent.invoke({"messages": [HumanMessage("Hi")]}, {"callbacks": [handler]})
    (report,) = handler.runs.values()
    assert report.miss is not None and report.miss.cause == "first_seen"


def test_a_streamed_call_is_explained_too(bedrock_emulator: Emulator) -> None:
    cache = BedrockCache(clock=bedrock_emulator.clock.now)
    reports: list[CallReport] = []
    cache.add_listener(reports.append)
    client = cache.instrument(bedrock_emulator.client())
    for n in range(2):
        system = [{"text": f"Now: 2026-11-26 09:5{n}:00. {POLICIES}"}]
        response = client.converse_stream(
            modelId=DEFAULT_MODEL, system=system, messages=[ask("Hi")]
        )
        events = list(response["stream"])
    miss = reports[-1].miss
    assert miss is not None and (miss.cause, miss.offset) == ("prefix_changed", len("Now: "))
    assert events[-1]["metadata"]["bedrockCache"]["miss_cause"] == "prefix_changed"
