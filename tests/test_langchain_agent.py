"""Invariant: a ``create_agent`` agent with 20 tools reads the tool schemas and the system
prompt from the cache from its second model call on, and a turn that adds more than 20 blocks
(11 parallel tool calls and their results) still reads the prefix cached before it."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from bedrock_cache import CallReport, Layout
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.langchain import agent as agent_app
from integrations.shared import (
    AGENT_QUESTIONS,
    AGENT_SYSTEM_PROMPT,
    DEFAULT_MODEL,
    script_agent_replies,
)
from langchain_bedrock_cache import BedrockCacheMiddleware

Emulator = BedrockEmulator[ManualClock]


def run_agent(emu: Emulator, middleware: BedrockCacheMiddleware) -> list[CallReport]:
    """The agent app's three turns (scripted tool calls), with ``middleware``."""
    reports: list[CallReport] = []
    middleware.cache.add_listener(reports.append)
    script_agent_replies(emu)
    agent = create_agent(
        ChatBedrockConverse(model=DEFAULT_MODEL, **emu.connection_kwargs),
        tools=agent_app.agent_tools(),
        system_prompt=AGENT_SYSTEM_PROMPT,
        middleware=[middleware],
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "agent"}}
    for question in AGENT_QUESTIONS:
        agent.invoke({"messages": [HumanMessage(question)]}, config)
    return reports


def static_prefix_tokens(request: dict[str, Any]) -> int:
    """Tokens of the tool schemas plus the system prompt."""
    layout = Layout.of(request)
    end = layout.section_end("system")
    assert end is not None
    return layout.blocks[end].cumulative


def check(emu: Emulator, reports: list[CallReport]) -> None:
    records = emu.requests
    assert len(records) == len(reports) == 6
    assert all(r.error is None for r in records)
    tools = records[0].request["toolConfig"]["tools"]
    assert len(tools) == 21 and "cachePoint" in tools[-1]
    static = static_prefix_tokens(records[0].request)
    for report in reports[1:]:
        assert report.usage.cache_read >= static
    big = next(i for i, r in enumerate(records) if len(r.request["messages"][-1]["content"]) > 10)
    blocks_added = sum(len(m["content"]) for m in records[big].request["messages"][-2:])
    assert blocks_added > 20
    assert reports[big].usage.cache_read >= reports[big - 1].usage.total_input


def test_agent_reads_static_prefix_and_bridges_the_big_turn(bedrock_emulator: Emulator) -> None:
    middleware = BedrockCacheMiddleware()
    check(bedrock_emulator, run_agent(bedrock_emulator, middleware))
    assert middleware.stats.total().token_hit_rate > 0.8


def test_agent_app_runs_both_ways(bedrock_emulator: Emulator) -> None:
    kwargs = bedrock_emulator.connection_kwargs
    cached = agent_app.run(kwargs, caching=True, emulator=bedrock_emulator)
    bedrock_emulator.reset()
    uncached = agent_app.run(kwargs, caching=False, emulator=bedrock_emulator)
    assert cached.total is not None and uncached.total is not None
    assert len(cached.reports) == len(uncached.reports) == 6
    assert cached.total.cost < uncached.total.cost
