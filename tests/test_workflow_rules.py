"""The case workflow's rules, stated on the pure state machine (``core.workflow``).

The service tests move real cases; these state each rule of the machine on
its own: where a screened case goes, which moves are refused and how the
refusal reads, and the instant a case in review becomes overdue.
"""

from __future__ import annotations

import datetime as dt

import pytest

from clearance.core.workflow import (
    TERMINAL,
    CaseState,
    check_transition,
    is_overdue,
    state_after_screening,
)
from clearance.errors import IllegalTransition

S = CaseState
DUE = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("outcome", "has_conditions", "state"),
    [
        ("review_required", False, S.IN_REVIEW),
        ("review_required", True, S.IN_REVIEW),
        ("prohibited", False, S.DENIED),
        ("prohibited", True, S.DENIED),
        ("permitted", False, S.APPROVED),
        ("permitted", True, S.APPROVED_WITH_CONDITIONS),
    ],
)
def test_a_screened_case_is_decided_at_once_unless_it_needs_review(
    outcome: str, has_conditions: bool, state: CaseState
) -> None:
    assert state_after_screening(outcome, has_conditions) is state


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SUBMITTED, S.IN_REVIEW),
        (S.IN_REVIEW, S.AWAITING_ANSWER),
        (S.AWAITING_ANSWER, S.IN_REVIEW),
        (S.APPROVED_WITH_CONDITIONS, S.CLEARED),
        (S.APPROVED, S.PARTLY_EXECUTED),
        (S.PARTLY_EXECUTED, S.EXECUTED),
        (S.CLEARED, S.SUSPENDED),
        (S.SUSPENDED, S.CLEARED),
    ],
)
def test_an_allowed_move_returns_the_state_moved_to(current: CaseState, target: CaseState) -> None:
    assert check_transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SUBMITTED, S.EXECUTED),
        (S.IN_REVIEW, S.CLEARED),
        (S.AWAITING_ANSWER, S.APPROVED),
        (S.APPROVED_WITH_CONDITIONS, S.EXECUTED),
        (S.SUSPENDED, S.EXPIRED),
        (S.IN_REVIEW, S.IN_REVIEW),
    ],
)
def test_a_move_the_machine_lacks_is_refused_naming_both_states(
    current: CaseState, target: CaseState
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_transition(current, target)
    assert str(refused.value) == f"a case that is {current.value} cannot become {target.value}"


@pytest.mark.parametrize("final", sorted(TERMINAL))
def test_a_case_in_a_final_state_never_moves_again(final: CaseState) -> None:
    assert final in {S.DENIED, S.WITHDRAWN, S.EXPIRED, S.EXECUTED}
    for target in S:
        with pytest.raises(IllegalTransition, match=f"^a case that is {final.value} cannot"):
            check_transition(final, target)


def test_a_case_in_review_is_overdue_from_the_instant_it_falls_due() -> None:
    assert not is_overdue("in_review", DUE, DUE - dt.timedelta(microseconds=1))
    assert is_overdue("in_review", DUE, DUE)
    assert is_overdue("in_review", DUE, DUE + dt.timedelta(days=1))


def test_a_case_without_a_due_time_is_never_overdue() -> None:
    assert not is_overdue("in_review", None, DUE)


@pytest.mark.parametrize("state", [s.value for s in S if s is not S.IN_REVIEW])
def test_only_a_case_in_review_can_be_overdue(state: str) -> None:
    assert not is_overdue(state, DUE, DUE + dt.timedelta(days=30))
