"""Cases, their approvals and conditions: the store side (reached through ``Transaction.cases``).

A case's row also keeps what its lists and reports search by: whether it is
open, when it falls due, its first decision, and (in ``decision_counts``)
how many first decisions each month saw, so the dashboard reads a few rows;
``case_terms`` keeps the other words a search finds it by.
Those columns follow every change written here. Case numbers and the
decision counts are taken under the transaction's writers' lock, so
concurrent submissions queue rather than collide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from clearance.core.case_keys import request_shape, stockpile_digest
from clearance.core.decision import RecordedDecision
from clearance.core.digest import canonical_json
from clearance.core.request import UnreadableRequest
from clearance.core.workflow import DECIDED_STATES, OPEN_STATES, CaseState
from clearance.errors import ConflictError
from clearance.store.case_lists import CaseLists, case_record
from clearance.store.case_text import decision_text, search_terms
from clearance.store.models import (
    Approval,
    Base,
    Case,
    CaseCondition,
    CaseTerm,
    flush,
)
from clearance.store.pending import Pending
from clearance.store.records import ApprovalRecord, CaseRecord, ConditionRecord, aware

__all__ = ["CaseTables"]


def _due(state: str, due_at: dt.datetime | None) -> dt.datetime | None:
    """A case is due only while in review: its clocks stop in every other state."""
    if state != CaseState.IN_REVIEW:
        return None
    if due_at is None:
        raise ValueError("a case in review needs the time it is due")
    return due_at


_CASES = Base.metadata.tables["cases"]
_TERMS = Base.metadata.tables["case_terms"]
_CONDITIONS = Base.metadata.tables["conditions"]
"""The tables a new case is written to by plain inserts, held back (``store.pending``)."""

# What each submission's batch reads of the cases, built once.
_LAST_NUMBER = select(func.max(Case.number))
_KEYS_USED = select(Case.idempotency_key).where(
    Case.idempotency_key.in_(bindparam("keys", expanding=True))
)
_READS_CASES = frozenset({"cases"})

CONFLICTS = {
    "cases": "a case with this idempotency key or number already exists",
    "case_terms": "the words a case is found by could not be recorded",
    "conditions": "condition could not be recorded",
}
"""What a held-back row of each table conflicts over, when the database refuses it."""

_APPROVED = (CaseState.APPROVED, CaseState.APPROVED_WITH_CONDITIONS)
_KEEPS_LIFETIME = (CaseState.CLEARED, CaseState.PARTLY_EXECUTED)
"""States that keep the approval's lapse time (conditions met, a part drawn), unless a move
into them (a suspended case resumed by fresh approvals) fixes a new one."""


def _openness(changes: dict[str, Any]) -> dict[str, Any]:
    """The columns that follow a change of state: ``is_open``, ``due_at`` (given with a move
    into review, cleared by any other), ``expires_at`` (given with an approval, kept while
    its conditions are met or it is partly drawn, cleared by any other move), the first decision; with the changes
    themselves."""
    if "state" not in changes:
        return changes
    derived: dict[str, Any] = {
        **changes,
        "is_open": changes["state"] in OPEN_STATES,
        "due_at": _due(changes["state"], changes.get("due_at")),
    }
    if changes["state"] in _APPROVED:
        derived["expires_at"] = changes.get("expires_at")
    elif changes["state"] in _KEEPS_LIFETIME:  # keeps its approval's lifetime, or a fresh one
        if changes.get("expires_at") is None:
            derived.pop("expires_at", None)
    else:
        derived["expires_at"] = None
    if changes["state"] in DECIDED_STATES:
        derived["decided_at"] = func.coalesce(Case.decided_at, changes["state_since"])
        derived["decided_as"] = func.coalesce(Case.decided_as, changes["state"])
    return derived


class CaseTables(CaseLists):
    """One case at a time, and its approvals and conditions, inside one transaction."""

    def __init__(
        self,
        session: Session,
        *,
        is_sqlite: bool,
        serialise: Callable[[], None],
        pending: Pending,
    ) -> None:
        super().__init__(session, is_sqlite=is_sqlite)
        self._serialise = serialise
        self._pending = pending
        self._last_number: int | None = None

    def next_number(self) -> int:
        """The next case number; taken under the ledger lock, so concurrent submissions queue.

        The highest number is read once per transaction (the lock holds from then on) and
        counted on from there, so a batch of submissions reads it once."""
        if self._last_number is None:
            self._serialise()
            self._last_number = self._pending.read(_LAST_NUMBER, _READS_CASES).scalar() or 0
        self._last_number += 1
        return self._last_number

    def add(self, case: CaseRecord) -> None:
        """Keep a new case: its request and decision as the canonical text their digests are
        over (a request that does not read is never a new case's).

        Held back as plain rows (no ORM objects, nothing read back), sent with the other
        rows of its transaction (``store.pending``): the row, the words it is found by, and
        one more first decision in its month's count."""
        request = case.request
        assert not isinstance(request, UnreadableRequest)
        decided = case.state in DECIDED_STATES
        facts = request.as_dict()
        self._pending.add(
            _CASES,
            [
                {
                    "id": case.id,
                    "number": case.number,
                    "idempotency_key": case.idempotency_key,
                    "submitted_by": case.submitted_by,
                    "request": canonical_json(facts).decode(),
                    "request_digest": case.request_digest,
                    "decision": decision_text(case.decision),
                    "outcome": case.outcome,
                    "state": case.state,
                    "is_open": case.state in OPEN_STATES,
                    "sla_days": case.sla_days,
                    "version": case.version,
                    "created_at": case.created_at,
                    "state_since": case.state_since,
                    "classification": case.classification,
                    "system": request.system,
                    "requester": request.requester,
                    "decided_at": case.state_since if decided else None,
                    "decided_as": case.state if decided else None,
                    "due_at": _due(case.state, case.due_at),
                    "expires_at": case.expires_at,
                    "asked_on": request.date.isoformat(),
                    "quantity": request.quantity,
                    "request_shape": request_shape(facts),
                    "stockpile_digest": stockpile_digest(case.decision.stockpile),
                }
            ],
        )
        terms = search_terms(request, case.decision)
        self._pending.add(_TERMS, [{"term": t, "case_id": case.id} for t in sorted(terms)])
        if decided:
            self._count_decision(case.state_since, case.state, case.classification)

    def by_keys(self, keys: Collection[str]) -> frozenset[str]:
        """Which of ``keys`` an earlier case was submitted with: one query for a batch."""
        if not keys:
            return frozenset()
        found = self._pending.read(_KEYS_USED, _READS_CASES, {"keys": list(keys)}).scalars()
        return frozenset(str(k) for k in found)

    def _index(self, case_id: str, terms: frozenset[str]) -> None:
        """The words the case is found by (``case_terms``), in place of those it had."""
        self._session.execute(delete(CaseTerm).where(CaseTerm.case_id == case_id))
        self._session.add_all(CaseTerm(term=t, case_id=case_id) for t in sorted(terms))
        self._session.flush()

    def _count_decision(self, at: dt.datetime, kind: str, level: int) -> None:
        """One more first decision in ``at``'s month: counted with the transaction's others,
        one upsert per month, kind and level (writers are serialised)."""
        self._serialise()
        self._pending.count(at.astimezone(dt.UTC).strftime("%Y-%m"), kind, level)

    def get(self, case_id: str, *, lock: bool = False) -> CaseRecord | None:
        """A case by id; ``lock`` holds its row until commit (PostgreSQL ``FOR UPDATE``)."""
        return self._one_case(Case.id == case_id, lock)

    def by_number(self, number: int, *, lock: bool = False) -> CaseRecord | None:
        return self._one_case(Case.number == number, lock)

    def _one_case(self, where: Any, lock: bool) -> CaseRecord | None:
        query = select(Case).where(where)
        if lock:
            query = query.with_for_update()
        row = self._session.scalar(query.execution_options(populate_existing=True))
        return None if row is None else case_record(row)

    def by_key(self, key: str) -> CaseRecord | None:
        row = self._session.scalar(select(Case).where(Case.idempotency_key == key))
        return None if row is None else case_record(row)

    def update(self, case: CaseRecord, **changes: Any) -> CaseRecord:
        """Write ``changes`` if nobody changed the case since ``case`` was read (a new
        ``decision``, a ``RecordedDecision``, is kept as its canonical text, with its outcome)."""
        decision = changes.get("decision")
        if isinstance(decision, RecordedDecision):
            changes["decision"] = decision_text(decision)
            changes["outcome"] = decision.outcome.value
            changes["stockpile_digest"] = stockpile_digest(decision.stockpile)
            self._index(case.id, search_terms(case.request, decision))
        if changes.get("state") in DECIDED_STATES and case.state in (
            CaseState.SUBMITTED,
            CaseState.IN_REVIEW,
        ):
            self._count_decision(
                changes["state_since"],
                changes["state"],
                changes.get("classification", case.classification),
            )
        result = self._session.execute(
            update(Case)
            .where(Case.id == case.id, Case.version == case.version)
            .values(version=case.version + 1, **_openness(changes))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                f"case {case.id} was changed by someone else meanwhile; look again and retry"
            )
        self._session.expire_all()
        updated = self.get(case.id)
        assert updated is not None
        return updated

    def add_approval(self, approval: ApprovalRecord) -> None:
        self._session.add(
            Approval(
                case_id=approval.case_id,
                authority=approval.authority,
                verdict=approval.verdict,
                actor=approval.actor,
                on_behalf_of=approval.on_behalf_of,
                reason=approval.reason,
                statement=approval.statement,
                signature=approval.signature,
                at=approval.at,
            )
        )
        flush(
            self._session, f"{approval.authority} has already answered on case {approval.case_id}"
        )

    def approvals(self, case_id: str) -> list[ApprovalRecord]:
        rows = self._session.scalars(
            select(Approval).where(Approval.case_id == case_id).order_by(Approval.id)
        )
        return [
            ApprovalRecord(
                r.case_id,
                r.authority,
                r.verdict,
                r.actor,
                r.on_behalf_of,
                r.reason,
                r.statement,
                r.signature,
                aware(r.at),
            )
            for r in rows
        ]

    def add_condition(self, case_id: str, text_: str) -> None:
        """A new case's condition, held back as ``add`` holds the case."""
        self._pending.add(_CONDITIONS, [{"case_id": case_id, "text": text_}])

    def conditions(self, case_id: str) -> list[ConditionRecord]:
        rows = self._session.scalars(
            select(CaseCondition).where(CaseCondition.case_id == case_id).order_by(CaseCondition.id)
        )
        return [
            ConditionRecord(
                r.case_id, r.text, aware(r.met_at) if r.met_at else None, r.met_by, r.evidence
            )
            for r in rows
        ]

    def mark_condition_met(
        self, case_id: str, text_: str, *, at: dt.datetime, by: str, evidence: str
    ) -> None:
        self._session.execute(
            update(CaseCondition)
            .where(CaseCondition.case_id == case_id, CaseCondition.text == text_)
            .values(met_at=at, met_by=by, evidence=evidence)
        )
