"""Configuration checked where it is written: each error names the argument, what was wrong and
what to write instead. Shared by :class:`BedrockCache` and the framework adapters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ._models import ModelTable
from ._policy import CachePolicy

#: The keyword arguments :class:`CachePolicy` takes, accepted by the adapters instead of a cache.
POLICY_OPTIONS = frozenset(f.name for f in fields(CachePolicy))


def check_instance(name: str, value: Any, kind: type, instead: str) -> None:
    """``TypeError`` unless ``value`` is ``None`` or a ``kind``; ``instead`` says what to pass."""
    if value is not None and not isinstance(value, kind):
        raise TypeError(f"{name} must be {instead}, not {_shown(value)}")


def check_table(table: Any) -> None:
    check_instance(
        "table",
        table,
        ModelTable,
        "a bedrock_cache.ModelTable (e.g. ModelTable.shipped(), then .load('models.toml'))",
    )


def check_policy(policy: Any) -> None:
    if isinstance(policy, type) and issubclass(policy, CachePolicy):
        raise TypeError("policy must be a CachePolicy instance: write CachePolicy(), not the class")
    check_instance("policy", policy, CachePolicy, "a bedrock_cache.CachePolicy(...)")


def check_callable(name: str, value: Any, instead: str) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be {instead}, not {_shown(value)}")


def policy_from(options: Mapping[str, Any]) -> CachePolicy:
    """``CachePolicy(**options)``, with unknown names reported with the valid ones."""
    unknown = sorted(set(options) - POLICY_OPTIONS)
    if unknown:
        raise TypeError(
            f"unknown CachePolicy option(s) {', '.join(unknown)}; valid options are "
            f"{', '.join(sorted(POLICY_OPTIONS))}"
        )
    return CachePolicy(**options)


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"
