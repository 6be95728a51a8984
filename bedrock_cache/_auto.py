"""``instrument_all()``: plan and count every ``bedrock-runtime`` call in the process.

One line for an existing app, like OpenTelemetry's botocore instrumentation: botocore's
``BaseClient._make_api_call`` is wrapped (``wrapt``), and aiobotocore's when it is installed, so
every client -- created before or after the call, by the app or by any framework, sync or async
-- is seen on its next call. A ``bedrock-runtime`` client nobody instrumented yet is hooked once
(:func:`instrument_client` without a default cache) and each of its calls runs inside the
process-wide cache's ``activate()``. Clients that were already instrumented
(``BedrockCacheMiddleware``, ``with_bedrock_cache``, ``BedrockCache.instrument``) keep their own
cache and are never hooked twice; an ``activate()`` block of the app's own still wins.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

import botocore.client
import wrapt

from ._aio import instrument_async, is_hooked, unwrap_async_clients, wrap_async_clients
from ._instrument import instrument_client, is_instrumented
from ._session import BedrockCache, active_cache

logger = logging.getLogger("bedrock_cache")

SERVICE = "bedrock-runtime"

_lock = threading.Lock()
_cache: BedrockCache | None = None
#: Clients hooked by instrument_all (and so planned with its cache), as opposed to the app's own.
_ours: weakref.WeakSet[Any] = weakref.WeakSet()


def instrument_all(cache: BedrockCache | None = None) -> BedrockCache:
    """Plan and count every Converse / ConverseStream call of every ``bedrock-runtime`` client.

    Idempotent: a second call returns the cache already in place (passing a different ``cache``
    then is an error). Undo with :func:`uninstrument_all`. Returns the cache whose ``stats``
    hold the process's numbers.
    """
    global _cache
    with _lock:
        if _cache is not None:
            if cache is not None and cache is not _cache:
                raise RuntimeError(
                    "instrument_all() is already active with another BedrockCache; call "
                    "bedrock_cache.uninstrument_all() first to switch caches"
                )
            return _cache
        _cache = cache or BedrockCache()
        wrapt.wrap_function_wrapper(botocore.client, "BaseClient._make_api_call", _make_api_call)
        wrap_async_clients(_make_api_call_async)
        return _cache


def uninstrument_all() -> None:
    """Undo :func:`instrument_all`: botocore is restored and no call is planned by it any more.

    Clients it hooked stay hooked without a default cache, so they are inert outside an
    ``activate()`` block, exactly like a client instrumented with ``cache=None``.
    """
    global _cache
    with _lock:
        if _cache is None:
            return
        method = botocore.client.BaseClient.__dict__["_make_api_call"]
        if isinstance(method, wrapt.FunctionWrapper):
            botocore.client.BaseClient._make_api_call = method.__wrapped__
        unwrap_async_clients()
        _cache = None


def _make_api_call(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    cache = _cache
    if cache is None or active_cache() is not None or not _adopt(instance):
        return wrapped(*args, **kwargs)
    with cache.activate():
        return wrapped(*args, **kwargs)


async def _make_api_call_async(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """The same for aiobotocore clients (aioboto3's included)."""
    cache = _cache
    if cache is None or active_cache() is not None or not _adopt(instance, async_client=True):
        return await wrapped(*args, **kwargs)
    with cache.activate():
        return await wrapped(*args, **kwargs)


def _adopt(client: Any, *, async_client: bool = False) -> bool:
    """Hook ``client`` if it is an uninstrumented bedrock-runtime client; True if it is ours."""
    try:
        if client in _ours:
            return True
        hooked = is_hooked if async_client else is_instrumented
        if client.meta.service_model.service_name != SERVICE or hooked(client):
            return False
        (instrument_async if async_client else instrument_client)(client)
        _ours.add(client)
        return True
    except Exception:
        logger.exception("bedrock_cache could not instrument this client; the call is unaffected")
        return False
