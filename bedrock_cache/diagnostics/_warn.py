"""The miss warning: one ``logging`` line per distinct miss per minute, never prompt text."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ._miss import Miss

logger = logging.getLogger("bedrock_cache")

#: Seconds before the same miss (cause and place) is logged again.
INTERVAL = 60.0
#: Expected misses that are not worth a warning (a cold cache).
QUIET_CAUSES = frozenset({"first_seen"})


class MissWarnings:
    """Logs a warning for each miss worth acting on, at most once per :data:`INTERVAL` each."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[tuple[object, ...], float] = {}
        self._lock = threading.Lock()

    def __call__(self, model_id: str, miss: Miss) -> None:
        if miss.cause in QUIET_CAUSES:
            logger.debug("bedrock_cache: %s", miss.message)
            return
        key = (model_id, miss.cause, miss.section, miss.block)
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < INTERVAL:
                return
            self._last[key] = now
            if len(self._last) > 1024:
                self._last.pop(next(iter(self._last)))
        logger.warning("bedrock_cache miss (%s) on %s: %s", miss.cause, model_id, miss.message)
