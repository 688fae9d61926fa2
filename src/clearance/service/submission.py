"""Submitting cases: screened, numbered, written and put on the ledger, many to a transaction.

A submission is screened in its submitter's thread, before it queues behind
other writers, unless its decision reads the stock (a transfer reads the
giver's stock): then it is screened inside the writing transaction, as the
stock stands when the case is written. Submissions made at the same time are
written in one transaction and acknowledged after its one commit
(``service.group_commit``): a durable commit costs a wait for the disk, and
this shares it. Each case in a batch is screened, numbered and recorded as
it would be alone, in order: a later one sees the stock an earlier one moved.

The answer is built from what was written, in the same transaction: nothing
is read back and nothing after the commit, so a database that fails just then
cannot make a recorded case look unrecorded (a "database unavailable" answer).
A retry with the same idempotency key waits for the first attempt, then finds
its case; a key another user (or another request) used is refused.

Its 400 lines are one piece, ``CaseSubmission`` most of them: reading, admitting
and writing a batch share the batch's transaction and what it read once (the
keys used, the submitters), and splitting them would pass that state around.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from clearance.core.access import Level
from clearance.core.actors import SYSTEM
from clearance.core.decision import Decision, RecordedDecision
from clearance.core.event_words import OUTCOME_WORDS
from clearance.core.events import ABSENT, CaseStateChanged, CaseSubmitted
from clearance.core.request import AnyRequest, check_against, parse_request
from clearance.core.workflow import CaseState, state_after_screening
from clearance.errors import (
    ClearanceError,
    ConflictError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
    PermissionDenied,
    RequestError,
)
from clearance.policy.engine import Screener
from clearance.service.access import Action, Principal, Submission, check, submitter
from clearance.service.anchoring import installation_key
from clearance.service.case_view import CaseView, view_in
from clearance.service.clocks import GateClock, ReviewClocks, ReviewSpan, earliest_due
from clearance.service.group_commit import GroupCommit
from clearance.service.lifetimes import approval_expiry
from clearance.service.stock_moves import case_movements
from clearance.service.stock_seen import decision_recorded
from clearance.service.stockpile import StockService
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, ConditionRecord
from clearance.store.repository import Store

__all__ = ["Ask", "CaseSubmission", "Submitted"]

Submitted = tuple[CaseView, bool]
"""A submission's answer: the case as its submitter sees it, and whether it is new (False:
an earlier submission with the same idempotency key made it)."""

_REFUSALS = (ConflictError, InputError, NotFoundError, PermissionDenied, RequestError)
"""What refuses one submission of a batch before anything of it is written; the rest go on."""


class _ReadsStock(Exception):
    """Raised by the balance lookup of ``CaseSubmission.prepare``: the decision reads the
    stock, so screening it before the transaction would be thrown away (a transfer)."""


def _reads_stock(*_: object) -> None:
    raise _ReadsStock


@dataclass(frozen=True, slots=True)
class Ask:
    """One request to submit, read and checked for shape (``CaseSubmission.prepare``)."""

    request: AnyRequest
    actor: str
    now: dt.datetime
    idempotency_key: str | None = None
    classification: int = 0
    case_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    decision: Decision | None = None
    """Screened before the transaction, when the decision reads no stock; else None."""


@dataclass(frozen=True, slots=True)
class _Admitted:
    """An ask nothing refused: who submits it and its decision, ready to be written."""

    acting: Principal
    decision: Decision


class _Batch:
    """What one transaction of submissions reads once: who submits, which keys were used."""

    def __init__(self, tx: Transaction, asks: Sequence[Ask]) -> None:
        self.tx = tx
        self.asks = asks
        self.keys: frozenset[str] | None = None
        self.written: set[str] = set()
        self.principals: dict[str, Principal] = {}

    def used(self, key: str) -> bool:
        """Whether a case already holds ``key`` (read for the whole batch at its first ask,
        under the writers' lock; the batch's own cases added as they are written)."""
        if self.keys is None:
            wanted = {a.idempotency_key for a in self.asks if a.idempotency_key is not None}
            self.keys = self.tx.cases.by_keys(wanted)
        return key in self.keys or key in self.written

    def principal(self, actor: str) -> Principal:
        if actor not in self.principals:
            self.principals[actor] = submitter(self.tx, actor)
        return self.principals[actor]

    def may_submit(self, ask: Ask) -> Principal:
        """The ask's submitter, once the door lets them submit it; its refusal if not."""
        acting = self.principal(ask.actor)
        check(acting, Action.CASE_SUBMIT, Submission(ask.request.requester, ask.classification))
        return acting


