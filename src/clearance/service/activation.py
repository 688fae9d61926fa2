"""What activating a policy proposal answers: the proposal, and what re-screening found.

Kept apart from ``service.proposals`` because it joins two services: the
activation (proposals) and the re-screening of the open cases that follows it
(cases), which ``service.runtime`` runs with the policy just activated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearance.core.access import Level
from clearance.service.proposals import ProposalView
from clearance.store.records import CaseRecord

__all__ = ["Activated"]


@dataclass(frozen=True, slots=True)
class Activated:
    """An activated proposal and what the re-screening that followed found, of the cases the
    activator may see: the open cases now decided differently, those it could not judge,
    and the approved cases it suspended (with the offices each now waits on).
    ``rescreen_error`` says why the re-screening did not run, when it did not: the
    activation stands all the same."""

    view: ProposalView
    rescreened: tuple[tuple[CaseRecord, str, str], ...]
    failed: tuple[tuple[CaseRecord, str], ...] = ()
    rescreen_error: str | None = None
    suspended: tuple[tuple[CaseRecord, tuple[str, ...]], ...] = ()

    @property
    def level(self) -> Level:
        """The highest classification of the re-screened cases listed, for the banner."""
        cases = [case for case, _, _ in self.rescreened] + [case for case, _ in self.failed]
        cases += [case for case, _ in self.suspended]
        return Level(max((case.classification for case in cases), default=0))

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.view.as_dict(),
            "rescreened": [
                {"number": case.number, "case_id": case.id, "was": was, "would_be": would_be}
                for case, was, would_be in self.rescreened
            ],
            "rescreen_failed": [
                {"number": case.number, "case_id": case.id, "problem": problem}
                for case, problem in self.failed
            ],
            "rescreen_error": self.rescreen_error,
            "suspended": [
                {"number": case.number, "case_id": case.id, "suspended_for": list(offices)}
                for case, offices in self.suspended
            ],
        }
