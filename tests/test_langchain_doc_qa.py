"""Invariant: in document Q&A the retrieved context is its own block, serialized identically
for the same documents whatever order the retriever returns them in, and questions 2-5 about
the same documents read that context from the cache (checkpoint between context and question)."""

from __future__ import annotations

import random

from langchain_aws import ChatBedrockConverse
from langchain_core.documents import Document

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.langchain.doc_qa import SYSTEM_PROMPT, handbook_retriever
from integrations.shared import CORPUS, DOC_QUESTIONS
from langchain_bedrock_cache import cached_qa_prompt, create_cached_qa_chain, format_cached_context

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
Emulator = BedrockEmulator[ManualClock]


def test_context_is_read_from_cache_on_questions_2_to_5(bedrock_emulator: Emulator) -> None:
    llm = ChatBedrockConverse(
        model=MODEL,
        **bedrock_emulator.connection_kwargs,
    )
    cache = BedrockCache()
    chain = create_cached_qa_chain(
        handbook_retriever(), llm, system_prompt=SYSTEM_PROMPT, cache=cache
    )
    answers = [chain.invoke(question) for question in DOC_QUESTIONS]
    records = bedrock_emulator.requests
    assert len(records) == len(answers) == 5
    for number, record in enumerate(records, 1):
        content = record.request["messages"][-1]["content"]
        # the context, then the question, with one checkpoint: after the context, or (question
        # 2, written in case a conversation follows) after the question, reading it by lookback
        texts = [block["text"] for block in content if "text" in block]
        assert len(texts) == 2 and texts[1].startswith("Question: ")
        assert [list(block) for block in content].count(["cachePoint"]) == 1
        assert record.outcome is not None
        if number == 1:
            assert record.outcome.checkpoints[0].status == "write"
            context_tokens = record.outcome.checkpoints[0].prefix_tokens
        else:
            assert record.outcome.cache_read == context_tokens
    contexts = {record.request["messages"][-1]["content"][0]["text"] for record in records}
    assert len(contexts) == 1
    later = cache.stats.total().usage.cache_read
    assert later >= 4 * records[0].outcome.checkpoints[-1].prefix_tokens  # type: ignore[union-attr]
    assert all(a.response_metadata["bedrockCache"]["plan"] for a in answers)


def test_context_serialization_ignores_retrieval_order() -> None:
    docs = [Document(text, metadata={"source": src, "score": 0.5}) for src, text in CORPUS.items()]
    shuffled = [*docs[::-1], docs[0]]
    random.Random(7).shuffle(shuffled)
    assert format_cached_context(shuffled) == format_cached_context(docs)
    text = format_cached_context(docs)
    assert text.index("handbook/billing.md") < text.index("handbook/returns.md")
    assert "score" not in text


def test_prompt_puts_question_after_context() -> None:
    value = cached_qa_prompt("Be exact {not a variable}").invoke(
        {"context": "CONTEXT", "question": "Q?"}
    )
    system, human = value.to_messages()
    assert system.content == "Be exact {not a variable}"
    assert human.content == [
        {"type": "text", "text": "CONTEXT"},
        {"type": "text", "text": "Question: Q?"},
    ]
