"""Values derived from an object that never changes, kept while that very object is in use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """``make(key)``, remembered by the key's identity: looked up by ``id`` and checked with
    ``is`` (an id is reused once its object is gone). Cleared past ``limit`` keys; safe to share
    between threads (at worst a value is made twice)."""

    def __init__(self, make: Callable[[K], V], limit: int) -> None:
        self._make = make
        self._limit = limit
        self._known: dict[int, tuple[K, V]] = {}

    def __call__(self, key: K) -> V:
        known = self._known.get(id(key))
        if known is None or known[0] is not key:
            if len(self._known) > self._limit:
                self._known.clear()
            known = self._known[id(key)] = (key, self._make(key))
        return known[1]
