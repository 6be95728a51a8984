"""Telemetry faults go through the plugin's one fault log (once per distinct fault per minute);
the user's call never sees them."""

from __future__ import annotations

from .._faults import fault


def log_fault(what: str, exc: BaseException) -> None:
    """Report that ``what`` failed; the call is unaffected."""
    fault(f"{what} failed; the call is unaffected", exc)
