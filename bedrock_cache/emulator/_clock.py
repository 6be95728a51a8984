"""Clocks for the emulator: wall time by default, a manual clock for tests and benchmarks."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since an arbitrary origin; only differences matter."""

    def now(self) -> float: ...


class WallClock:
    """Real time (monotonic)."""

    def now(self) -> float:
        return time.monotonic()


class ManualClock:
    """Time that only moves when told: ``clock.advance(301)`` expires a 5-minute entry."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go back; pass a positive number of seconds")
        with self._lock:
            self._now += seconds
            return self._now
