"""What may be done to a case next, and by whom: the checks each change of a case makes
before it writes, in one place, for the change itself and for an interface deciding what
to offer.

``service.case_commands`` runs these checks in its writing transaction, with the case
locked, just before it writes. ``CaseMoves.offered`` asks the same ones in a reading
transaction, so a page offers a form (answer a gate, withdraw, record a condition as met,
record the execution) only when that reader's change would be accepted now; and
``CaseMoves.rehearse`` raises the error the change would raise, writing nothing, so a
confirmation step is never shown for a change that would be refused. The change itself
stays the final word: it checks everything again when it is made.

``record_move`` is how every change moves a case to another state: checked against the
workflow, written with the case's version, and recorded as a ``case_state_changed`` event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from clearance.core.chain import EventType
from clearance.core.dates import last_day_before
from clearance.core.events import ABSENT, CaseExecuted, CaseStateChanged
from clearance.core.request import AnyRequest, UnreadableRequest
from clearance.core.workflow import CaseState, check_transition
from clearance.errors import (
    ClearanceError,
    IllegalTransition,
    InputError,
    NotFoundError,
    PermissionDenied,
)
from clearance.service.access import (
    Action,
    CaseQuestion,
    Principal,
    check,
    may,
    offices_in,
    principal,
)
from clearance.service.case_view import find_case, waiver
from clearance.service.people import can_act_for
from clearance.service.waiting_periods import check_waive
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, ConditionRecord
from clearance.store.repository import Store

__all__ = [
    "ANSWERABLE_STATES",
    "CaseMoves",
    "Gate",
    "Moves",
    "acting_party",
    "asking_office",
    "check_ask",
    "check_condition",
    "check_evidence",
    "check_execute",
    "check_in_lifetime",
    "check_reply",
    "check_waiting_period",
    "check_withdraw",
    "drawn_so_far",
    "readable",
    "record_move",
]


ANSWERABLE_STATES = frozenset({CaseState.IN_REVIEW, CaseState.SUSPENDED})
"""States in which offices answer a case's open gates: in review, and suspended (the
offices the policy in force on the day names)."""


def readable(case: CaseRecord) -> AnyRequest:
    """The case's request; a change to a case whose stored request does not read is refused."""
    request = case.request
    if isinstance(request, UnreadableRequest):
        raise IllegalTransition(
            f"case {case.number}'s stored request cannot be read ({request.problem});"
            " it cannot change until it is put right"
        )
    return request


def acting_party(acting: Principal, parties: set[str], to_do: str) -> None:
    """Refuse the operator (no party), or a user who acts for none of ``parties``."""
    user = acting.user
    if user is None:
        raise NotFoundError(f"unknown user '{acting.id}'")
    if user.party not in parties:
        raise PermissionDenied(
            f"{user.id} acts for {user.party}; only {', '.join(sorted(parties))} may {to_do}"
        )


def check_withdraw(acting: Principal, case: CaseRecord) -> AnyRequest:
    """Refuse a withdrawal ``acting`` may not make now; the case's request otherwise."""
    check(acting, Action.CASE_WITHDRAW, case)
    check_transition(case.state, CaseState.WITHDRAWN)
    return readable(case)


def asking_office(tx: Transaction, acting: Principal, case: CaseRecord, day: dt.date) -> str | None:
    """The open gate of ``case`` that ``acting`` holds or answers for on ``day``, for whom
    they would ask a question (None: they hold none of them)."""
    if acting.user is None:
        return None
    answered = {a.authority for a in tx.cases.approvals(case.id)}
    mine = set(offices_in(tx, acting.id, day))
    gates = [g.authority for g in case.decision.required_approvals]
    return next((g for g in gates if g not in answered and g in mine), None)


def check_ask(tx: Transaction, acting: Principal, case: CaseRecord, day: dt.date) -> str | None:
    """Refuse a question ``acting`` may not ask now: of a case in review, by a reviewer or
    a holder of an office still to answer, never the requester. The office they ask for."""
    if case.state != CaseState.IN_REVIEW:
        raise IllegalTransition(
            f"case {case.number} is {case.state}; questions are asked of cases in review"
        )
    office = asking_office(tx, acting, case, day)
    check(acting, Action.CASE_ASK, CaseQuestion(case, office))
    return office


def check_reply(acting: Principal, case: CaseRecord) -> None:
    """Refuse an answer ``acting`` may not give now: the requester's, to a waiting question."""
    check(acting, Action.CASE_REPLY, case)
    if case.state != CaseState.AWAITING_ANSWER:
        raise IllegalTransition(
            f"case {case.number} is {case.state}; it is not waiting for an answer"
        )


