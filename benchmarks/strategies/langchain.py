"""Strategies through ``langchain_aws.ChatBedrockConverse``: no caching, ours, langchain-aws's
``cache_control`` and its ``BedrockPromptCachingMiddleware``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..calls import Call, Message
from . import Sender, Strategy, Unavailable

#: What langchain-aws's docs pass for Converse prompt caching.
CACHE_CONTROL = {"type": "ephemeral"}
#: Our knobs, each a strategy of its own: name -> CachePolicy keyword arguments.
KNOBS: Mapping[str, Mapping[str, Any]] = {
    "ours-static-1h": {"static_ttl": "1h"},
    "ours-auto-ttl": {"static_ttl": "auto"},
    "ours-skip-one-off": {"skip_one_off_writes": True},
}


def to_langchain(call: Call) -> list[Any]:
    """The call's system prompt and history as LangChain messages."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    messages: list[Any] = []
    if call.system:
        messages.append(SystemMessage(content=[{"type": "text", "text": t} for t in call.system]))
    for message in call.messages:
        messages.extend(_message(message, AIMessage, HumanMessage, ToolMessage))
    return messages


def _message(message: Message, ai: Any, human: Any, tool: Any) -> list[Any]:
    texts = [{"type": "text", "text": t} for t in message.texts]
    if message.role == "assistant":
        calls = [
            {"name": c.name, "args": dict(c.arguments), "id": c.id} for c in message.tool_calls
        ]
        return [ai(content=texts, tool_calls=calls)]
    result = [tool(content=r.text, tool_call_id=r.id) for r in message.tool_results]
    return [*result, human(content=texts)] if texts else result


def tool_specs(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.schema},
        }
        for t in call.tools
    ]


def _model(emu: Any, model: str) -> Any:
    try:
        from langchain_aws import ChatBedrockConverse
    except ImportError as exc:
        raise Unavailable(f"langchain-aws is not installed ({exc})") from exc
    return ChatBedrockConverse(model=model, **emu.connection_kwargs)


def _invoker(llm: Any, **extra: Any) -> Sender:
    def send(call: Call, caching: bool) -> None:
        runnable = (
            llm.bind_tools(tool_specs(call), tool_choice=call.tool_choice) if call.tools else llm
        )
        kwargs: dict[str, Any] = dict(extra) if caching else {}
        if call.thinking:
            kwargs["additional_model_request_fields"] = _thinking(call)
        runnable.invoke(to_langchain(call), **kwargs)

    return send


def _thinking(call: Call) -> dict[str, Any]:
    return {"thinking": {"type": "enabled", "budget_tokens": call.thinking}}


def _open_none(emu: Any, model: str) -> Sender:
    return _invoker(_model(emu, model))


def _open_cache_control(emu: Any, model: str) -> Sender:
    return _invoker(_model(emu, model), cache_control=dict(CACHE_CONTROL))


def _ours(policy: Mapping[str, Any]) -> Callable[[Any, str], Sender]:
    def open_ours(emu: Any, model: str) -> Sender:
        from bedrock_cache import BedrockCache, CachePolicy
        from langchain_bedrock_cache import with_bedrock_cache

        try:
            cache = BedrockCache(CachePolicy(**policy), clock=emu.clock.now)
        except (TypeError, ValueError) as exc:
            raise Unavailable(f"CachePolicy({dict(policy)}) is not accepted: {exc}") from exc
        planned = _invoker(with_bedrock_cache(_model(emu, model), cache))
        plain = _invoker(_model(emu, model))
        return lambda call, caching: (planned if caching else plain)(call, caching)

    return open_ours


def _open_middleware(emu: Any, model: str) -> Sender:
    """``create_agent(model, middleware=[BedrockPromptCachingMiddleware()])``, invoked with the
    call's history; the emulator answers in text, so each invocation is one model call."""
    try:
        from langchain.agents import create_agent
        from langchain.agents.middleware import AgentMiddleware
        from langchain_aws.middleware import BedrockPromptCachingMiddleware
    except ImportError as exc:
        raise Unavailable(f"langchain / langchain-aws middleware not installed ({exc})") from exc
    llm = _model(emu, model)

    class CallSettings(AgentMiddleware):  # type: ignore[misc]
        """Applies the workload's tool choice and thinking to the model request."""

        def __init__(self, call: Call) -> None:
            super().__init__()
            self.call = call

        def wrap_model_call(self, request: Any, handler: Any) -> Any:
            settings = dict(request.model_settings)
            if self.call.thinking:
                settings["additional_model_request_fields"] = _thinking(self.call)
            return handler(
                request.override(tool_choice=self.call.tool_choice, model_settings=settings)
            )

    def send(call: Call, caching: bool) -> None:
        middleware = [BedrockPromptCachingMiddleware()] if caching else []
        agent = create_agent(
            llm,
            tools=tool_specs(call),
            middleware=[CallSettings(call), *middleware],
        )
        agent.invoke({"messages": to_langchain(call)})

    return send


NONE = Strategy("none", "ChatBedrockConverse without caching", _open_none)
OURS = Strategy("ours", "with_bedrock_cache(ChatBedrockConverse, BedrockCache())", _ours({}))
LANGCHAIN_AWS = Strategy(
    "langchain-aws",
    "ChatBedrockConverse.invoke(..., cache_control={'type': 'ephemeral'})",
    _open_cache_control,
)
LANGCHAIN_AWS_MIDDLEWARE = Strategy(
    "langchain-aws-middleware",
    "create_agent(ChatBedrockConverse, middleware=[BedrockPromptCachingMiddleware()])",
    _open_middleware,
)
OURS_KNOBS = tuple(
    Strategy(name, f"BedrockCache(CachePolicy(**{dict(policy)}))", _ours(policy))
    for name, policy in KNOBS.items()
)
