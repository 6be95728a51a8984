"""Which LangChain objects the cache applies to: a ``ChatBedrockConverse`` or a ``ChatBedrock``
(InvokeModel), however wrapped."""

from __future__ import annotations

from typing import Any

from langchain_aws import ChatBedrock, ChatBedrockConverse
from langchain_core.runnables import RunnableBinding

from bedrock_cache import BedrockCache
from bedrock_cache._session import cache_from as _core_cache_from

#: The langchain-aws chat models whose boto3 client the cache hooks.
BedrockChatModel = ChatBedrockConverse | ChatBedrock


def bedrock_converse_model(model: Any) -> ChatBedrockConverse | None:
    """The ``ChatBedrockConverse`` behind ``model``, or ``None``.

    Unwraps ``RunnableBinding`` layers (``bind_tools``, ``bind``, ``with_config``,
    ``with_retry``-free bindings), which is what ``create_agent`` and LCEL hand around.
    """
    found = bedrock_chat_model(model)
    return found if isinstance(found, ChatBedrockConverse) else None


def bedrock_chat_model(model: Any) -> BedrockChatModel | None:
    """The ``ChatBedrockConverse`` or ``ChatBedrock`` behind ``model`` (bindings unwrapped), or
    ``None``. Both talk to Bedrock through their ``client``, where the planning happens."""
    seen = 0
    while isinstance(model, RunnableBinding) and seen < 32:
        model, seen = model.bound, seen + 1
    return model if isinstance(model, ChatBedrockConverse | ChatBedrock) else None


def base_models_of(model: BedrockChatModel) -> dict[str, str]:
    """``{profile ARN: base model id}`` when the model names its base model (``base_model_id``,
    which langchain-aws also fills from ``GetInferenceProfile``); else ``{}``."""
    base = model.base_model_id
    return {model.model_id: base} if base and base != model.model_id else {}


def cache_from(cache: BedrockCache | None, policy: dict[str, Any]) -> BedrockCache:
    """``cache`` as given, or a new one with ``CachePolicy(**policy)``; not both."""
    return _core_cache_from(cache, policy)
