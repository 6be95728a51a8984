"""The litellm strategy (wired in a following change)."""

from __future__ import annotations

from typing import Any

from . import Sender, Strategy, Unavailable


def _open(emu: Any, model: str) -> Sender:
    raise Unavailable("not wired to the emulator yet")


LITELLM = Strategy("litellm", "", _open)
