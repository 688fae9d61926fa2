"""Escalation: the steps of each gate's ladder, recorded on the ledger when its clock
reaches them.

A bundle may give a gate a ladder (policy/review_limits.py): after so many
counted days without an answer, remind the office, tell the office above it,
tell oversight. ``escalate`` looks at every case in review and records, as an
``escalation_reached`` event by the system, each step whose day has come and
that is not yet on the case's ledger, in the ladder's order. A step is
recorded once: the run holds the ledger lock while it reads and writes, so
two servers running it at once record each step one time between them, and a
run that finds nothing new writes nothing. A clock stopped by a question does
not climb. Whoever subscribes hears of each step through the notifications
the event gives rise to; the case page and the dashboard show them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clearance.core.actors import ADMIN, SYSTEM
from clearance.core.chain import EventType
from clearance.core.events import EscalationReached, PayloadError
from clearance.core.workflow import CaseState
from clearance.errors import NotFoundError
from clearance.service.access import Action, may, principal
from clearance.service.clocks import ReviewClocks
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, LedgerRecord
from clearance.store.repository import Store

__all__ = ["Escalated", "escalate", "escalated_open", "steps_reached"]


@dataclass(frozen=True, slots=True)
class Escalated:
    """One step recorded by a run: on which case, for which office, which step."""

    case: CaseRecord
    step: EscalationReached


def steps_reached(events: list[LedgerRecord]) -> list[EscalationReached]:
    """The escalation steps already on a case's ledger, in order."""
    steps = []
    for record in events:
        try:
            payload = record.event.payload
        except PayloadError:
            continue  # changed outside clearance: audit verify names it
        if isinstance(payload, EscalationReached):
            steps.append(payload)
    return steps


def _due_steps(
    tx: Transaction, clocks: ReviewClocks, case: CaseRecord, now: dt.datetime
) -> list[EscalationReached]:
    bundles = case.decision.bundles
    if not any(
        (rule := clocks.rule(bundles, gate.authority)) is not None and rule.ladder
        for gate in case.decision.required_approvals
    ):
        return []  # most cases: no ladder to climb, and nothing of theirs to read
    events = tx.ledger.of_case(case.id)
    done = {(s.office, s.step) for s in steps_reached(events)}
    answered = {a.authority for a in tx.cases.approvals(case.id)}
    due = []
    for gate in clocks.of_case(case, events):
        if gate.office in answered or not gate.ladder:
            continue
        elapsed = gate.clock.elapsed(now)
        for n, rung in enumerate(gate.ladder, start=1):
            if rung.after <= elapsed and (gate.office, n) not in done:
                count = gate.limit.count.value
                due.append(EscalationReached(gate.office, n, rung.after, count, rung.tell))
    return due


def escalate(
    store: Store, clocks: ReviewClocks, *, actor: str, now: dt.datetime
) -> list[Escalated]:
    """Record every escalation step that has come due by ``now`` (module doc); what was
    recorded, oldest case first."""
    recorded: list[Escalated] = []
    with store.transaction() as tx:
        if actor != ADMIN and tx.people.user(actor) is None:
            raise NotFoundError(f"unknown user '{actor}'")
        tx.serialise()  # one run at a time: each step is recorded once
        for case in tx.cases.each(states=[CaseState.IN_REVIEW]):
            for step in _due_steps(tx, clocks, case, now):
                tx.append(step, actor=SYSTEM, at=now, case_id=case.id)
                recorded.append(Escalated(case, step))
    return recorded


def escalated_open(store: Store, *, actor: str, now: dt.datetime) -> list[Escalated]:
    """The escalation steps of the cases still waiting in review (or on an answer) that
    ``actor`` may see: the last step of each, the case longest escalated first."""
    last: dict[str, EscalationReached] = {}
    found: list[Escalated] = []
    with store.reading() as tx:
        reader = principal(tx, actor, now.date())
        for record in tx.ledger.of_type(EventType.ESCALATION_REACHED):
            if record.case_id is None:
                continue
            try:
                payload = record.event.payload
            except PayloadError:
                continue  # changed outside clearance: audit verify names it
            if isinstance(payload, EscalationReached):
                last.setdefault(record.case_id, payload)
                if payload.step > last[record.case_id].step:
                    last[record.case_id] = payload
        for case_id, step in last.items():
            case = tx.cases.get(case_id)
            if case is None or not may(reader, Action.CASE_VIEW, case):
                continue  # the door first: nothing of a case the reader may not see
            # The stored state: one changed outside clearance is waiting on no one known.
            if case.stored_state in (CaseState.IN_REVIEW, CaseState.AWAITING_ANSWER):
                found.append(Escalated(case, step))
    return found
