"""A case as a reader may see it: found by id or number, and shown whole or as a list row.

Every use case that names a case finds it here (``find_case``), so a case the
actor may not see is "not found" in the same words everywhere, and every one
that answers with the case builds the same ``CaseView``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from clearance.core.access import Level
from clearance.core.chain import EventType, Scheme, body_hash
from clearance.core.events import (
    CaseRescreened,
    CaseStateChanged,
    CaseSubmitted,
    CaseSuspended,
    Event,
    PayloadError,
    QuestionAsked,
    WaitingPeriodWaived,
)
from clearance.core.workflow import CaseState, is_overdue
from clearance.errors import NotFoundError
from clearance.service.access import Action, Principal, may
from clearance.service.clocks import GateClock, ReviewClocks
from clearance.service.stock_seen import decision_seen
from clearance.store.protocol import Transaction
from clearance.store.records import (
    ApprovalRecord,
    CaseRecord,
    ConditionRecord,
    LedgerRecord,
    UserRecord,
)

__all__ = ["CaseView", "case_row", "find_case", "pending_question", "view_in", "waiver"]


def pending_question(case: CaseRecord, events: Iterable[LedgerRecord]) -> Event | None:
    """The question ``case`` waits on (the last one asked), while it waits for its answer."""
    if case.state is not CaseState.AWAITING_ANSWER:
        return None
    asked = [r for r in events if r.type == EventType.QUESTION_ASKED.value]
    try:
        last = asked[-1].event if asked else None
    except PayloadError:
        return None  # changed outside clearance: audit verify names it
    return last if last is not None and isinstance(last.payload, QuestionAsked) else None


def waiver(events: Iterable[LedgerRecord]) -> Event | None:
    """The waiver of the case's waiting period (``WaitingPeriodWaived``), if it has one."""
    for record in events:
        if record.type == EventType.WAITING_PERIOD_WAIVED.value:
            try:
                event = record.event
            except PayloadError:
                continue  # changed outside clearance: audit verify names it
            if isinstance(event.payload, WaitingPeriodWaived):
                return event
    return None


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case with everything that happened to it, for ``cases show`` and the web page,
    as ``reader`` may see it (None: the local operator, who sees everything).

    What a reader may not see of a decision (another party's stock figures) is
    left out of its copy of the decision and of the events that carry one
    (``service.stock_seen.decision_seen``); the record itself is unchanged.
    """

    case: CaseRecord
    approvals: tuple[ApprovalRecord, ...]
    conditions: tuple[ConditionRecord, ...]
    events: tuple[LedgerRecord, ...]
    public_keys: dict[str, str]
    reader: UserRecord | None = None
    system_key: str | None = None
    """The installation's system public key, which seals the events (for offline checks)."""
    clocks: tuple[GateClock, ...] = ()
    """While the case waits in review: each gate's clock (service.clocks)."""

    def clock_rows(self, now: dt.datetime) -> list[dict[str, Any]]:
        """Each gate's clock as lists and pages show it; a gate already answered has none."""
        answered = {a.authority for a in self.approvals}
        return [
            {
                "office": g.office,
                "limit": g.limit.describe(),
                "count": g.limit.count.value,
                "elapsed_days": g.clock.elapsed(now),
                "due_at": g.clock.due_at().isoformat(),
                "due_day": g.clock.due_day().isoformat(),
                "overdue": self.case.state is CaseState.IN_REVIEW and g.clock.is_overdue(now),
                "stopped": self.case.state is CaseState.AWAITING_ANSWER,
            }
            for g in self.clocks
            if g.office not in answered
        ]

    @property
    def question(self) -> Event | None:
        """The question the case waits on, while it waits (``pending_question``)."""
        return pending_question(self.case, self.events)

    def waiting_period(self) -> dict[str, Any] | None:
        """The legislature's waiting period the case must let pass before execution, and
        its waiver, if any (None: it has none)."""
        period = self.case.decision.waiting_period
        if period is None:
            return None
        waived = waiver(self.events)
        return {
            **period.as_dict(),
            "waived": waived is not None,
            "waived_by": None if waived is None else waived.actor,
            "waived_at": None if waived is None else waived.at.isoformat(),
        }

    @property
    def decision(self) -> dict[str, Any]:
        return decision_seen(self.case.decision.as_dict(), self.reader)

    def _event(self, event: LedgerRecord) -> dict[str, Any]:
        """An event with what checks it (its body, or for a reader shown less than the body
        holds, the body's digest: docs/verifying.md) and, beside it, the body's keys to read."""
        body = json.loads(event.body)
        link: dict[str, Any] = {
            "seq": event.seq,
            "hash": event.hash,
            "prev_hash": event.prev_hash,
            "scheme": event.scheme,
            "seal": event.seal,
        }
        payload = event.event.payload
        if isinstance(payload, CaseSubmitted | CaseRescreened | CaseSuspended):
            seen = decision_seen(payload.decision, self.reader)
            if seen is not payload.decision:
                body["payload"] = replace(payload, decision=seen).to_payload()
                digest = body_hash(event.body.encode()) if event.scheme == Scheme.V2 else None
                return {**body, **link, "redacted": True, "body_hash": digest}
        return {**body, **link, "body": event.body}

    def time_in_states(self, now: dt.datetime) -> dict[str, float]:
        """Days spent in each state so far, from the ledger's state changes."""
        spans: dict[str, float] = {}
        state, since = CaseState.SUBMITTED.value, self.case.created_at
        for event in (e.event for e in self.events):
            if isinstance(event.payload, CaseStateChanged):
                at = event.at
                spans[state] = spans.get(state, 0.0) + (at - since).total_seconds() / 86400
                state, since = event.payload.to_state, at
        spans[state] = spans.get(state, 0.0) + (now - since).total_seconds() / 86400
        return spans

    def as_dict(self, now: dt.datetime) -> dict[str, Any]:
        c = self.case
        return {
            "id": c.id,
            "number": c.number,
            "state": c.state.value,
            "outcome": c.outcome,
            "classification": Level(c.classification).label,
            "submitted_by": c.submitted_by,
            "created_at": c.created_at.isoformat(),
            "state_since": c.state_since.isoformat(),
            "age_days": round((now - c.created_at).total_seconds() / 86400, 3),
            "sla_days": c.sla_days,
            "due_at": None if c.due_at is None else c.due_at.isoformat(),
            "overdue": is_overdue(c.state, c.due_at, now),
            "expires_at": None if c.expires_at is None else c.expires_at.isoformat(),
            "clocks": self.clock_rows(now),
            "waiting_period": self.waiting_period(),
            "version": c.version,
            "request": c.request.as_dict(),
            "request_digest": c.request_digest,
            "decision": self.decision,
            "time_in_states_days": {k: round(v, 3) for k, v in self.time_in_states(now).items()},
            "approvals": [
                {
                    "authority": a.authority,
                    "verdict": a.verdict,
                    "actor": a.actor,
                    "on_behalf_of": a.on_behalf_of,
                    "reason": a.reason,
                    "at": a.at.isoformat(),
                    "statement": a.statement,
                    "signature": a.signature,
                    "public_key": self.public_keys.get(a.actor),
                }
                for a in self.approvals
            ],
            "conditions": [
                {
                    "text": k.text,
                    "met": k.met_at is not None,
                    "met_at": k.met_at.isoformat() if k.met_at else None,
                    "met_by": k.met_by,
                    "evidence": k.evidence,
                }
                for k in self.conditions
            ],
            "events": [self._event(e) for e in self.events],
            "system_public_key": self.system_key,
        }


def view_in(
    tx: Transaction,
    case: CaseRecord,
    reader: UserRecord | None,
    system_key: str | None,
    clocks: ReviewClocks,
) -> CaseView:
    """The case with its approvals, conditions, events and (while it waits in review) its
    gates' clocks as ``tx`` holds them.

    A view shows the whole case, so one whose decision or state no longer reads refuses
    here (``DamagedRecord``), inside the transaction: a command that shows the case it
    moved (a withdrawal needs no decision) is then rolled back, not recorded and answered
    with a refusal."""
    case.check_readable()
    approvals = tx.cases.approvals(case.id)
    keys = {a.actor: u.public_key for a in approvals if (u := tx.people.user(a.actor)) is not None}
    events = tuple(tx.ledger.of_case(case.id))
    waiting = case.state in (CaseState.IN_REVIEW, CaseState.AWAITING_ANSWER)
    return CaseView(
        case,
        tuple(approvals),
        tuple(tx.cases.conditions(case.id)),
        events,
        keys,
        reader,
        system_key,
        tuple(clocks.of_case(case, events)) if waiting else (),
    )


def find_case(tx: Transaction, case_ref: str, actor: Principal, *, lock: bool) -> CaseRecord:
    """A case by its id or number (``17``), locked for the transaction when ``lock``.

    A case ``actor`` may not see (``service.access``) is not found, in the same
    words as one that does not exist.
    """
    case = (
        tx.cases.by_number(int(case_ref), lock=lock)
        if case_ref.isascii() and case_ref.isdigit() and len(case_ref) <= 18
        else tx.cases.get(case_ref, lock=lock)
    )
    if case is None or not may(actor, Action.CASE_VIEW, case):
        raise NotFoundError(f"no case '{case_ref}'")
    return case


def case_row(case: CaseRecord, now: dt.datetime) -> dict[str, Any]:
    """A case as lists show it (the CLI's and the API's ``cases list``): a state that no
    longer reads is ``None``, and ``damaged`` says whether anything does not."""
    state = case.stored_state
    return {
        "number": case.number,
        "id": case.id,
        "state": None if state is None else state.value,
        "damaged": case.damaged,
        "outcome": case.outcome,
        "classification": Level(case.classification).label,
        "request": case.request.as_dict(),
        "submitted_by": case.submitted_by,
        "created_at": case.created_at.isoformat(),
        "age_days": round((now - case.created_at).total_seconds() / 86400, 3),
        "in_state_days": round((now - case.state_since).total_seconds() / 86400, 3),
        "sla_days": case.sla_days,
        "due_at": None if case.due_at is None else case.due_at.isoformat(),
        "overdue": state is not None and is_overdue(state, case.due_at, now),
        "expires_at": None if case.expires_at is None else case.expires_at.isoformat(),
    }
