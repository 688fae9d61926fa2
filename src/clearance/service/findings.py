"""A problem an audit found: the first event it concerns, and what is wrong, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Finding"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: the first event it concerns (None: no single event) and what is wrong."""

    seq: int | None
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "problem": self.problem}
