"""What waits for a user: the gates of open cases that an office they hold or answer for
must decide (in review, or suspended for the offices the policy in force names), the questions asked of their own cases and the conditions still to be
recorded, and the policy proposals that only they may activate.

An inbox is read through the one door (``service.access``), in one transaction,
as its owner stands that day: a case they may not see is never listed or counted,
a delegate is given only the gates their delegation may answer (the delegable
ones), and an office held only until yesterday gives nothing. Items come oldest
first, each with how long it has waited and, for a gate, its due date by the
gate's review clock (service.clocks: calendar or working days, stopped while a
question waits for its answer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clearance.core.access import Level
from clearance.core.events import QuestionAsked
from clearance.core.request import describe_request
from clearance.core.workflow import CaseState
from clearance.service.access import (
    Action,
    delegations_in_force,
    held_offices,
    may,
    principal,
)
from clearance.service.case_view import pending_question
from clearance.service.clocks import ReviewClocks, review_span
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

__all__ = ["AuthorityOf", "InboxItem", "inbox"]

_PROPOSED = "proposed"


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One thing waiting for its reader: ``kind`` is ``decide`` (a gate of a case in
    review), ``answer_question`` (a question asked of their own case),
    ``record_condition`` (a condition of their own case) or ``activate`` (a policy
    proposal whose office they hold)."""

    kind: str
    title: str
    since: dt.datetime
    due: dt.datetime | None = None
    case: CaseRecord | None = None
    office: str | None = None
    on_behalf_of: str | None = None
    proposal: int | None = None

    def as_dict(self, now: dt.datetime) -> dict[str, Any]:
        overdue = None if self.due is None else max(0.0, (now - self.due).total_seconds())
        return {
            "kind": self.kind,
            "title": self.title,
            "case_number": None if self.case is None else self.case.number,
            "case_id": None if self.case is None else self.case.id,
            "classification": None if self.case is None else Level(self.case.classification).label,
            "office": self.office,
            "on_behalf_of": self.on_behalf_of,
            "proposal": self.proposal,
            "waiting_since": self.since.isoformat(),
            "waiting_days": round((now - self.since).total_seconds() / 86400, 1),
            "due_at": None if self.due is None else self.due.isoformat(),
            "overdue_days": None if overdue is None else round(overdue / 86400, 1),
        }


def _gates(
    tx: Transaction,
    clocks: ReviewClocks,
    user_id: str,
    held: frozenset[str],
    delegated: dict[str, str],
    case: CaseRecord,
) -> list[InboxItem]:
    """The gates of ``case`` still unanswered that ``user_id`` may answer: those of an office
    they hold, and the delegable ones of an office delegated to them (``delegated``: office →
    the holder they answer for)."""
    mine = [
        g
        for g in case.decision.required_approvals
        if g.authority in held or (g.delegable and g.authority in delegated)
    ]
    if not mine or case.submitted_by == user_id:
        return []  # most cases: nothing of this reader's, and no query to find that out
    answered = {a.authority for a in tx.cases.approvals(case.id)}
    title = describe_request(case.request)
    due: dict[str, dt.datetime | None]
    if case.state is CaseState.SUSPENDED:  # waiting since it was suspended, on no clock
        since, due = case.state_since, {g.authority: None for g in mine}
    else:
        span = review_span(case.created_at, tx.ledger.of_case(case.id))
        since = span.started
        due = {
            g.office: g.clock.due_at()
            for g in clocks.gates(case.decision.bundles, mine, case.sla_days, span)
        }
    if case.state is CaseState.SUSPENDED:
        title = f"suspended: {title}"
    return [
        InboxItem(
            "decide",
            title,
            since,
            due[gate.authority],
            case=case,
            office=gate.authority,
            on_behalf_of=None if gate.authority in held else delegated[gate.authority],
        )
        for gate in mine
        if gate.authority not in answered
    ]


def _questions(tx: Transaction, case: CaseRecord) -> list[InboxItem]:
    """The question waiting on ``case``'s requester."""
    asked = pending_question(case, tx.ledger.of_case(case.id))
    if asked is None or not isinstance(question := asked.payload, QuestionAsked):
        return []
    title = f"{question.question} ({describe_request(case.request)})"
    return [
        InboxItem("answer_question", title, case.state_since, case=case, office=question.office)
    ]


def _conditions(tx: Transaction, case: CaseRecord) -> list[InboxItem]:
    title = describe_request(case.request)
    return [
        InboxItem("record_condition", f"{condition.text} ({title})", case.state_since, case=case)
        for condition in tx.cases.conditions(case.id)
        if condition.met_at is None
    ]


AuthorityOf = Callable[[str, dt.date], str | None]
"""The office that may activate a holder's policy on a day (its bundle's ``policy_authority``)."""


def inbox(
    store: Store,
    *,
    actor: str,
    now: dt.datetime,
    clocks: ReviewClocks,
    authority_of: AuthorityOf | None = None,
) -> list[InboxItem]:
    """Everything waiting for ``actor`` on ``now``'s day, oldest first (module doc).

    ``clocks`` are the review clocks of the policy in force; ``authority_of(holder,
    day)`` names the office that may activate a holder's policy (the bundle in
    force's ``policy_authority``); without it, proposals are not listed."""
    day = now.date()
    items: list[InboxItem] = []
    with store.reading() as tx:
        reader = principal(tx, actor, day)
        user = reader.user
        if user is None:
            return []  # the local operator answers for no office
        # The offices read once: held that day, and delegated (each with its holder).
        held = held_offices(tx, user.id, day)
        delegated = {d.authority: d.holder_id for d in delegations_in_force(tx, user.id, day)}
        states = [
            CaseState.IN_REVIEW,
            CaseState.SUSPENDED,
            CaseState.AWAITING_ANSWER,
            CaseState.APPROVED_WITH_CONDITIONS,
        ]
        for case in tx.cases.each(states=states):
            if not may(reader, Action.CASE_VIEW, case):
                continue
            if case.state in (CaseState.IN_REVIEW, CaseState.SUSPENDED):
                items += _gates(tx, clocks, user.id, held, delegated, case)
            elif case.submitted_by != user.id:
                continue
            elif case.state is CaseState.AWAITING_ANSWER:
                items += _questions(tx, case)
            else:
                items += _conditions(tx, case)
        if authority_of is not None:
            for record in tx.proposals.all():
                if record.state != _PROPOSED or not record.tests_passed:
                    continue
                office = authority_of(record.holder, day)
                if office is not None and office in held:
                    title = (
                        f"policy of {record.holder} from {record.effective_from}: {record.title}"
                    )
                    items.append(
                        InboxItem(
                            "activate",
                            title,
                            record.proposed_at,
                            office=office,
                            proposal=record.number,
                        )
                    )
    return sorted(items, key=lambda item: item.since)
