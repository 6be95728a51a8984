"""Which native body a model's InvokeModel takes, read into its Converse-shaped mirror."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._anthropic import read_anthropic
from ._native import Api, NativeBodyError, NativeRequest
from ._nova import read_nova

#: Which native body each model family's InvokeModel takes.
FAMILY_APIS: dict[str, Api] = {"claude": "anthropic", "nova": "nova"}


def read_native(body: Mapping[str, Any], model_id: str, family: str) -> NativeRequest:
    """Read an InvokeModel body for a model of ``family`` (``claude`` or ``nova``).

    Raises:
        NativeBodyError: the family has no mapped body, or the body is malformed for it.
    """
    api = FAMILY_APIS.get(family)
    if api is None:
        raise NativeBodyError(
            f"InvokeModel bodies are mapped for Anthropic Claude and Amazon Nova, not {family!r}"
        )
    return read_anthropic(body, model_id) if api == "anthropic" else read_nova(body, model_id)
