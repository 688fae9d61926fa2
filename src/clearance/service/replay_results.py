"""What a replay found: each case the candidate would decide differently, each case it could
not judge, and the report of the whole period (service/replay.py makes them; the command
and the page show them)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from clearance.policy.bundle import PolicyBundle

__all__ = ["Change", "ReplayReport", "Skipped"]


@dataclass(frozen=True, slots=True)
class Change:
    """One case the candidate would decide differently."""

    case_id: str
    number: int
    request: dict[str, Any]
    state: str
    was: str
    would_be: str
    was_reasons: tuple[str, ...]
    would_be_reasons: tuple[str, ...]
    """The candidate's determining policy ids (``US/us-strikes-in-russia-authorised``)."""
    notes: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    """The zones the target's region lay in on the request's date (``entities.zone_labels``)."""

    @property
    def kind(self) -> str:
        return f"{self.was} → {self.would_be}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "case_id": self.case_id,
            "request": self.request,
            "state": self.state,
            "was": self.was,
            "would_be": self.would_be,
            "kind": self.kind,
            "was_reasons": list(self.was_reasons),
            "would_be_reasons": list(self.would_be_reasons),
            "notes": list(self.notes),
            "zones": list(self.zones),
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A stored case that cannot be judged against this pack (say, its system was removed)."""

    number: int
    problem: str


@dataclass(frozen=True, slots=True)
class ReplayReport:
    candidate: PolicyBundle
    first: dt.date | None
    last: dt.date | None
    examined: int
    changes: tuple[Change, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def by_kind(self) -> dict[str, int]:
        """How many cases change in each way, most frequent first."""
        return dict(Counter(c.kind for c in self.changes).most_common())

    @property
    def by_zone(self) -> dict[str, int]:
        """How many changed cases target each zone (a case in two zones counts in both);
        cases without a target region are not counted."""
        return dict(Counter(z for c in self.changes for z in c.zones).most_common())

    def as_dict(self) -> dict[str, Any]:
        bundle = self.candidate
        return {
            "bundle": {
                "holder": bundle.holder,
                "folder": bundle.folder,
                "title": bundle.title,
                "effective_from": bundle.effective_from.isoformat(),
                "revision": bundle.revision,
            },
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
            "examined": self.examined,
            "changed": len(self.changes),
            "by_kind": self.by_kind,
            "by_zone": self.by_zone,
            "changes": [c.as_dict() for c in self.changes],
            "skipped": [{"number": s.number, "problem": s.problem} for s in self.skipped],
        }
