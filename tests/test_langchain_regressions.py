"""Invariant: two placements the LangChain integration once found wrong stay right -- a second
independent question reads the fixed system prompt, and parallel tool results are never taken
for a shared document (which used to block the bridge to the previous turn's entry)."""

from __future__ import annotations

from langchain_aws import ChatBedrockConverse
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from bedrock_cache import RESPONSE_KEY, BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.shared import AGENT_TOOLS, support_system_prompt
from langchain_bedrock_cache import with_bedrock_cache

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


def cached(emu: Emulator) -> ChatBedrockConverse:
    llm = ChatBedrockConverse(
        model=MODEL,
        **emu.connection_kwargs,
    )
    return with_bedrock_cache(llm, BedrockCache())


def test_second_independent_question_reads_the_system_prompt(bedrock_emulator: Emulator) -> None:
    """A fixed system prompt and independent one-line questions (BEDROCK.md section 6)."""
    llm = cached(bedrock_emulator)
    system = SystemMessage(support_system_prompt())
    llm.invoke([system, HumanMessage("hello")])
    second = llm.invoke([system, HumanMessage("how do refunds work?")])
    assert second.response_metadata[RESPONSE_KEY]["cache_read_tokens"] >= 4_000


def test_parallel_tool_results_are_not_treated_as_document(bedrock_emulator: Emulator) -> None:
    """After 11 parallel tool calls the last user message is 11 toolResult blocks: no
    'document' checkpoint between them, and the previous prefix is still read."""
    llm = cached(bedrock_emulator).bind_tools([tool(fn) for fn in AGENT_TOOLS])
    history: list[object] = [SystemMessage(support_system_prompt(1_500)), HumanMessage("hi")]
    first = llm.invoke(history)  # type: ignore[arg-type]
    calls = [
        {"name": fn.__name__, "args": {"query": "42"}, "id": f"call_{n}", "type": "tool_call"}
        for n, fn in enumerate(AGENT_TOOLS[:11])
    ]
    history += [first, HumanMessage("review account 42"), AIMessage("", tool_calls=calls)]
    llm.invoke(history[:4])  # type: ignore[arg-type]
    history += [ToolMessage("ok", tool_call_id=call["id"]) for call in calls]
    answer = llm.invoke(history)  # type: ignore[arg-type]
    report = answer.response_metadata[RESPONSE_KEY]
    assert not any(reason.startswith("document") for reason in report["plan"])
    assert report["cache_read_tokens"] >= 1_500
