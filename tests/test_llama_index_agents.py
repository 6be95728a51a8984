"""Invariant: agents on ``CachingBedrockConverse`` read their static prefix from the second
model step on -- ``FunctionAgent``'s tool schemas (toolConfig) and ``ReActAgent``'s tool-laden
system header -- and the moving conversation checkpoint carries the history forward."""

from __future__ import annotations

from llama_index.core.agent.workflow import ReActAgent
from llama_index.core.memory import ChatMemoryBuffer

from bedrock_cache import default_table
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.llama_index import agent
from llama_index_bedrock_cache import CachingBedrockConverse

Emulator = BedrockEmulator[ManualClock]
MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_function_agent_reads_tool_schemas_from_step_two(bedrock_emulator: Emulator) -> None:
    run = agent.run(bedrock_emulator.connection_kwargs, caching=True, emulator=bedrock_emulator)
    requests = bedrock_emulator.requests
    assert len(requests) == len(run.reports) == 6
    assert all(r.error is None for r in requests)
    tools_end = sum("toolSpec" in t for t in requests[0].request["toolConfig"]["tools"]) - 1
    assert requests[0].request["toolConfig"]["tools"][-1] == {"cachePoint": {"type": "default"}}
    first = requests[0].outcome
    assert first is not None
    tools_tokens = next(c.prefix_tokens for c in first.checkpoints if c.after == tools_end)
    for record in requests[1:]:
        assert record.outcome is not None
        assert record.outcome.cache_read >= tools_tokens
    max_points = default_table().resolve(MODEL).spec.max_checkpoints
    for record in requests:
        assert str(record.request).count("cachePoint") <= max_points
    assert run.total is not None and run.total.saved > 0


REACT_REPLIES = [
    "Thought: I need to look up the order.\nAction: lookup_orders\n"
    'Action Input: {"query": "A-1001"}',
    "Thought: I can answer without using any more tools.\nAnswer: Order A-1001 has shipped.",
    'Thought: I need the tickets.\nAction: lookup_tickets\nAction Input: {"query": "account 42"}',
    "Thought: I can answer without using any more tools.\nAnswer: You have no open tickets.",
]


async def test_react_agent_reads_system_header_and_history(bedrock_emulator: Emulator) -> None:
    bedrock_emulator.script(REACT_REPLIES)
    llm = CachingBedrockConverse(model=MODEL, max_tokens=300, **bedrock_emulator.connection_kwargs)
    react = ReActAgent(tools=agent.agent_tools(), llm=llm)
    memory = ChatMemoryBuffer.from_defaults(token_limit=100_000)
    await react.run("Where is my order A-1001?", memory=memory)
    await react.run("Do I have any open tickets?", memory=memory)
    requests = bedrock_emulator.requests
    assert len(requests) == 4 and all(r.error is None for r in requests)
    assert all("lookup_orders" in r.request["system"][0]["text"] for r in requests)
    assert requests[0].outcome is not None
    header = requests[0].outcome.checkpoints[0].prefix_tokens
    reads = [r.outcome.cache_read if r.outcome else 0 for r in requests]
    assert header > 1_024 and reads[0] == 0 and all(read >= header for read in reads[1:])
    # ReActAgent rewrites a finished turn's scratchpad into one assistant message, so a new turn
    # starts from the header; within the turn the next step reads all the previous one cached.
    previous = requests[2].outcome
    assert previous is not None and reads[3] >= previous.cache_read + previous.cache_write
