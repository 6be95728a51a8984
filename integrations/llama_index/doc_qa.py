"""Document Q&A: a local ``VectorStoreIndex`` over the shared handbook corpus (LlamaIndex).

``cached_query_engine`` puts the retrieved context and the question in separate blocks of one
user message, with nodes in a stable order, so the planner checkpoints between them and questions
2-5 read the handbook from the cache. Embeddings are a deterministic local hash of character
trigrams: nothing is downloaded. Emulator by default; ``--real`` calls Amazon Bedrock::

    python -m integrations.llama_index.doc_qa [--real] [--model MODEL_ID]
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter

from integrations.shared import (
    CORPUS,
    DEFAULT_MODEL,
    DOC_QUESTIONS,
    AppRun,
    main_for,
)
from llama_index_bedrock_cache import CachingBedrockConverse, cached_query_engine

NAME = "LlamaIndex document Q&A"
DIMENSIONS = 512


class TrigramHashEmbedding(BaseEmbedding):
    """Deterministic offline embedding: hashed character trigrams, L2-normalised."""

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * DIMENSIONS
        lowered = f"  {text.lower()}  "
        for start in range(len(lowered) - 2):
            digest = hashlib.blake2b(lowered[start : start + 3].encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "big") % DIMENSIONS] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._embed(query)


def build_index() -> VectorStoreIndex:
    """One node per handbook (ids are the file names, so node order and bytes are stable)."""
    documents = [
        Document(text=text, id_=path, metadata={"source": path}) for path, text in CORPUS.items()
    ]
    return VectorStoreIndex.from_documents(
        documents,
        embed_model=TrigramHashEmbedding(model_name="trigram-hash"),
        transformations=[SentenceSplitter(chunk_size=4096, chunk_overlap=0)],
    )


def run(connection_kwargs: dict[str, Any], *, caching: bool, model: str = DEFAULT_MODEL) -> AppRun:
    """Ask the five handbook questions; return every call's report."""
    result = AppRun(NAME, caching)
    cache = result.cache
    llm = CachingBedrockConverse(model=model, max_tokens=300, cache=cache, **connection_kwargs)
    engine = cached_query_engine(build_index().as_retriever(similarity_top_k=1), llm)
    for question in DOC_QUESTIONS:
        engine.query(question)
    return result


def main() -> None:
    main_for(run, __doc__ or NAME)


if __name__ == "__main__":
    main()
