"""The LLM side: plan every Converse call a ``BedrockConverse`` makes, at its clients."""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.llms.bedrock_converse import BedrockConverse

from bedrock_cache import BedrockCache, client_cache, instrument_client
from bedrock_cache._aio import instrument_async
from bedrock_cache._config import POLICY_OPTIONS
from bedrock_cache._session import cache_from

LLMT = TypeVar("LLMT", bound=Any)
_CONVERSE_ARGUMENTS = frozenset(inspect.signature(BedrockConverse.__init__).parameters)


def with_bedrock_cache(llm: LLMT, cache: BedrockCache | None = None, **policy: Any) -> LLMT:
    """Plan and measure every call of an existing ``BedrockConverse`` or ``Bedrock``
    (llama-index-llms-bedrock, InvokeModel with Anthropic or Nova bodies); returns ``llm``.

    All paths are planned at its clients: ``chat``, ``stream_chat``, ``achat``,
    ``astream_chat``, the ``complete`` family, ``chat_with_tools`` and ``predict_and_call``, and
    every engine or agent built on the LLM -- the async methods on the boto3 client in threads,
    or, with aioboto3 installed, on the aioboto3 clients the LLM opens per call. ``cache`` is
    shared if given; otherwise a new :class:`~bedrock_cache.BedrockCache` is made from the
    :class:`~bedrock_cache.CachePolicy` options in ``policy`` (e.g. ``static_ttl="1h"``).
    Calling it again replaces the cache.
    """
    client = getattr(llm, "_client", None)
    if client is None or not hasattr(client, "meta"):
        raise TypeError(
            "with_bedrock_cache needs a llama_index BedrockConverse or Bedrock LLM, e.g. "
            f"BedrockConverse(model=...), not {type(llm).__name__}"
        )
    planner, base_models = cache_from(cache, policy), base_models_of(llm)
    instrument_client(client, planner, base_models=base_models)
    # With aioboto3 installed, the async methods run on clients of ``_asession`` (one per call)
    # or on a caller's ``async_client`` (0.14.16+): they get the same hooks.
    for target in (getattr(llm, "_asession", None), getattr(llm, "_async_client", None)):
        if target is not None:
            instrument_async(target, planner, base_models=base_models)
    return llm


def cache_of(llm: Any) -> BedrockCache | None:
    """The :class:`~bedrock_cache.BedrockCache` planning this LLM's calls, if any."""
    client = getattr(llm, "_client", None)
    return client_cache(client) if client is not None else None


class CachingBedrockConverse(BedrockConverse):  # type: ignore[misc]
    """``BedrockConverse`` whose every call is planned for prompt caching and measured.

    Takes every ``BedrockConverse`` argument, plus ``cache`` (a shared
    :class:`~bedrock_cache.BedrockCache`) or :class:`~bedrock_cache.CachePolicy` options such as
    ``static_ttl="1h"`` or ``max_checkpoints=2``. Leave ``system_prompt_caching`` and
    ``tool_caching`` off: the planner places those checkpoints when they pay (if set, their
    checkpoints are kept and counted, never duplicated).
    """

    _bedrock_cache: BedrockCache = PrivateAttr()

    def __init__(self, *args: Any, cache: BedrockCache | None = None, **kwargs: Any) -> None:
        policy = {name: kwargs.pop(name) for name in list(kwargs) if name in POLICY_OPTIONS}
        unknown = sorted(set(kwargs) - _CONVERSE_ARGUMENTS)
        if unknown:
            raise TypeError(
                f"unknown argument(s) {', '.join(unknown)}: CachingBedrockConverse takes "
                "BedrockConverse's arguments, cache=BedrockCache(...), or CachePolicy options "
                f"({', '.join(sorted(POLICY_OPTIONS))})"
            )
        super().__init__(*args, **kwargs)
        with_bedrock_cache(self, cache, **policy)
        self._bedrock_cache = cache_of(self) or BedrockCache()

    @property
    def cache(self) -> BedrockCache:
        """The cache that plans this LLM's calls; ``llm.cache.stats`` has the core's numbers."""
        return self._bedrock_cache

    def _prepare_chat_with_tools(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # BedrockConverse appends ``user_msg`` to the caller's ``chat_history`` list; use a copy.
        if kwargs.get("chat_history") is not None:
            kwargs["chat_history"] = list(kwargs["chat_history"])
        result: dict[str, Any] = super()._prepare_chat_with_tools(*args, **kwargs)
        return result


def base_models_of(llm: Any) -> dict[str, str]:
    """``{profile ARN: model}``: with ``application_inference_profile_arn`` set, BedrockConverse
    sends the ARN and its ``model`` names the base model."""
    arn = getattr(llm, "application_inference_profile_arn", None)
    model = getattr(llm, "model", None)
    return {arn: model} if isinstance(arn, str) and isinstance(model, str) and arn else {}
