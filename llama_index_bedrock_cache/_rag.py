"""Retrieval layouts the planner can cache: the static part first, retrieved context as its own
block right before the question, nodes in a stable order.

The planner checkpoints the last user message between its second-to-last and last block
("document" role), so Q&A prompts put the context and the question in separate blocks of one
user message. Chat engines keep the static system prompt alone in the system message (LlamaIndex
joins every system text into one block, and by default puts the context *before* the system
prompt, so nothing static is a prefix); the context moves into the last user message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.chat_engine import CondensePlusContextChatEngine, ContextChatEngine
from llama_index.core.chat_engine.utils import get_response_synthesizer
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate, PromptType
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore, QueryBundle

QA_CONTEXT = (
    "Context information is below.\n---------------------\n{context_str}\n---------------------"
)
QA_QUESTION = (
    "Given the context information and not prior knowledge, answer the query.\n"
    "Query: {query_str}\nAnswer: "
)
REFINE_CONTEXT = (
    "New context, to refine the existing answer if it helps.\n"
    "------------\n{context_msg}\n------------"
)
REFINE_QUESTION = (
    "The original query is: {query_str}\nExisting answer: {existing_answer}\n"
    "Refine the existing answer with the new context; if it is not useful, repeat the existing "
    "answer.\nRefined answer: "
)


def document_qa_templates(
    system_prompt: str | None = None,
) -> tuple[ChatPromptTemplate, ChatPromptTemplate]:
    """The question-answer and refine templates of a cache-friendly query engine.

    Each is an optional static system message, then one user message whose first block is the
    retrieved context and whose last block is the question.
    """
    return (
        _two_block_template(system_prompt, QA_CONTEXT, QA_QUESTION, PromptType.QUESTION_ANSWER),
        _two_block_template(system_prompt, REFINE_CONTEXT, REFINE_QUESTION, PromptType.REFINE),
    )


def _two_block_template(
    system_prompt: str | None, context: str, question: str, prompt_type: PromptType
) -> ChatPromptTemplate:
    head = [ChatMessage(role=MessageRole.SYSTEM, content=system_prompt)] if system_prompt else []
    user = ChatMessage(
        role=MessageRole.USER, blocks=[TextBlock(text=context), TextBlock(text=question)]
    )
    return ChatPromptTemplate(message_templates=[*head, user], prompt_type=prompt_type)


DOCUMENT_QA_TEMPLATE, DOCUMENT_REFINE_TEMPLATE = document_qa_templates()


class StableNodeOrder(BaseNodePostprocessor):
    """Orders retrieved nodes by source document and position, never by score.

    The same retrieved set then always formats to the same bytes, so the context block is a
    cacheable prefix; retrieval scores that differ in the last digit no longer reorder it.
    """

    @classmethod
    def class_name(cls) -> str:
        return "StableNodeOrder"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        return sorted(nodes, key=_position)


def _position(scored: NodeWithScore) -> tuple[str, int, str]:
    node = scored.node
    start = getattr(node, "start_char_idx", None)
    return (str(node.ref_doc_id or ""), start if isinstance(start, int) else -1, node.node_id)


def _with_stable_order(
    postprocessors: Sequence[BaseNodePostprocessor] | None,
) -> list[BaseNodePostprocessor]:
    found = list(postprocessors or [])
    return (
        found if any(isinstance(p, StableNodeOrder) for p in found) else [*found, StableNodeOrder()]
    )


def cached_query_engine(
    retriever: Any,
    llm: Any = None,
    *,
    system_prompt: str | None = None,
    node_postprocessors: Sequence[BaseNodePostprocessor] | None = None,
    **kwargs: Any,
) -> RetrieverQueryEngine:
    """A ``RetrieverQueryEngine`` whose prompts the planner caches: context, then question.

    ``retriever`` is a retriever or an index (its ``as_retriever()``); ``kwargs`` go to
    ``RetrieverQueryEngine.from_args`` (``streaming=True``, ``response_mode``...). Nodes are put
    in :class:`StableNodeOrder` after any ``node_postprocessors``.
    """
    if hasattr(retriever, "as_retriever"):
        retriever = retriever.as_retriever()
    qa, refine = document_qa_templates(system_prompt)
    kwargs.setdefault("text_qa_template", qa)
    kwargs.setdefault("refine_template", refine)
    return RetrieverQueryEngine.from_args(
        retriever, llm=llm, node_postprocessors=_with_stable_order(node_postprocessors), **kwargs
    )


def cache_friendly_messages(
    context_template: PromptTemplate,
    system_prompt: str,
    prefix_messages: Sequence[ChatMessage],
    chat_history: Sequence[ChatMessage],
    system_role: MessageRole = MessageRole.SYSTEM,
) -> list[ChatMessage]:
    """Static system prompt, prefix, history, then ``[context, question]`` as the last message.

    The cache-friendly counterpart of LlamaIndex's ``get_prefix_messages_with_context``, which
    puts the context before the system prompt in one system message.
    """
    head = [ChatMessage(role=system_role, content=system_prompt.strip())] if system_prompt else []
    last = ChatMessage(
        role=MessageRole.USER,
        blocks=[TextBlock(text=context_template.get_template()), TextBlock(text="{query_str}")],
    )
    return [*head, *prefix_messages, *chat_history, last]


class CacheFriendlyContextChatEngine(ContextChatEngine):
    """``ContextChatEngine`` laid out for caching: static system prompt, history, then the
    retrieved context and the question as two blocks of the last user message.

    Build it like the original (``from_defaults(retriever, llm=..., system_prompt=...)``);
    retrieved nodes are put in :class:`StableNodeOrder`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["node_postprocessors"] = _with_stable_order(kwargs.get("node_postprocessors"))
        super().__init__(*args, **kwargs)

    def _get_response_synthesizer(
        self, chat_history: list[ChatMessage], streaming: bool = False
    ) -> Any:
        prefix = list(self._prefix_messages)
        system_prompt = ""
        if prefix and prefix[0].role == MessageRole.SYSTEM:
            system_prompt, prefix = str(prefix[0].content), prefix[1:]
        role = self._llm.metadata.system_role
        return get_response_synthesizer(
            self._llm,
            self.callback_manager,
            cache_friendly_messages(
                self._context_template, system_prompt, prefix, chat_history, role
            ),
            cache_friendly_messages(
                self._context_refine_template, system_prompt, prefix, chat_history, role
            ),
            streaming,
            qa_function_mappings=self._context_template.function_mappings,
            refine_function_mappings=self._context_refine_template.function_mappings,
        )


class CacheFriendlyCondensePlusContextChatEngine(CondensePlusContextChatEngine):
    """``CondensePlusContextChatEngine`` with the cache-friendly layout of
    :class:`CacheFriendlyContextChatEngine` (static system prompt first, context last)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["node_postprocessors"] = _with_stable_order(kwargs.get("node_postprocessors"))
        super().__init__(*args, **kwargs)

    def _get_response_synthesizer(
        self, chat_history: list[ChatMessage], streaming: bool = False
    ) -> Any:
        system_prompt = self._system_prompt or ""
        role = self._llm.metadata.system_role
        qa_template = self._context_prompt_template
        refine_template = self._context_refine_prompt_template
        return get_response_synthesizer(
            self._llm,
            self.callback_manager,
            cache_friendly_messages(qa_template, system_prompt, [], chat_history, role),
            cache_friendly_messages(refine_template, system_prompt, [], chat_history, role),
            streaming,
            qa_function_mappings=qa_template.function_mappings,
            refine_function_mappings=refine_template.function_mappings,
        )
