"""How one part's run in the child ended, as the supervisor saw it from outside."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PartRun:
    """How one part's probe ended, as seen from outside the child."""

    status: str  # "ok", "timeout", "memory", "crashed", "not_loaded", "skipped"
    message: str = ""
    seconds: float = 0.0
