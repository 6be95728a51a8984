"""Invariant: one ``instrument_all()`` line (or ``bedrock-cache run -- python app.py``) plans
and counts every bedrock-runtime call of an unchanged app -- clients created before the line
included -- never hooks a client twice, and ``uninstrument_all()`` turns it off again."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from langchain_aws import ChatBedrockConverse
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent

import bedrock_cache
from bedrock_cache import BedrockCache, instrument_all, is_instrumented, uninstrument_all
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import support_system_prompt
from langchain_bedrock_cache import BedrockCacheCallbackHandler

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


@pytest.fixture(autouse=True)
def undo() -> Iterator[None]:
    yield
    uninstrument_all()


@tool
def order_status(order_id: str) -> str:
    """Look up an order's shipping status."""
    return f"order {order_id} has shipped"


def existing_app(emu: Emulator) -> Any:
    """An app as it exists today: a LangGraph prebuilt ReAct agent, no caching code at all."""
    llm = ChatBedrockConverse(model=MODEL, **emu.connection_kwargs)
    return create_react_agent(
        llm, [order_status], prompt=support_system_prompt(), checkpointer=InMemorySaver()
    )


def checkpoints(request: dict[str, Any]) -> int:
    blocks = [*request.get("system", [])]
    for message in request.get("messages", []):
        blocks += message["content"]
    return sum("cachePoint" in block for block in blocks)


def test_an_unchanged_react_agent_is_cached_and_counted(bedrock_emulator: Emulator) -> None:
    agent = existing_app(bedrock_emulator)  # built before the one line: its client exists already
    cache = instrument_all()  # the one line
    handler = BedrockCacheCallbackHandler()
    config: Any = {"configurable": {"thread_id": "t1"}, "callbacks": [handler]}
    for question in ("Where is order 42?", "And order 43?", "Thanks. Anything else?"):
        agent.invoke({"messages": [("user", question)]}, config)

    requests = bedrock_emulator.requests
    assert requests and all(checkpoints(r.request) for r in requests)
    total = cache.stats.total()
    assert total.requests == len(requests)
    assert total.usage.cache_read > 0 and total.usage.cache_write_5m > 0
    assert handler.stats.total().usage == total.usage  # the callback sees the same numbers


def test_idempotent_never_twice_and_undoable(bedrock_emulator: Emulator) -> None:
    cache = instrument_all()
    assert instrument_all() is cache
    with pytest.raises(RuntimeError, match="uninstrument_all"):
        instrument_all(BedrockCache())

    own = BedrockCache()
    mine = own.instrument(bedrock_emulator.client())  # the app's own cache wins on its client
    system = [{"text": support_system_prompt()}]
    messages = [{"role": "user", "content": [{"text": "hi"}]}]
    mine.converse(modelId=MODEL, system=system, messages=messages)
    assert own.stats.total().requests == 1 and cache.stats.total().requests == 0

    other = bedrock_emulator.client()
    other.converse(modelId=MODEL, system=system, messages=messages)
    other.converse(modelId=MODEL, system=system, messages=messages)
    assert is_instrumented(other) and cache.stats.total().requests == 2
    assert bedrock_emulator.requests[-1].outcome.cache_read > 0  # type: ignore[union-attr]

    uninstrument_all()
    other.converse(modelId=MODEL, system=system, messages=messages)
    boto3.client("bedrock-runtime", **bedrock_emulator.connection_kwargs).converse(
        modelId=MODEL, system=system, messages=messages
    )
    assert checkpoints(bedrock_emulator.requests[-1].request) == 0
    assert checkpoints(bedrock_emulator.requests[-2].request) == 0
    assert cache.stats.total().requests == 2


def test_callback_alone_says_once_that_it_only_counts(
    bedrock_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    llm = ChatBedrockConverse(model=MODEL, **bedrock_emulator.connection_kwargs)
    handler = BedrockCacheCallbackHandler()
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        for question in ("one", "two"):
            llm.invoke(
                [("system", support_system_prompt()), ("user", question)], {"callbacks": [handler]}
            )
    hints = [r for r in caplog.records if "only counting" in r.getMessage()]
    assert len(hints) == 1 and "bedrock_cache.instrument_all()" in hints[0].getMessage()
    assert handler.stats.total().requests == 2

    caplog.clear()
    instrument_all()
    with caplog.at_level(logging.WARNING, logger="bedrock_cache"):
        llm.invoke(
            [("system", support_system_prompt()), ("user", "three")],
            {"callbacks": [BedrockCacheCallbackHandler()]},
        )
    assert not [r for r in caplog.records if "only counting" in r.getMessage()]


APP = """
import os, boto3
client = boto3.client("bedrock-runtime")  # plain boto3: endpoint and credentials from the env
system = [{"text": "You are the support assistant of Example Corp. " * 300}]
for question in ("Where is my order?", "Can I return it?"):
    response = client.converse(
        modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        system=system,
        messages=[{"role": "user", "content": [{"text": question}]}],
    )
    usage = response["usage"]
    print("read", usage.get("cacheReadInputTokens", 0),
          "write", usage.get("cacheWriteInputTokens", 0))
"""


def test_bedrock_cache_run_plans_an_unchanged_script(
    bedrock_emulator: Emulator, tmp_path: Path
) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(APP))
    kwargs = bedrock_emulator.connection_kwargs
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": kwargs["endpoint_url"],
        "AWS_DEFAULT_REGION": kwargs["region_name"],
        "AWS_ACCESS_KEY_ID": kwargs["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": kwargs["aws_secret_access_key"],
    }
    cli = [sys.executable, "-m", "bedrock_cache.cli", "run", "--", sys.executable, str(script)]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120, check=True)

    first, second = done.stdout.splitlines()
    assert first.startswith("read 0 write ") and int(first.split()[-1]) > 1000
    assert int(second.split()[1]) > 1000  # the second call reads the system prompt from cache
    assert "bedrock-cache:" in done.stderr and "2 requests" in done.stderr
    assert all(checkpoints(r.request) for r in bedrock_emulator.requests)


def test_run_needs_a_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bedrock_cache.cli", "run"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "after --" in done.stderr
    assert bedrock_cache.__version__
