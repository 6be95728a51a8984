"""llama-index ``BedrockConverse`` with its caching flags, ``system_prompt_caching=True`` and
``tool_caching=True`` (the checkpoints it knows how to place)."""

from __future__ import annotations

from typing import Any

from ..calls import Call
from . import Sender, Strategy, Unavailable


def _open(emu: Any, model: str) -> Sender:
    try:
        from llama_index.core.base.llms.types import ChatMessage, TextBlock, ToolCallBlock
        from llama_index.core.tools import FunctionTool, ToolMetadata
        from llama_index.llms.bedrock_converse import BedrockConverse
    except ImportError as exc:
        raise Unavailable(f"llama-index-llms-bedrock-converse is not installed ({exc})") from exc
    from pydantic import BaseModel, Field

    class LookupArgs(BaseModel):
        query: str = Field(description="customer id or free text")
        limit: int | None = Field(default=None, description="most records to return")

    llms: dict[tuple[bool, int | None], Any] = {}

    def llm(caching: bool, thinking: int | None) -> Any:
        key = (caching, thinking)
        if key not in llms:
            extra = {"thinking": {"type": "enabled", "budget_tokens": thinking}} if thinking else {}
            llms[key] = BedrockConverse(
                model=model,
                max_retries=1,
                system_prompt_caching=caching,
                tool_caching=caching,
                **emu.connection_kwargs,
                **extra,
            )
        return llms[key]

    def messages(call: Call) -> list[Any]:
        result = [ChatMessage(role="system", blocks=[TextBlock(text=t) for t in call.system])]
        for message in call.messages:
            blocks: list[Any] = [TextBlock(text=t) for t in message.texts]
            blocks += [
                ToolCallBlock(tool_call_id=c.id, tool_name=c.name, tool_kwargs=dict(c.arguments))
                for c in message.tool_calls
            ]
            if blocks:
                result.append(ChatMessage(role=message.role, blocks=blocks))
            result += [
                ChatMessage(role="tool", content=r.text, additional_kwargs={"tool_call_id": r.id})
                for r in message.tool_results
            ]
        return result

    def send(call: Call, caching: bool) -> None:
        chosen = llm(caching, call.thinking)
        history = messages(call)
        if not call.tools:
            chosen.chat(history)
            return
        tools = [
            FunctionTool(
                fn=lambda **_: "",
                metadata=ToolMetadata(name=t.name, description=t.description, fn_schema=LookupArgs),
            )
            for t in call.tools
        ]
        chosen.chat_with_tools(
            tools,
            chat_history=history,
            tool_required=call.tool_choice is not None,
            tool_caching=caching,
            allow_parallel_tool_calls=True,
        )

    return send


LLAMA_INDEX = Strategy(
    "llama-index", "BedrockConverse(system_prompt_caching=True, tool_caching=True)", _open
)
