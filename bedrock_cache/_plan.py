"""The planner's decision for one request: its checkpoints, and why each stands where it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ._frozen import one_step_init
from ._layout import Section
from ._models import TTL

Role = Literal["tools", "system", "system_head", "document", "shared", "bridge", "conversation"]


@one_step_init
@dataclass(frozen=True)
class PlannedCheckpoint:
    """A checkpoint the planner places right after block ``after``."""

    after: int
    section: Section
    message: int
    ttl: TTL
    role: Role
    prefix_tokens: int
    reason: str


@one_step_init
@dataclass(frozen=True)
class Plan:
    """The planner's decision for one request."""

    model_id: str
    checkpoints: tuple[PlannedCheckpoint, ...]
    kept: int
    """Checkpoints the request already carried (placed by the user); kept and counted."""
    skipped: tuple[str, ...]
    """Why candidate boundaries got no checkpoint."""

    @property
    def reasons(self) -> list[str]:
        return [cp.reason for cp in self.checkpoints]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "checkpoints": [
                {"role": cp.role, "after_block": cp.after, "ttl": cp.ttl, "reason": cp.reason}
                for cp in self.checkpoints
            ],
            "user_checkpoints": self.kept,
            "skipped": list(self.skipped),
        }