def check_evidence(evidence: str) -> None:
    """A condition is recorded as met only with a word of what shows it."""
    if not evidence.strip():
        raise InputError("evidence", "say what shows the condition is met")


def check_condition(
    acting: Principal,
    case: CaseRecord,
    conditions: Mapping[str, ConditionRecord],
    condition: str,
) -> None:
    """Refuse recording ``condition`` (of ``conditions``, the case's) as met by ``acting``:
    the requesting party or a consent holder, on an approved case, once."""
    check(acting, Action.CASE_MEET_CONDITION, case)
    parties = {readable(case).requester, *case.decision.consent_holders}
    acting_party(acting, parties, "record a condition of this case")
    if case.state != CaseState.APPROVED_WITH_CONDITIONS:
        raise IllegalTransition(
            f"case {case.number} is {case.state}; conditions are met on approved cases"
        )
    if condition not in conditions:
        raise NotFoundError(
            f"case {case.number} has no condition '{condition}' (it has: {list(conditions)})"
        )
    if conditions[condition].met_at is not None:
        raise IllegalTransition(f"condition '{condition}' is already met")


def drawn_so_far(tx: Transaction, case: CaseRecord) -> int:
    """How much of the case's approved quantity its draws have executed so far (only a case
    partly executed, or suspended after a draw, has drawn any)."""
    if case.state not in (CaseState.PARTLY_EXECUTED, CaseState.SUSPENDED):
        return 0
    draws = [
        e.event.payload for e in tx.ledger.of_case(case.id) if e.type == EventType.CASE_EXECUTED
    ]
    return sum(p.quantity for p in draws if isinstance(p, CaseExecuted))


def check_execute(
    acting: Principal, case: CaseRecord, quantity: int | None, drawn: int
) -> tuple[AnyRequest, int]:
    """Refuse recording a draw on the case by ``acting``: the requesting party, of at most
    what remains of the approved quantity (``drawn``: executed so far), on a case that may
    be executed. The request and how many were used or delivered (``quantity``, or all
    that remains) otherwise. Whether the policy in force still permits it on the day is
    judged after these checks (``service.execution``)."""
    check(acting, Action.CASE_EXECUTE, case)
    request = readable(case)
    acting_party(acting, {request.requester}, "record this case as executed")
    if case.state is CaseState.SUSPENDED:
        raise IllegalTransition(
            f"case {case.number} is suspended: it may be executed only once the offices the"
            " policy in force names have approved it"
        )
    asked = request.quantity
    left = asked - drawn
    done = left if quantity is None else quantity
    if not 1 <= done <= left:
        if drawn:
            raise InputError(
                "quantity",
                f"must be between 1 and the {left} that remain of the approved {asked}"
                f" ({drawn} already executed)",
            )
        raise InputError("quantity", f"must be between 1 and the approved {asked}")
    check_transition(case.state, CaseState.EXECUTED)
    return request, done


def check_waiting_period(tx: Transaction, case: CaseRecord, day: dt.date) -> None:
    """Refuse executing ``case`` on ``day`` while its legislature's waiting period runs
    (its last day included), unless the office the policy names has waived it."""
    period = case.decision.waiting_period
    if period is None or not period.blocks(day) or waiver(tx.ledger.of_case(case.id)):
        return
    raise IllegalTransition(
        f"case {case.number} may not be executed before the waiting period ends on"
        f" {period.ends_on.isoformat()} ({period.legislature}, notified"
        f" {period.notified_on.isoformat()}): it may be executed from"
        f" {period.executable_from.isoformat()}, or earlier if {period.waiver} waives it"
    )


def check_in_lifetime(case: CaseRecord, now: dt.datetime) -> None:
    """Refuse executing an approval that lapsed (service/lifetimes.py), even before the
    next expiry run records it: an approval past its lifetime no longer holds."""
    if case.expires_at is not None and now >= case.expires_at:
        last = last_day_before(case.expires_at).isoformat()
        raise IllegalTransition(
            f"case {case.number}'s approval held to the end of {last} (UTC);"
            " it has lapsed and the case expires: ask again"
        )


