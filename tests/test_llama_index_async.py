"""Invariant: BedrockConverse's async paths -- ``achat``, ``astream_chat``, ``acomplete``,
``astream_complete`` and a ``FunctionAgent`` on them -- are planned, and each call is counted once
(by the LLM's cache and by the event handler), on whichever client the installed release runs
them: with aioboto3 installed, the aioboto3 clients it opens per call, on the event loop's thread;
without it, the boto3 client in worker threads. A stream cut short is counted as cut, and a
stream's report is written while its call is current (the trace log has its request).
``instrument_all()`` plans an unchanged app's async calls on either client, and an LLM wrapped
with its own cache keeps it."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.llms.bedrock_converse import BedrockConverse

from bedrock_cache import BedrockCache, CallReport, instrument_all, uninstrument_all
from bedrock_cache.emulator import BedrockEmulator
from bedrock_cache.telemetry import TraceLog, read_trace_log
from integrations.llama_index.agent import agent_tools
from integrations.shared import support_system_prompt
from llama_index_bedrock_cache import BedrockCacheEventHandler, CachingBedrockConverse

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = support_system_prompt(2_000)
MESSAGES = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content="Hi")]
PROMPT = SYSTEM + "\nQuestion: refunds?"
#: With aioboto3 installed, BedrockConverse runs its async methods on aioboto3 clients (every
#: release; before 0.14.16 it is required). Without it, on the boto3 client in worker threads.
AIOBOTO3 = importlib.util.find_spec("aioboto3") is not None


async def drain(stream: Any) -> None:
    async for _ in stream:
        pass


async def agent_turn(llm: Any) -> None:
    agent = FunctionAgent(tools=agent_tools(), llm=llm, system_prompt=SYSTEM)
    await agent.run("Where is my order A-1001?")


PATHS: dict[str, Callable[[Any], Awaitable[Any]]] = {
    "achat": lambda llm: llm.achat(MESSAGES),
    "astream_chat": lambda llm: _then_drain(llm.astream_chat(MESSAGES)),
    "acomplete": lambda llm: llm.acomplete(PROMPT),
    "astream_complete": lambda llm: _then_drain(llm.astream_complete(PROMPT)),
    "agent": agent_turn,
}


async def _then_drain(call: Awaitable[Any]) -> None:
    await drain(await call)


@pytest.fixture
def handler() -> Iterator[BedrockCacheEventHandler]:
    handler = BedrockCacheEventHandler.register()
    yield handler
    handler.unregister()


def planned_llm(emu: BedrockEmulator[Any], cache: BedrockCache) -> CachingBedrockConverse:
    return CachingBedrockConverse(model=MODEL, cache=cache, max_retries=1, **emu.connection_kwargs)


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_async_paths_are_planned_and_counted_once(
    bedrock_emulator: BedrockEmulator[Any], handler: BedrockCacheEventHandler, path: str
) -> None:
    threads: list[threading.Thread] = []

    def note_thread(report: CallReport) -> None:
        threads.append(threading.current_thread())

    cache = BedrockCache()
    cache.add_listener(note_thread)
    llm = planned_llm(bedrock_emulator, cache)
    for _ in range(3):  # a prompt seen again is written, and read from then on
        await PATHS[path](llm)
    requests = bedrock_emulator.requests
    assert requests and all(r.error is None for r in requests)
    assert "cachePoint" in str(requests[-1].request)  # a prefix seen before is checkpointed
    last = requests[-1].outcome
    assert last is not None and last.cache_read > 0
    assert cache.stats.total().requests == len(requests) == handler.stats.total().requests
    assert handler.stats.total().usage == cache.stats.total().usage
    assert len(threads) == len(requests)
    on_loop = {thread is threading.main_thread() for thread in threads}
    assert on_loop == {AIOBOTO3}


async def test_an_async_stream_cut_short_is_counted_as_cut(
    bedrock_emulator: BedrockEmulator[Any],
) -> None:
    cache = BedrockCache()
    llm = planned_llm(bedrock_emulator, cache)
    bedrock_emulator.inject_stream_error(after_events=2)
    with pytest.raises(Exception, match="interrupted"):
        await drain(await llm.astream_chat(MESSAGES))
    total = cache.stats.total()
    assert (total.cut, total.requests) == (1, 0)


async def test_an_async_stream_reports_while_its_call_is_current(
    bedrock_emulator: BedrockEmulator[Any], tmp_path: Path
) -> None:
    log = tmp_path / "calls.jsonl"
    cache = BedrockCache(trace_log=TraceLog(log, include_request=True))
    llm = planned_llm(bedrock_emulator, cache)
    await drain(await llm.astream_chat(MESSAGES))
    [record] = read_trace_log(log)
    [sent] = bedrock_emulator.requests
    assert record["request"]["messages"] == sent.request["messages"]
    assert record["checkpoints"]


@pytest.fixture
def everything() -> Iterator[BedrockCache]:
    yield instrument_all()
    uninstrument_all()


async def test_instrument_all_plans_an_unchanged_apps_async_calls(
    bedrock_emulator: BedrockEmulator[Any],
    handler: BedrockCacheEventHandler,
    everything: BedrockCache,
) -> None:
    llm = BedrockConverse(model=MODEL, max_retries=1, **bedrock_emulator.connection_kwargs)
    for _ in range(3):
        await llm.achat(MESSAGES)
        await drain(await llm.astream_chat(MESSAGES))
    requests = bedrock_emulator.requests
    assert len(requests) == 6 and "cachePoint" in str(requests[-1].request)
    last = requests[-1].outcome
    assert last is not None and last.cache_read > 0
    assert everything.stats.total().requests == 6 == handler.stats.total().requests
    assert all(report.get("plan") for report in handler.reports)


async def test_a_wrapped_llm_keeps_its_own_cache_under_instrument_all(
    bedrock_emulator: BedrockEmulator[Any], everything: BedrockCache
) -> None:
    llm = planned_llm(bedrock_emulator, BedrockCache())
    await llm.achat(MESSAGES)
    await drain(await llm.astream_chat(MESSAGES))
    assert llm.cache.stats.total().requests == 2
    assert everything.stats.total().requests == 0
