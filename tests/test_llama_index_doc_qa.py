"""Invariant: document Q&A keeps the retrieved context a cacheable block. The query engine's
last user message is ``[context, question]`` and questions 2-5 read the handbook from the cache;
the cache-friendly chat engines send the static system prompt alone first (read from turn 2)
and the context right before the question; nodes come in a stable order."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.schema import NodeWithScore, TextNode

from bedrock_cache.emulator import BedrockEmulator, ManualClock
from integrations.llama_index import doc_qa
from integrations.shared import DOC_QUESTIONS, support_system_prompt
from llama_index_bedrock_cache import (
    CacheFriendlyCondensePlusContextChatEngine,
    CacheFriendlyContextChatEngine,
    CachingBedrockConverse,
    StableNodeOrder,
    cached_query_engine,
)

Emulator = BedrockEmulator[ManualClock]
MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_questions_two_to_five_read_the_document(bedrock_emulator: Emulator) -> None:
    run = doc_qa.run(bedrock_emulator.connection_kwargs, caching=True)
    requests = bedrock_emulator.requests
    assert len(requests) == len(DOC_QUESTIONS) == 5
    for record in requests:
        [user] = record.request["messages"]
        texts = [block["text"] for block in user["content"] if "text" in block]
        assert "handbook" in texts[0] and texts[-1].startswith("Given the context")
    document = run.reports[0].usage.cache_write
    assert document > 1_024
    for report in run.reports[1:]:
        assert report.usage.cache_read >= document
    assert run.total is not None and run.total.saved > 0


async def test_async_and_streaming_query_engine_read_the_document(
    bedrock_emulator: Emulator,
) -> None:
    llm = CachingBedrockConverse(model=MODEL, **bedrock_emulator.connection_kwargs)
    retriever = doc_qa.build_index().as_retriever(similarity_top_k=1)
    await cached_query_engine(retriever, llm).aquery(DOC_QUESTIONS[0])
    streaming = cached_query_engine(retriever, llm, streaming=True)
    "".join(streaming.query(DOC_QUESTIONS[1]).response_gen)  # type: ignore[arg-type,union-attr]
    first, second = bedrock_emulator.requests
    assert second.operation == "ConverseStream"
    assert second.outcome is not None and first.outcome is not None
    assert second.outcome.cache_read >= first.outcome.cache_write > 0


@pytest.mark.parametrize(
    "engine_class", [CacheFriendlyContextChatEngine, CacheFriendlyCondensePlusContextChatEngine]
)
def test_chat_engine_static_prompt_first_context_last(
    bedrock_emulator: Emulator, engine_class: Any
) -> None:
    llm = CachingBedrockConverse(model=MODEL, **bedrock_emulator.connection_kwargs)
    system_prompt = support_system_prompt(1_500)
    engine = engine_class.from_defaults(
        doc_qa.build_index().as_retriever(similarity_top_k=1),
        llm=llm,
        system_prompt=system_prompt,
        skip_condense=True,
    )
    for question in DOC_QUESTIONS[:3]:
        engine.chat(question)
    requests = [r for r in bedrock_emulator.requests if r.operation == "Converse"]
    assert len(requests) == 3
    for record in requests:
        system = record.request["system"]
        assert system[0]["text"] == system_prompt.strip()
        last = record.request["messages"][-1]
        texts = [block["text"] for block in last["content"] if "text" in block]
        assert "handbook" in texts[0] and texts[-1] in DOC_QUESTIONS
    for record in requests[1:]:
        assert record.outcome is not None and record.outcome.cache_read > 0


def test_stable_node_order_ignores_scores() -> None:
    nodes = [
        TextNode(text="b", id_="n2", start_char_idx=10),
        TextNode(text="a", id_="n1", start_char_idx=0),
    ]
    for node in nodes:
        node.relationships = {}
    scored = [NodeWithScore(node=nodes[0], score=0.9), NodeWithScore(node=nodes[1], score=0.1)]
    ordered = StableNodeOrder().postprocess_nodes(scored)
    assert [n.node.node_id for n in ordered] == ["n1", "n2"]
    assert [n.node.node_id for n in StableNodeOrder().postprocess_nodes(scored[::-1])] == [
        "n1",
        "n2",
    ]
