"""Execution judged on its own day: an approved case is judged again under the policy in
force on the day it is drawn on (``CaseCommands.execute``), and on the day a bundle takes
effect (``Rescreener.rescreen``); when that policy would not permit it, the case is
suspended instead, in the same transaction, waiting on the offices the policy names.

A case is judged again as it was screened (``service.rejudge``): its stored request,
with the stockpile facts its decision recorded (a transfer's draw does not count its own
commitment against it), as of the day, and then with the approvals it already holds: an
office that approved it once is not asked again. What the policy would still need is the
offices it names that have not approved; none, and the draw goes ahead. A prohibition
leaves none that could: the case stays suspended until it is withdrawn.

The suspension is a ledger event (``CaseSuspended``: the judgement, which becomes the
case's decision, the bundles and policies behind it, the offices it waits on) and a move
to ``suspended``. Those offices answer it as they answer a case in review
(``CaseCommands.answer``, which signs over the new decision); when the last approves, it
goes back to the state it was suspended from (``resumes_to``), and a denial ends it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from clearance.core.chain import EventType
from clearance.core.decision import Decision, Outcome, RecordedDecision
from clearance.core.event_words import suspension_words
from clearance.core.events import CaseStateChanged, CaseSuspended
from clearance.core.workflow import CaseState, check_transition
from clearance.errors import IllegalTransition
from clearance.policy.engine import Screener
from clearance.service.case_moves import record_move
from clearance.service.rejudge import CannotJudge, judge_again
from clearance.service.stock_seen import decision_recorded
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord

__all__ = [
    "DayJudgement",
    "judge_on_day",
    "resumes_to",
    "suspend",
]


@dataclass(frozen=True, slots=True)
class DayJudgement:
    """A case judged on a day: the decision of the policy in force, and the offices it names
    that have not approved the case (none when it permits, or when it prohibits)."""

    decision: Decision
    offices: tuple[str, ...]

    @property
    def permits(self) -> bool:
        """Whether the policy in force permits the case with the approvals it holds."""
        outcome = self.decision.outcome
        return outcome is Outcome.PERMITTED or (
            outcome is Outcome.REVIEW_REQUIRED and not self.offices
        )


def judge_on_day(
    tx: Transaction, screener: Screener, case: CaseRecord, day: dt.date, now: dt.datetime
) -> DayJudgement:
    """``case`` judged under the policy in force on ``day`` (or on its request's date, if
    that is later: a case is never judged under a policy older than its request) with the
    approvals it holds; ``CannotJudge`` when its request no longer reads or screens
    (``service.rejudge``)."""
    _, decision = judge_again(
        case,
        lambda stored, request: screener.decide(
            request,
            decision_id=str(uuid.uuid4()),
            now=now,
            as_of=max(request.date, day),
            stockpile=stored.decision.stockpile,
        ),
    )
    if decision.outcome is not Outcome.REVIEW_REQUIRED:
        return DayJudgement(decision, ())
    approved = {a.authority for a in tx.cases.approvals(case.id) if a.verdict == "approve"}
    offices = tuple(a.authority for a in decision.required_approvals if a.authority not in approved)
    return DayJudgement(decision, offices)


def judged_for_execution(
    tx: Transaction, screener: Screener, case: CaseRecord, now: dt.datetime
) -> DayJudgement:
    """``judge_on_day`` on ``now``'s day, for a draw: a case that cannot be judged is not
    executed (it fails closed), and says why."""
    try:
        return judge_on_day(tx, screener, case, now.date(), now)
    except CannotJudge as exc:
        raise IllegalTransition(
            f"case {case.number} cannot be judged under the policy in force on"
            f" {now.date()} ({exc.problem}); it is not executed"
        ) from None


def suspend(
    tx: Transaction,
    case: CaseRecord,
    judged: DayJudgement,
    *,
    cause: str,
    quantity: int | None,
    actor: str,
    now: dt.datetime,
) -> tuple[CaseRecord, CaseSuspended]:
    """Suspend ``case`` (``cause``: ``execution`` or ``activation``; ``quantity``: the draw
    refused) under ``judged``, which becomes its decision; the case and the event's payload."""
    check_transition(case.state, CaseState.SUSPENDED)
    facts = decision_recorded(judged.decision)
    recorded = RecordedDecision.of(facts)
    payload = CaseSuspended(
        cause,
        judged.decision.judged_as_of,
        judged.offices,
        facts,
        recorded.digest,
        quantity,
    )
    tx.append(payload, actor=actor, at=now, case_id=case.id)
    rejudged = tx.cases.update(case, decision=recorded)
    moved = record_move(
        tx, rejudged, CaseState.SUSPENDED, actor=actor, now=now, why=suspension_words(payload)
    )
    return moved, payload


def resumes_to(tx: Transaction, case: CaseRecord) -> CaseState:
    """The state a suspended case goes back to once the offices approve: the one it was
    suspended from."""
    for record in reversed(tx.ledger.of_case(case.id)):
        if record.type != EventType.CASE_STATE_CHANGED:
            continue
        payload = record.event.payload
        if isinstance(payload, CaseStateChanged) and payload.to_state == CaseState.SUSPENDED:
            return CaseState(payload.from_state)
    return CaseState.APPROVED
