"""Log a telemetry fault once per distinct fault per minute; the user's call never sees it."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("bedrock_cache")

_QUIET_SECONDS = 60.0
_last: dict[str, float] = {}
_lock = threading.Lock()


def log_fault(what: str, exc: BaseException) -> None:
    """Log ``what`` failed (with the exception) unless the same fault was logged this minute."""
    key = f"{what}:{type(exc).__name__}"
    now = time.monotonic()
    with _lock:
        if now - _last.get(key, -_QUIET_SECONDS) < _QUIET_SECONDS:
            return
        _last[key] = now
    logger.warning(
        "bedrock_cache %s failed (%s: %s); the call is unaffected", what, type(exc).__name__, exc
    )
