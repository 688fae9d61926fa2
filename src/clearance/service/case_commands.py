"""Changing a case once it is submitted, each one transaction: answer a gate, withdraw,
meet a condition, execute (submitting is ``service.submission``).

Every command reads the case, checks the move against the workflow
(``core.workflow``) and the actor's standing (for a withdrawal, a condition
or an execution, by the checks of ``service.case_moves``, which also tell an
interface what to offer a reader), writes the change with the
case's version (a concurrent change makes it fail with ``ConflictError``),
and appends its ledger events, all in one transaction: it happens whole, or
not at all. That includes the stock a case moves (``service.stockpile``): an
approved transfer commits, an executed one delivers, an executed use consumes.
Each returns the case as it then stands, as the actor sees it, read in the
same transaction: nothing is read after the commit, so a database that
fails just then cannot make a recorded change look unrecorded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearance.core.event_words import suspension_words
from clearance.core.events import (
    ApprovalDenied,
    ApprovalGiven,
    CaseExecuted,
    ConditionMet,
)
from clearance.core.request import AnyRequest
from clearance.core.signing import Signer, sign_statement
from clearance.core.workflow import CaseState
from clearance.errors import (
    ExecutionSuspended,
    IllegalTransition,
    InputError,
    NotFoundError,
    PermissionDenied,
)
from clearance.policy.engine import Screener
from clearance.service.access import (
    Action,
    Principal,
    check,
    principal,
)
from clearance.service.anchoring import installation_key
from clearance.service.case_moves import (
    ANSWERABLE_STATES,
    check_condition,
    check_evidence,
    check_execute,
    check_in_lifetime,
    check_waiting_period,
    check_withdraw,
    drawn_so_far,
    readable,
    record_move,
)
from clearance.service.case_view import CaseView, find_case, view_in
from clearance.service.clocks import ReviewClocks
from clearance.service.execution import judged_for_execution, resumes_to, suspend
from clearance.service.lifetimes import approval_expiry
from clearance.service.people import can_act_for
from clearance.service.signed_answers import statement_about
from clearance.service.stock_moves import case_movements
from clearance.service.stockpile import StockService
from clearance.store.protocol import Transaction
from clearance.store.records import ApprovalRecord, CaseRecord, LedgerRecord
from clearance.store.repository import Store

__all__ = ["CaseCommands"]


def _pick_gate(
    tx: Transaction,
    actor: str,
    authority: str | None,
    open_gates: dict[str, bool],
    gates: dict[str, bool],
    day: dt.date,
) -> tuple[str, str | None]:
    """The gate ``actor`` answers (the one named, or the only one they may) and for whom."""
    if authority is not None:
        if authority not in gates:
            raise PermissionDenied(f"{authority} is not an approval this case needs")
        if authority not in open_gates:
            raise IllegalTransition(f"{authority} has already answered on this case")
        return authority, can_act_for(tx, actor, authority, day, delegable=open_gates[authority])
    usable: list[tuple[str, str | None]] = []
    refusals: list[str] = []
    for gate, delegable in sorted(open_gates.items()):
        try:
            usable.append((gate, can_act_for(tx, actor, gate, day, delegable=delegable)))
        except PermissionDenied as exc:
            refusals.append(exc.message)
    if len(usable) == 1:
        return usable[0]
    if usable:
        raise InputError(
            "--authority",
            f"{actor} can answer for several offices; name one of {[u[0] for u in usable]}",
        )
    raise PermissionDenied(
        "; ".join(refusals) or "this case has no open approvals"  # pragma: no mutate
    )


def _statement(
    case: CaseRecord,
    gate: str,
    on_behalf_of: str | None,
    *,
    approve: bool,
    reason: str,
    actor: str,
    now: dt.datetime,
    prior: tuple[int, str],
) -> dict[str, Any]:
    """What the signer of an answer signs: the case's facts (``statement_about``) with the
    approvals and conditions its decision needs, and their verdict on one gate."""
    decision = case.decision
    return statement_about(
        case,
        actor=actor,
        on_behalf_of=on_behalf_of,
        now=now,
        prior=prior,
        required_approvals=[a.as_dict() for a in decision.required_approvals],
        conditions=list(decision.conditions),
        authority=gate,
        verdict="approve" if approve else "deny",
        reason=reason,
    )


class CaseCommands:
    """The changes to submitted cases over one store, and the stock they move."""

    def __init__(
        self, store: Store, stock: StockService, clocks: ReviewClocks, screener: Screener
    ) -> None:
        self.store = store
        self.stock = stock
        self.clocks = clocks
        self.screener = screener

    def _shown(self, tx: Transaction, case: CaseRecord, reader: Principal) -> CaseView:
        """The case as ``reader`` may see it, read in ``tx``."""
        return view_in(tx, case, reader.user, installation_key(self.store), self.clocks)

    def _move_stock(
        self,
        tx: Transaction,
        request: AnyRequest,
        case_id: str,
        state: CaseState,
        *,
        actor: str,
        now: dt.datetime,
        done: int | None = None,
    ) -> LedgerRecord | None:
        """The stock the case's move to ``state`` moves, written; its ledger event, if any."""
        return case_movements(
            tx, self.stock, request, case_id=case_id, state=state, done=done, now=now, actor=actor
        )

    # answering gates --------------------------------------------------------------

    def answer(
        self,
        case_id: str,
        *,
        actor: str,
        approve: bool,
        reason: str,
        signer: Signer,
        now: dt.datetime,
        authority: str | None = None,
    ) -> CaseView:
        """Approve or deny one gate of a case in review, signed by the actor personally.

        ``signer`` is called only once the actor is known to see the case, so a
        signer that unlocks the key when called (``Runtime.signer``) is asked for it
        only then."""
        if not approve and not reason.strip():
            raise InputError("reason", "a denial needs a reason")
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_id, acting, lock=True)  # pragma: no mutate
            case_id = case.id
            if case.state not in ANSWERABLE_STATES:
                raise IllegalTransition(f"case {case.number} is {case.state}, not in review")
            check(acting, Action.CASE_ANSWER, case)
            user = acting.user
            if user is None:
                raise NotFoundError(f"unknown user '{actor}'")
            answered = {a.authority for a in tx.cases.approvals(case_id)}
            gates = {g.authority: g.delegable for g in case.decision.required_approvals}
            open_gates = {a: d for a, d in gates.items() if a not in answered}
            if case.state is CaseState.SUSPENDED and not open_gates:
                raise IllegalTransition(
                    f"case {case.number} is suspended under a policy that prohibits it:"
                    " no office can approve it"
                )
            gate, on_behalf_of = _pick_gate(tx, actor, authority, open_gates, gates, now.date())
            statement = _statement(
                case,
                gate,
                on_behalf_of,
                approve=approve,
                reason=reason,
                actor=actor,
                now=now,
                prior=tx.ledger.head(),
            )
            message, signature = sign_statement(
                statement, signer, public_key=user.public_key, actor=actor
            )
            tx.cases.add_approval(
                ApprovalRecord(
                    case_id,
                    gate,
                    statement["verdict"],
                    actor,
                    on_behalf_of,
                    reason,
                    message.decode(),
                    signature,
                    now,
                )
            )
            answer = ApprovalGiven if approve else ApprovalDenied
            tx.append(
                answer(statement, signature, user.public_key),
                actor=actor,
                at=now,
                case_id=case_id,
            )
            resuming = approve and case.state is CaseState.SUSPENDED
            if not approve:
                target = CaseState.DENIED
            elif set(open_gates) == {gate} and resuming:
                target = resumes_to(tx, case)
            elif set(open_gates) == {gate}:
                conditions = tx.cases.conditions(case_id)
                target = CaseState.APPROVED_WITH_CONDITIONS if conditions else CaseState.APPROVED
            else:
                return self._shown(tx, tx.cases.update(case), acting)
            expires_at = None
            if target is not CaseState.DENIED:  # a fresh approval starts a fresh lifetime
                judged = case.decision.record.get("request", {})  # pragma: no mutate
                action = str(judged.get("action", ""))  # pragma: no mutate
                expires_at = approval_expiry(
                    self.clocks.history, case.decision.bundles, action, now
                )
            why = reason or f"{gate} approved"
            moved = record_move(
                tx, case, target, actor=actor, now=now, why=why, expires_at=expires_at
            )
            if not resuming:  # a resumed case keeps what it had committed; a denial releases it
                self._move_stock(tx, readable(case), case_id, target, actor=actor, now=now)
            return self._shown(tx, moved, acting)

    # the rest of the life ---------------------------------------------------------

    def withdraw(
        self,
        case_id: str,
        *,
        actor: str,
        reason: str,
        now: dt.datetime,
    ) -> CaseView:
        """The requester takes a case back before it is executed."""
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_id, acting, lock=True)  # pragma: no mutate
            request = check_withdraw(acting, case)
            moved = record_move(
                tx, case, CaseState.WITHDRAWN, actor=actor, now=now, why=reason or "withdrawn"
            )
            self._move_stock(tx, request, case.id, CaseState.WITHDRAWN, actor=actor, now=now)
            return self._shown(tx, moved, acting)

    def condition_met(
        self,
        case_id: str,
        *,
        actor: str,
        condition: str,
        evidence: str,
        now: dt.datetime,
    ) -> CaseView:
        """Record a condition as met; the last one clears the case."""
        check_evidence(evidence)
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_id, acting, lock=True)  # pragma: no mutate
            case_id = case.id
            conditions = {k.text: k for k in tx.cases.conditions(case_id)}
            check_condition(acting, case, conditions, condition)
            tx.cases.mark_condition_met(case_id, condition, at=now, by=actor, evidence=evidence)
            tx.append(ConditionMet(condition, evidence), actor=actor, at=now, case_id=case_id)
            if all(k.met_at is not None or k.text == condition for k in conditions.values()):
                updated = record_move(
                    tx, case, CaseState.CLEARED, actor=actor, now=now, why="every condition met"
                )
            else:
                updated = tx.cases.update(case)
            return self._shown(tx, updated, acting)

    def execute(
        self,
        case_id: str,
        *,
        actor: str,
        quantity: int | None,
        now: dt.datetime,
    ) -> CaseView:
        """Record a draw on the case: ``quantity`` used or delivered (None: all that remains).

        The draw is judged again under the policy in force on ``now``'s day, with the
        approvals the case holds (``service.execution``). When that policy would not permit
        it, the case is suspended, and that commits, and the draw is refused with
        ``ExecutionSuspended``, naming the offices it now waits on. Otherwise the draw is
        recorded; the one that draws the last of the approved quantity executes the case,
        any other leaves it partly executed."""
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_id, acting, lock=True)  # pragma: no mutate
            drawn = drawn_so_far(tx, case)
            request, done = check_execute(acting, case, quantity, drawn)
            check_in_lifetime(case, now)
            check_waiting_period(tx, case, now.date())
            judged = judged_for_execution(tx, self.screener, case, now)
            if judged.permits:
                return self._draw(tx, acting, case, request, drawn, done, now)
            _, payload = suspend(
                tx, case, judged, cause="execution", quantity=done, actor=actor, now=now
            )
            number = case.number
        raise ExecutionSuspended(
            f"case {number} was not executed and is suspended: {suspension_words(payload)}"
        )

    def _draw(
        self,
        tx: Transaction,
        acting: Principal,
        case: CaseRecord,
        request: AnyRequest,
        drawn: int,
        done: int,
        now: dt.datetime,
    ) -> CaseView:
        """Record a draw of ``done`` on ``case`` (``drawn`` before it) and the stock it moves."""
        total, asked = drawn + done, request.quantity
        target = CaseState.EXECUTED if total >= asked else CaseState.PARTLY_EXECUTED
        tx.append(CaseExecuted(done, total, asked), actor=acting.id, at=now, case_id=case.id)
        if target is case.state:
            moved = tx.cases.update(case)
        else:
            why = f"executed: {total} of {asked}"
            moved = record_move(tx, case, target, actor=acting.id, now=now, why=why)
        self._move_stock(tx, request, case.id, target, actor=acting.id, now=now, done=done)
        return self._shown(tx, moved, acting)
