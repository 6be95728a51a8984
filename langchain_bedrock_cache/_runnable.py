"""LCEL: a ``ChatBedrockConverse`` or ``ChatBedrock`` whose every call is planned by a
``BedrockCache``."""

from __future__ import annotations

from typing import Any, TypeVar

from bedrock_cache import BedrockCache, instrument_client

from ._models import base_models_of, bedrock_chat_model, cache_from

ModelT = TypeVar("ModelT")


def with_bedrock_cache(llm: ModelT, cache: BedrockCache | None = None, **policy: Any) -> ModelT:
    """Plan Bedrock cache checkpoints for every call of ``llm``; returns ``llm`` itself.

    ``llm`` is a ``ChatBedrockConverse`` or a ``ChatBedrock`` (InvokeModel: Anthropic
    ``cache_control`` markers), or a binding of one (``bind_tools``, ``bind``). Its boto3
    client is hooked, so ``invoke``, ``ainvoke``, ``stream``, ``astream``, ``batch``,
    ``prompt | llm`` and ``llm.bind_tools(...)`` are all planned; for ``ChatBedrockConverse``
    each answer's ``response_metadata["bedrockCache"]`` holds the call's numbers. Models sharing
    one boto3 client share the hook. Calling it again with another cache replaces the earlier
    one.

    Args:
        llm: the model (unchanged apart from its client's hooks).
        cache: the :class:`bedrock_cache.BedrockCache` to plan with and count into; pass your own
            to read ``cache.stats``. A new one if omitted.
        **policy: :class:`bedrock_cache.CachePolicy` fields instead of ``cache``.

    Raises:
        TypeError: ``llm`` is neither a ``ChatBedrockConverse`` nor a ``ChatBedrock``.
    """
    model = bedrock_chat_model(llm)
    if model is None:
        raise TypeError(
            f"with_bedrock_cache needs a ChatBedrockConverse or ChatBedrock (or a binding of "
            f"one), not {type(llm).__name__}"
        )
    instrument_client(model.client, cache_from(cache, policy), base_models=base_models_of(model))
    return llm
