"""Document Q&A: five questions about the same handbook documents (LangChain retriever chain).

A real LangChain retriever (``InMemoryVectorStore`` with a deterministic offline embedding, so
nothing is downloaded) feeds ``create_cached_qa_chain``: the retrieved context is its own block,
serialized the same way each time, and read from the cache from the second question on::

    python -m integrations.langchain.doc_qa [--real] [--model MODEL_ID]
"""

from __future__ import annotations

from typing import Any

from langchain_aws import ChatBedrockConverse
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import InMemoryVectorStore

from integrations.shared import (
    CORPUS,
    DEFAULT_MODEL,
    DOC_QUESTIONS,
    AppRun,
    main_for,
)
from langchain_bedrock_cache import create_cached_qa_chain

NAME = "LangChain document Q&A"
SYSTEM_PROMPT = (
    "You answer questions for Acme Cloud Storage support agents. Use only the handbook "
    "documents in the user's message; name the document and step you used."
)


def handbook_retriever() -> BaseRetriever:
    """A vector-store retriever over ``CORPUS`` that returns every handbook (in score order)."""
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=256))
    store.add_documents(
        [Document(text, metadata={"source": source}) for source, text in CORPUS.items()]
    )
    return store.as_retriever(search_kwargs={"k": len(CORPUS)})


def run(connection_kwargs: dict[str, Any], *, caching: bool, model: str = DEFAULT_MODEL) -> AppRun:
    """Ask the five handbook questions; return every call's report."""
    result = AppRun(NAME, caching)
    cache = result.cache
    llm = ChatBedrockConverse(model=model, max_tokens=300, **connection_kwargs)
    chain = create_cached_qa_chain(
        handbook_retriever(), llm, system_prompt=SYSTEM_PROMPT, cache=cache
    )
    for question in DOC_QUESTIONS:
        chain.invoke(question)
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
