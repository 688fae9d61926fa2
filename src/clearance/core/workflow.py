"""The life of a case as an explicit state machine: pure code, no storage.

::

    submitted ──► in_review ──► approved ─────────────────┐
        │          │  ▲  │    └──► approved_with_conditions ──► cleared ──► executed
        │          ▼  │  │                                     ▲
        │    awaiting_answer ├──► denied             approved ─┘ (also ──► executed)
        └─────────────┴──────┴──► withdrawn | expired

    approved | cleared ──► partly_executed ──► executed
           │                    │
           └──► suspended ◄─────┘   (back to where it was once the offices approve,
                    └──► denied | withdrawn          or denied)

A case in review may wait on its requester: a question moves it to
``awaiting_answer``, where its review clocks stop, and the answer moves it back.

An approved case is executed in one or more draws: the first that leaves some of
the approved quantity moves it to ``partly_executed``, the one that draws the
last to ``executed``. Each draw is judged again under the policy in force on its
day; when that policy would not permit it (or when a bundle that takes effect
would not), the case is ``suspended`` instead, waiting on the offices the policy
in force names. When they all approve it goes back to the state it was
suspended from; a denial ends it as ``denied``.

A submitted request is screened at once: a permitted one goes straight to
``approved`` (or ``approved_with_conditions``), a prohibited one to
``denied``, one that needs review to ``in_review``. Any other move is refused
with ``IllegalTransition``, which names both states.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from clearance.errors import IllegalTransition

__all__ = [
    "DECIDED_STATES",
    "EXECUTABLE_STATES",
    "OPEN_STATES",
    "TERMINAL",
    "CaseState",
    "check_transition",
    "is_overdue",
    "state_after_screening",
]


class CaseState(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    AWAITING_ANSWER = "awaiting_answer"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    CLEARED = "cleared"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    EXECUTED = "executed"
    PARTLY_EXECUTED = "partly_executed"
    SUSPENDED = "suspended"


OPEN_STATES: frozenset[CaseState] = frozenset(
    {
        CaseState.SUBMITTED,
        CaseState.IN_REVIEW,
        CaseState.AWAITING_ANSWER,
        CaseState.APPROVED_WITH_CONDITIONS,
        CaseState.SUSPENDED,
    }
)
"""Cases still waiting on someone: a decision, an answer, a condition to be met, or the
offices a suspended case waits on."""

EXECUTABLE_STATES: frozenset[CaseState] = frozenset(
    {CaseState.APPROVED, CaseState.CLEARED, CaseState.PARTLY_EXECUTED}
)
"""States from which a case may be executed (some or all of what is left of it): the ones
judged again on the day of a draw, and when a bundle takes effect."""

DECIDED_STATES: frozenset[CaseState] = frozenset(
    {CaseState.APPROVED, CaseState.APPROVED_WITH_CONDITIONS, CaseState.DENIED}
)
"""States that are a decision: the first one a case enters is its ``decided_as``."""

_MOVES: dict[CaseState, frozenset[CaseState]] = {
    CaseState.SUBMITTED: frozenset(
        {
            CaseState.IN_REVIEW,
            CaseState.APPROVED,
            CaseState.APPROVED_WITH_CONDITIONS,
            CaseState.DENIED,
            CaseState.WITHDRAWN,
        }
    ),
    CaseState.IN_REVIEW: frozenset(
        {
            CaseState.APPROVED,
            CaseState.APPROVED_WITH_CONDITIONS,
            CaseState.DENIED,
            CaseState.WITHDRAWN,
            CaseState.EXPIRED,
            CaseState.AWAITING_ANSWER,
        }
    ),
    CaseState.AWAITING_ANSWER: frozenset(
        {CaseState.IN_REVIEW, CaseState.WITHDRAWN, CaseState.EXPIRED}
    ),
    CaseState.APPROVED_WITH_CONDITIONS: frozenset(
        {CaseState.CLEARED, CaseState.WITHDRAWN, CaseState.EXPIRED}
    ),
    CaseState.APPROVED: frozenset(
        {
            CaseState.EXECUTED,
            CaseState.PARTLY_EXECUTED,
            CaseState.SUSPENDED,
            CaseState.WITHDRAWN,
            CaseState.EXPIRED,
        }
    ),
    CaseState.CLEARED: frozenset(
        {
            CaseState.EXECUTED,
            CaseState.PARTLY_EXECUTED,
            CaseState.SUSPENDED,
            CaseState.WITHDRAWN,
            CaseState.EXPIRED,
        }
    ),
    CaseState.PARTLY_EXECUTED: frozenset(
        {CaseState.EXECUTED, CaseState.SUSPENDED, CaseState.WITHDRAWN, CaseState.EXPIRED}
    ),
    CaseState.SUSPENDED: frozenset(
        {
            CaseState.APPROVED,
            CaseState.CLEARED,
            CaseState.PARTLY_EXECUTED,
            CaseState.DENIED,
            CaseState.WITHDRAWN,
        }
    ),
}

TERMINAL = frozenset(s for s in CaseState if s not in _MOVES)
"""States a case never leaves: denied, withdrawn, expired, executed."""


def check_transition(current: CaseState, target: CaseState) -> CaseState:
    """Return ``target`` if the workflow allows the move, else raise ``IllegalTransition``."""
    if target not in _MOVES.get(current, frozenset()):
        raise IllegalTransition(f"a case that is {current.value} cannot become {target.value}")
    return target


def state_after_screening(outcome: str, has_conditions: bool) -> CaseState:
    """Where a freshly screened case goes: decided at once unless review is required."""
    if outcome == "review_required":
        return CaseState.IN_REVIEW
    if outcome == "prohibited":
        return CaseState.DENIED
    return CaseState.APPROVED_WITH_CONDITIONS if has_conditions else CaseState.APPROVED


def is_overdue(state: str, due_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A case in review past the time its clocks made it due: it waits on a named office."""
    return state == CaseState.IN_REVIEW.value and due_at is not None and now >= due_at