def record_move(
    tx: Transaction,
    case: CaseRecord,
    target: CaseState,
    *,
    actor: str,
    now: dt.datetime,
    why: str,
    due_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> CaseRecord:
    """Move ``case`` to ``target`` (``due_at``: when a move into review is due;
    ``expires_at``: when a move into approval lapses unless executed)."""
    check_transition(case.state, target)
    updated = tx.cases.update(
        case, state=target.value, state_since=now, due_at=due_at, expires_at=expires_at
    )
    tx.append(
        CaseStateChanged(
            case.state.value,
            target.value,
            why,
            due_at=ABSENT if due_at is None else due_at,
            expires_at=ABSENT if expires_at is None else expires_at,
        ),
        actor=actor,
        at=now,
        case_id=case.id,
    )
    return updated


@dataclass(frozen=True, slots=True)
class Gate:
    """An approval the reader may give: the office, whether it may be delegated, and the
    holder they answer for as a delegate (None: they hold it)."""

    authority: str
    delegable: bool
    on_behalf_of: str | None = None


@dataclass(frozen=True, slots=True)
class Moves:
    """What one reader may do to one case now: each is a change whose checks pass."""

    answer: tuple[Gate, ...] = ()
    withdraw: bool = False
    conditions: tuple[str, ...] = ()
    """The unmet conditions they may record as met."""
    execute_up_to: int | None = None
    """What remains of the approved quantity, when they may record a draw (at most that)."""
    ask: bool = False
    """Whether they may ask the requester a question (the case waits, its clocks stopped)."""
    reply: bool = False
    """Whether they may answer the question the case waits on."""
    waive: bool = False
    """Whether they may waive the case's legislative waiting period (its office's holder,
    personally, while the period still holds the execution back)."""


def _answerable(tx: Transaction, acting: Principal, case: CaseRecord, day: dt.date) -> list[Gate]:
    """The open gates of a case in review that ``acting`` may answer on ``day``."""
    if case.state not in ANSWERABLE_STATES or not may(acting, Action.CASE_ANSWER, case):
        return []
    if acting.user is None:
        return []
    answered = {a.authority for a in tx.cases.approvals(case.id)}
    gates = []
    for gate in case.decision.required_approvals:
        if gate.authority in answered:
            continue
        try:
            holder = can_act_for(tx, acting.id, gate.authority, day, delegable=gate.delegable)
        except PermissionDenied:
            continue
        gates.append(Gate(gate.authority, gate.delegable, holder))
    return gates


def _passes(checks: Callable[[], object]) -> bool:
    try:
        checks()
    except ClearanceError:
        return False
    return True


class CaseMoves:
    """The changes a reader may make to a case, judged by the changes' own checks."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def offered(self, case_ref: str, *, actor: str, now: dt.datetime) -> Moves:
        """What ``actor`` may do to the case now; not found if they may not see it."""
        day = now.date()
        with self.store.reading() as tx:
            acting = principal(tx, actor, day)
            case = find_case(tx, case_ref, acting, lock=False)  # pragma: no mutate
            conditions = {k.text: k for k in tx.cases.conditions(case.id)}

            def may_meet(text: str) -> bool:
                return _passes(lambda: check_condition(acting, case, conditions, text))

            drawn = drawn_so_far(tx, case)
            execute = (
                _passes(lambda: check_execute(acting, case, None, drawn))
                and _passes(lambda: check_waiting_period(tx, case, day))
                and _passes(lambda: check_in_lifetime(case, now))
            )
            return Moves(
                answer=tuple(_answerable(tx, acting, case, day)),
                withdraw=_passes(lambda: check_withdraw(acting, case)),
                conditions=tuple(text for text in conditions if may_meet(text)),
                execute_up_to=readable(case).quantity - drawn if execute else None,
                ask=_passes(lambda: check_ask(tx, acting, case, day)),
                reply=_passes(lambda: check_reply(acting, case)),
                waive=_passes(lambda: check_waive(tx, acting, case, day)),
            )

    def rehearse(
        self,
        case_ref: str,
        action: Action,
        *,
        actor: str,
        now: dt.datetime,
        condition: str = "",
        evidence: str = "",
        quantity: int | None = None,
    ) -> None:
        """Raise what withdrawing (``Action.CASE_WITHDRAW``), recording ``condition`` as met
        with ``evidence`` (``CASE_MEET_CONDITION``) or recording ``quantity`` as executed
        (``CASE_EXECUTE``) would raise now; write nothing."""
        if action == Action.CASE_MEET_CONDITION:
            check_evidence(evidence)
        with self.store.reading() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_ref, acting, lock=False)  # pragma: no mutate
            if action == Action.CASE_WITHDRAW:
                check_withdraw(acting, case)
            elif action == Action.CASE_MEET_CONDITION:
                conditions = {k.text: k for k in tx.cases.conditions(case.id)}
                check_condition(acting, case, conditions, condition)
            elif action == Action.CASE_EXECUTE:
                check_execute(acting, case, quantity, drawn_so_far(tx, case))
                check_waiting_period(tx, case, now.date())
                check_in_lifetime(case, now)
            else:
                raise AssertionError(f"{action} is not a change of a case to rehearse")