class CaseSubmission:
    """Submitting cases over one store and one screener (the scenario pack in force): its
    300 lines read, admit and write one batch, each step over what the last one read."""

    def __init__(
        self,
        store: Store,
        screener: Screener,
        stock: StockService,
        clocks: ReviewClocks,
        *,
        default_sla_days: int,
    ) -> None:
        self.store = store
        self.screener = screener
        self.stock = stock
        self.clocks = clocks
        self.default_sla_days = default_sla_days
        self._group: GroupCommit[Ask, Submitted] = GroupCommit(self.submit_many)

    def _sla_days(self, decision: Decision) -> int:
        days = [
            bundle.review_sla_days
            for j in decision.judgements
            if j.bundle
            and (bundle := self.screener.history.by_revision(j.bundle))
            and bundle.review_sla_days
        ]
        return min(days, default=self.default_sla_days)

    def submit(
        self,
        data: object,
        *,
        actor: str,
        now: dt.datetime,
        idempotency_key: str | None = None,
        classification: int = 0,
    ) -> tuple[CaseRecord, bool]:
        """Create and screen a case; returns (case, created). A retried key returns the first case.

        ``classification`` (a ``core.access.Level``) may not be above the submitter's clearance.
        """
        view, created = self.submit_and_show(
            data,
            actor=actor,
            now=now,
            idempotency_key=idempotency_key,
            classification=classification,
        )
        return view.case, created

    def submit_and_show(
        self,
        data: object,
        *,
        actor: str,
        now: dt.datetime,
        idempotency_key: str | None = None,
        classification: int = 0,
    ) -> Submitted:
        """``submit``, returning the case as it stands once submitted, as the submitter sees it,
        after the commit that holds it (shared with submissions made at the same time)."""
        ask = self.prepare(
            data,
            actor=actor,
            now=now,
            idempotency_key=idempotency_key,
            classification=classification,
        )
        return self._group.run(ask)

    def prepare(
        self,
        data: object,
        *,
        actor: str,
        now: dt.datetime,
        idempotency_key: str | None = None,
        classification: int = 0,
    ) -> Ask:
        """A request read (``RequestError`` naming the field) and, unless its decision reads the
        stock, screened: everything about a submission that needs no transaction."""
        request = parse_request(data)
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise InputError("idempotency key", "must be 1 to 200 characters")
        case_id = str(uuid.uuid4())
        decision: Decision | None
        try:
            decision = self.screener.decide(
                request, decision_id=case_id, now=now, balances=_reads_stock
            )
        except _ReadsStock:
            # Judged inside the writing transaction, once; its names are checked now, as
            # screening would have, so that a bulk import refuses an unknown one up front.
            check_against(request, self.screener.catalog)
            decision = None
        return Ask(request, actor, now, idempotency_key, classification, case_id, decision)

    def refusals(self, asks: Sequence[Ask]) -> list[ClearanceError | None]:
        """Whether each ask's submitter may submit it, as the store stands now: what refuses it
        (``PermissionDenied``, an unknown user), or None. Lets a bulk import refuse a file
        whole, before anything of it is written."""
        found: list[ClearanceError | None] = []
        with self.store.reading() as tx:
            batch = _Batch(tx, asks)  # pragma: no mutate
            for ask in asks:
                try:
                    batch.may_submit(ask)
                except _REFUSALS as refused:
                    found.append(refused)
                else:
                    found.append(None)
        return found

    def submit_many(self, asks: Sequence[Ask]) -> list[Submitted | BaseException]:
        """Every ask in one transaction, in order; each one's answer, or what refused it.

        A refusal (a key used for another request, a requester the actor may not submit
        for) leaves that ask out and the rest go on. Any other failure rolls the batch
        back, and each ask is tried again alone, so one ask's failure is its own. A
        commit whose outcome is unknown is every ask's: none is tried again."""
        try:
            return self._transaction(asks)
        except OutcomeUnknown:
            raise
        except Exception as exc:
            if len(asks) == 1:
                return [exc]
        answers: list[Submitted | BaseException] = []
        for ask in asks:
            try:
                answers += self._transaction([ask])
            except OutcomeUnknown:
                raise
            except Exception as exc:
                answers.append(exc)
        return answers

    def _transaction(self, asks: Sequence[Ask]) -> list[Submitted | BaseException]:
        answers: list[Submitted | BaseException] = []
        with self.store.transaction() as tx:
            batch = _Batch(tx, asks)
            key = installation_key(self.store)
            for ask in asks:
                try:
                    admitted = self._admit(batch, ask, key)
                except _REFUSALS as refused:
                    answers.append(refused)
                    continue
                # Past admission a failure is the batch's: written halfway, the case must not
                # commit, so it rolls everything back and each ask is tried alone.
                if isinstance(admitted, _Admitted):
                    admitted = self._write(batch, ask, admitted, key)
                answers.append(admitted)
        return answers

    def _admit(self, batch: _Batch, ask: Ask, system_key: str | None) -> Submitted | _Admitted:
        """Everything that may refuse one ask, before anything of it is written: its earlier
        case (an idempotent retry), or what writing it needs."""
        tx = batch.tx
        decision = ask.decision or self.screener.decide(
            ask.request,
            decision_id=ask.case_id,
            now=ask.now,
            balances=lambda h, s, d: self.stock.balance_in(tx, h, s, d),
        )
        tx.serialise()  # a retry waits for the first attempt, then finds its case
        key = ask.idempotency_key
        if key is not None and batch.used(key):
            earlier = tx.cases.by_key(key)
            assert earlier is not None
            if (
                earlier.submitted_by != ask.actor
                or earlier.request_digest != decision.request_digest
            ):
                raise ConflictError(
                    "this idempotency key was used for another request; use a new key"
                )
            # Their own case, but one they may no longer see (their clearance lowered below
            # its level) is not found, as reading it is: a retry shows nothing reading hides.
            acting = batch.principal(ask.actor)
            check(acting, Action.CASE_VIEW, earlier)
            return view_in(tx, earlier, acting.user, system_key, self.clocks), False
        return _Admitted(batch.may_submit(ask), decision)

    def _write(
        self, batch: _Batch, ask: Ask, admitted: _Admitted, system_key: str | None
    ) -> Submitted:
        view = self._write_new(
            batch.tx,
            admitted.acting,
            ask.request,
            admitted.decision,
            ask.case_id,
            ask.now,
            ask.idempotency_key,
            ask.classification,
            system_key,
        )
        if ask.idempotency_key is not None:
            batch.written.add(ask.idempotency_key)
        return view, True

    def _write_new(
        self,
        tx: Transaction,
        acting: Principal,
        request: AnyRequest,
        decision: Decision,
        case_id: str,
        now: dt.datetime,
        idempotency_key: str | None,
        classification: int,
        system_key: str | None,
    ) -> CaseView:
        """Write a screened case, its conditions, its events and the stock it moves; the view
        of it is made of what was written."""
        state = state_after_screening(decision.outcome.value, bool(decision.conditions))
        facts = decision_recorded(decision)
        recorded = RecordedDecision.of(facts)
        sla_days = self._sla_days(decision)
        gate_clocks: list[GateClock] = []
        due_at = None
        if state is CaseState.IN_REVIEW:
            span = ReviewSpan(now)
            gates = recorded.required_approvals
            gate_clocks = self.clocks.gates(recorded.bundles, gates, sla_days, span)
            due_at = earliest_due(gate_clocks, sla_days, span)  # pragma: no mutate
        expires_at = None
        if state in (CaseState.APPROVED, CaseState.APPROVED_WITH_CONDITIONS):
            expires_at = approval_expiry(self.clocks.history, recorded.bundles, request.action, now)
        case = CaseRecord(
            id=case_id,
            number=tx.cases.next_number(),
            idempotency_key=idempotency_key,
            submitted_by=acting.id,
            request=request,
            request_digest=decision.request_digest,
            stored_decision=recorded,
            outcome=decision.outcome.value,
            stored_state=state,
            sla_days=sla_days,
            version=1,
            created_at=now,
            state_since=now,
            classification=classification,
            due_at=due_at,
            expires_at=expires_at,
        )
        tx.cases.add(case)
        for condition in decision.conditions:
            tx.cases.add_condition(case_id, condition)
        events = [
            tx.append(
                CaseSubmitted(
                    facts["request"],
                    decision.request_digest,
                    facts,  # pragma: no mutate
                    classification=Level(classification).label,
                    number=case.number,
                    decision_digest=recorded.digest,
                    sla_days=case.sla_days,
                    idempotency_key=idempotency_key,
                ),
                actor=acting.id,
                at=now,
                case_id=case_id,
                known=(
                    None
                    if recorded.text is None  # pragma: no mutate
                    else {"decision": recorded.text}
                ),
            ),
            tx.append(
                CaseStateChanged(
                    CaseState.SUBMITTED.value,
                    state.value,
                    f"screened: {OUTCOME_WORDS[decision.outcome]}",
                    due_at=ABSENT if due_at is None else due_at,
                    expires_at=ABSENT if expires_at is None else expires_at,
                ),
                actor=SYSTEM,
                at=now,
                case_id=case_id,
            ),
        ]
        moved = case_movements(
            tx,
            self.stock,
            request,
            case_id=case_id,
            state=state,
            done=None,
            now=now,
            actor=SYSTEM,
            submitted=True,  # pragma: no mutate
        )
        if moved is not None:
            events.append(moved)
        conditions = tuple(
            ConditionRecord(case_id, c, None, None, None) for c in decision.conditions
        )
        return CaseView(
            case,
            (),
            conditions,
            tuple(events),
            {},
            acting.user,
            system_key,
            tuple(gate_clocks),
        )
