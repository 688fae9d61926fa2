"""Waiving a legislature's waiting period: the emergency waiver of the office the policy
names, signed personally, recorded on the ledger.

A case whose decision records a waiting period (``core.waiting_periods``) may not be
executed until the period ends (``service.case_moves.check_waiting_period``). The office
the holder's ``legislative_review`` names as ``waiver`` (``us.president`` in the seed)
may lift it earlier by stating an emergency: the holder of that office, personally (no
delegate), signs a statement over the case, its decision and the period, as an approval
is signed (docs/formats.md, signed statements), and the waiver is the
``waiting_period_waived`` event that carries it. Like an escalation step, it lives on
the ledger alone: the check reads the case's events, and only for a case still inside
its period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearance.core.events import WaitingPeriodWaived
from clearance.core.signing import Signer, sign_statement
from clearance.core.waiting_periods import WaitingPeriod
from clearance.core.workflow import CaseState
from clearance.errors import IllegalTransition, InputError, NotFoundError, PermissionDenied
from clearance.service.access import Action, Principal, check, principal
from clearance.service.anchoring import installation_key
from clearance.service.case_view import CaseView, find_case, view_in, waiver
from clearance.service.clocks import ReviewClocks
from clearance.service.people import can_act_for
from clearance.service.signed_answers import statement_about
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

__all__ = ["WAIVABLE_STATES", "WaitingPeriods", "check_waive"]

WAIVABLE_STATES = frozenset(
    {
        CaseState.IN_REVIEW,
        CaseState.AWAITING_ANSWER,
        CaseState.APPROVED,
        CaseState.APPROVED_WITH_CONDITIONS,
        CaseState.CLEARED,
    }
)
"""States of a case that may still be executed, in which its waiting period may be waived."""


def check_waive(
    tx: Transaction, acting: Principal, case: CaseRecord, day: dt.date
) -> WaitingPeriod:
    """Refuse a waiver ``acting`` may not give on ``day``: of a case that may still be
    executed, inside a waiting period not yet waived, by the holder of the office the
    policy names, personally. The period otherwise."""
    check(acting, Action.CASE_ANSWER, case)
    if acting.user is None:
        raise NotFoundError(f"unknown user '{acting.id}'")
    period = case.decision.waiting_period
    if period is None:
        raise IllegalTransition(f"case {case.number} has no waiting period to waive")
    if case.state not in WAIVABLE_STATES:
        raise IllegalTransition(f"case {case.number} is {case.state}; it will not be executed")
    if not period.blocks(day):
        raise IllegalTransition(
            f"case {case.number}'s waiting period ended on {period.ends_on.isoformat()}"
        )
    if waiver(tx.ledger.of_case(case.id)) is not None:
        raise IllegalTransition(f"case {case.number}'s waiting period is already waived")
    try:
        can_act_for(
            tx,
            acting.id,
            period.waiver,
            day,
            delegable=False,
            personally="waives a waiting period personally: no delegate may",
        )
    except PermissionDenied as exc:
        raise PermissionDenied(
            f"only {period.waiver} may waive this waiting period: {exc.message}"
        ) from None
    return period


def _statement(
    case: CaseRecord,
    period: WaitingPeriod,
    *,
    reason: str,
    actor: str,
    now: dt.datetime,
    prior: tuple[int, str],
) -> dict[str, Any]:
    """What the waiving office signs: the case's facts (``statement_about``) and the period
    it waives."""
    return statement_about(
        case,
        actor=actor,
        on_behalf_of=None,
        now=now,
        prior=prior,
        waiting_period=period.as_dict(),
        authority=period.waiver,
        verdict="waive",
        reason=reason,
    )


class WaitingPeriods:
    """Waiving waiting periods over one store."""

    def __init__(self, store: Store, clocks: ReviewClocks) -> None:
        self.store = store
        self.clocks = clocks

    def waive(
        self, case_id: str, *, actor: str, reason: str, signer: Signer, now: dt.datetime
    ) -> CaseView:
        """Waive the waiting period of a case, signed by the waiving office's holder; the
        case as it then stands. ``signer`` is called only once the actor may waive."""
        if not reason.strip():
            raise InputError("reason", "a waiver states the emergency that calls for it")
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_id, acting, lock=True)
            period = check_waive(tx, acting, case, now.date())
            user = acting.user
            assert user is not None  # check_waive refuses the operator
            statement = _statement(
                case, period, reason=reason, actor=actor, now=now, prior=tx.ledger.head()
            )
            _, signature = sign_statement(
                statement, signer, public_key=user.public_key, actor=actor
            )
            tx.append(
                WaitingPeriodWaived(statement, signature, user.public_key),
                actor=actor,
                at=now,
                case_id=case.id,
            )
            updated = tx.cases.update(case)
            return view_in(tx, updated, user, installation_key(self.store), self.clocks)
