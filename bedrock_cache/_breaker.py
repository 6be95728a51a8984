"""A circuit breaker for an external service the plugin may use but must never wait on.

Closed: calls go through. After ``failures`` consecutive failures it opens: calls are skipped (no
time spent) for a cool-down that doubles on each failed trial up to ``max_cooldown``. When the
cool-down ends one trial call goes through (half-open); its success closes the breaker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ._faults import fault

logger = logging.getLogger("bedrock_cache")


class CircuitBreaker:
    """Decides whether to try a service now; thread-safe.

    Args:
        name: what the log lines call the service, e.g. ``"Redis store"``.
        failures: consecutive failures that open the breaker.
        cooldown: seconds the breaker stays open after it opens.
        max_cooldown: the longest cool-down after repeated failed trials.
        clock: monotonic seconds (injectable for tests and simulations).
    """

    def __init__(
        self,
        name: str,
        *,
        failures: int = 3,
        cooldown: float = 5.0,
        max_cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(failures, int) or failures < 1:
            raise ValueError(f"failures must be a positive int, not {failures!r}")
        if not 0 <= cooldown <= max_cooldown:
            raise ValueError(
                f"need 0 <= cooldown <= max_cooldown, not {cooldown!r} and {max_cooldown!r}"
            )
        self.name = name
        self._threshold = failures
        self._base_cooldown = cooldown
        self._max_cooldown = max_cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._cooldown = cooldown
        self._open_until: float | None = None
        self._trial = False
        self.skipped = 0
        """Calls skipped because the breaker was open."""

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None

    def allow(self) -> bool:
        """Whether to try the service now (one trial at a time once a cool-down ends)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._clock() >= self._open_until and not self._trial:
                self._trial = True
                return True
            self.skipped += 1
            return False

    def succeeded(self) -> None:
        with self._lock:
            recovered = self._open_until is not None
            self._failures = 0
            self._cooldown = self._base_cooldown
            self._open_until = None
            self._trial = False
        if recovered:
            logger.warning("bedrock_cache: %s is reachable again; sharing resumed", self.name)

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self._failures += 1
            if self._trial:
                self._cooldown = min(self._cooldown * 2, self._max_cooldown)
            elif self._failures < self._threshold:
                return
            self._trial = False
            self._open_until = self._clock() + self._cooldown
        # The plugin's one fault log: a line at most once a minute, no exception text.
        fault(
            f"{self.name} unavailable; planning on this process's own observations until a "
            "retry succeeds",
            error,
        )
