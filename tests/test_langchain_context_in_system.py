"""Invariant: a LangChain RAG chat that formats each turn's retrieved context into its system
prompt stops paying for cache writes no later request reads, and keeps reading the prompt that
does come back.

Each turn is the usual history-aware pair: a call that rewrites the question on a fixed prompt
(its conversation goes on and is read back), then the answer call, whose system prompt holds
that turn's chunks. No later request re-sends an answer call's prefix. Through the real
``ChatBedrockConverse`` and prompt templates against the emulator on a simulated clock, the
planner learns that apart from the rewriting calls and stops writing there.
"""

from __future__ import annotations

from typing import Any

from langchain_aws import ChatBedrockConverse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from langchain_bedrock_cache import with_bedrock_cache

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REWRITE = "Given the chat history and the latest question, write a standalone question. " * 90
#: ``langchain.chains.create_history_aware_retriever``'s usual prompt: a few dozen tokens.
SHORT_REWRITE = (
    "Given a chat history and the latest user question which might reference context in the "
    "chat history, formulate a standalone question which can be understood without the chat "
    "history. Do NOT answer the question, just reformulate it if needed and otherwise return it "
    "as is."
)
ANSWER = "Answer the question from the context below; say so if it is not there.\n{context}"
CHUNKS = [
    f"Chunk {n}: the warranty for product line {n} covers parts and labour. " * 40
    for n in range(45)
]


def _reports(answer: Any) -> dict[str, Any]:
    report: dict[str, Any] = answer.response_metadata["bedrockCache"]
    return report


def _chats(
    emulator: BedrockEmulator[ManualClock], rewrite_prompt: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three five-turn chats: the reports of the rewriting calls and of the answer calls."""
    cache = BedrockCache(clock=emulator.clock.now)
    model = ChatBedrockConverse(model=SONNET, **emulator.connection_kwargs)
    llm = with_bedrock_cache(model, cache)
    rewrite = ChatPromptTemplate.from_messages(
        [("system", rewrite_prompt), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    answer = ChatPromptTemplate.from_messages(
        [("system", ANSWER), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    rewrites: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for chat in range(3):
        history: list[BaseMessage] = []
        for turn in range(5):
            question = f"Chat {chat}, question {turn}: what does the warranty cover? " * 5
            asked = {"history": history, "question": question}
            rewrites.append(_reports((rewrite | llm).invoke(asked)))
            emulator.clock.advance(2)
            picked = CHUNKS[(chat * 5 + turn) * 3 :][:3]  # this turn's retrieval
            reply = (answer | llm).invoke({**asked, "context": "\n".join(picked)})
            answers.append(_reports(reply))
            history += [HumanMessage(question), AIMessage(str(reply.content))]
            emulator.clock.advance(20)
    return rewrites, answers


def test_a_system_prompt_holding_each_turns_context_stops_being_written(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    rewrites, answers = _chats(bedrock_emulator, REWRITE)
    settled = answers[-6:]
    assert all(r["cache_write_5m_tokens"] + r["cache_write_1h_tokens"] == 0 for r in settled)
    # the rewriting calls keep reading their prompt (and their conversation so far)
    assert all(r["cache_read_tokens"] > 0 for r in rewrites[-6:])


def test_a_short_rewriting_prompt_that_recurs_does_not_get_each_context_prompt_written(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    """LangChain's own history-aware retriever rewrites the question on a prompt of a few dozen
    tokens, too short to cache. That it comes back every turn says nothing of the answer calls'
    system prompts, each holding new context: only the first of those risks a write."""
    _, answers = _chats(bedrock_emulator, SHORT_REWRITE)
    system_written = [r for r in answers if any(p.startswith("system:") for p in r["plan"])]
    assert len(system_written) == 1
    # besides it, two writes learn that an answer call's conversation is never re-sent (the next
    # turn's system prompt differs): a few premiums while learning, not one per turn
    cost = sum(r["cost_usd"] for r in answers)
    assert cost <= 1.05 * sum(r["cost_without_cache_usd"] for r in answers)
