"""Deprecated names of the reuse store (kept so existing imports keep working).

``ReuseTracker`` is now :class:`bedrock_cache.InProcessStore` and ``Sighting`` is
:class:`bedrock_cache.Observation`; see :mod:`bedrock_cache._store`.
"""

from __future__ import annotations

from ._store import InProcessStore, Observation

ReuseTracker = InProcessStore
Sighting = Observation
