"""Document Q&A whose retrieved context is cached between questions.

The retrieved documents become their own content block in the last human message, serialized the
same way for the same set of documents (sorted by source, then content hash; fixed separators),
followed by the question as a separate block. The core planner puts a checkpoint between the two,
so later questions about the same documents read the context from the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from bedrock_cache import BedrockCache, is_instrumented

from ._models import bedrock_chat_model
from ._runnable import with_bedrock_cache

DEFAULT_QA_SYSTEM_PROMPT = (
    "Answer the question using only the documents provided. "
    "If the documents do not contain the answer, say so. Cite the document source."
)
DOCUMENT_SEPARATOR = "\n\n"


def _sort_key(document: Document) -> tuple[str, str]:
    source = str(document.metadata.get("source", ""))
    return source, hashlib.sha256(document.page_content.encode("utf-8")).hexdigest()


def format_cached_context(documents: Sequence[Document]) -> str:
    """One deterministic text for a set of documents, whatever order the retriever gave.

    Documents are de-duplicated and sorted by ``metadata["source"]``, then by a hash of their
    content; each is wrapped as ``<document source="...">...</document>`` and joined with a blank
    line. Only the source is serialized from the metadata (scores and ids vary between queries).
    """
    unique = {_sort_key(document): document for document in documents}
    parts = [
        f'<document source="{source}">\n{unique[(source, digest)].page_content}\n</document>'
        for source, digest in sorted(unique)
    ]
    return DOCUMENT_SEPARATOR.join(parts)


def cached_qa_prompt(system_prompt: str = DEFAULT_QA_SYSTEM_PROMPT) -> ChatPromptTemplate:
    """A prompt of ``{context}`` and ``{question}``: the system prompt, then one human message
    whose first block is the context and whose last block is the question."""
    return ChatPromptTemplate.from_messages(
        [
            ("system", system_prompt.replace("{", "{{").replace("}", "}}")),
            (
                "human",
                [
                    {"type": "text", "text": "{context}"},
                    {"type": "text", "text": "Question: {question}"},
                ],
            ),
        ]
    )


def create_cached_qa_chain(
    retriever: BaseRetriever | Runnable[str, list[Document]],
    llm: Any,
    *,
    system_prompt: str = DEFAULT_QA_SYSTEM_PROMPT,
    cache: BedrockCache | None = None,
) -> Runnable[str, BaseMessage]:
    """``question -> AIMessage``: retrieve, format the context deterministically, ask ``llm``.

    ``llm`` is planned by ``cache`` (see :func:`with_bedrock_cache`); with ``cache=None`` a new
    cache is attached unless the model's client is already hooked (e.g. by
    ``with_bedrock_cache`` or ``BedrockCacheMiddleware``). The answer's
    ``response_metadata["bedrockCache"]`` shows the context read from the cache.
    """
    model = bedrock_chat_model(llm)
    if cache is not None or (model is not None and not is_instrumented(model.client)):
        with_bedrock_cache(llm, cache)
    context = retriever | RunnableLambda(format_cached_context)
    chain: Runnable[str, BaseMessage] = (
        {"context": context, "question": RunnablePassthrough()}
        | cached_qa_prompt(system_prompt)
        | llm
    )
    return chain
