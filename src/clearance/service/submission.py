"""Submitting a case: screened, numbered, written and put on the ledger in one transaction.

The request is screened inside the writing transaction, before it queues
behind other writers: an employment reads nothing for it, and a transfer reads
the giver's stock there, as it stands when the case is written. The answer is
built from what was written, in the same transaction: nothing is read back and
nothing after the commit, so a database that fails just then cannot make a
recorded case look unrecorded (a "database unavailable" answer). A retry with
the same idempotency key waits for the first attempt, then finds its case.
"""

from __future__ import annotations

import datetime as dt
import uuid

from clearance.core.access import Level
from clearance.core.actors import SYSTEM
from clearance.core.decision import Decision, RecordedDecision
from clearance.core.event_words import OUTCOME_WORDS
from clearance.core.events import ABSENT, CaseStateChanged, CaseSubmitted
from clearance.core.request import AnyRequest, parse_request
from clearance.core.workflow import CaseState, state_after_screening
from clearance.errors import ConflictError, InputError
from clearance.policy.engine import Screener
from clearance.service.access import Action, Principal, Submission, check, submitter
from clearance.service.anchoring import installation_key
from clearance.service.case_view import CaseView, view_in
from clearance.service.clocks import GateClock, ReviewClocks, ReviewSpan, earliest_due
from clearance.service.lifetimes import approval_expiry
from clearance.service.stock_moves import case_movements
from clearance.service.stock_seen import decision_recorded
from clearance.service.stockpile import StockService
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, ConditionRecord
from clearance.store.repository import Store

__all__ = ["CaseSubmission"]


class CaseSubmission:
    """Submitting cases over one store and one screener (the scenario pack in force)."""

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
    ) -> tuple[CaseView, bool]:
        """``submit``, returning the case as it stands once submitted, as the submitter sees it.

        The request is screened inside the writing transaction, before it queues
        behind other writers: an employment reads nothing for it, and a transfer
        reads the giver's stock there, as it stands when the case is written. The
        answer is built from what was written: nothing is read back."""
        request = parse_request(data)
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise InputError("idempotency key", "must be 1 to 200 characters")
        case_id = str(uuid.uuid4())
        with self.store.transaction() as tx:
            decision = self.screener.decide(
                request,
                decision_id=case_id,
                now=now,
                balances=lambda h, s, d: self.stock.balance_in(tx, h, s, d),
            )
            tx.serialise()  # a retry waits for the first attempt, then finds its case
            if idempotency_key is not None and (earlier := tx.cases.by_key(idempotency_key)):
                if (
                    earlier.submitted_by != actor
                    or earlier.request_digest != decision.request_digest
                ):
                    raise ConflictError(
                        "this idempotency key was used for another request; use a new key"
                    )
                reader = submitter(tx, actor).user
                return view_in(
                    tx, earlier, reader, installation_key(self.store), self.clocks
                ), False
            acting = submitter(tx, actor)
            check(acting, Action.CASE_SUBMIT, Submission(request.requester, classification))
            return self._write_new(
                tx, acting, request, decision, case_id, now, idempotency_key, classification
            ), True

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
            due_at = earliest_due(gate_clocks, sla_days, span)
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
            decision=recorded,
            outcome=decision.outcome.value,
            state=state,
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
                    facts,
                    classification=Level(classification).label,
                    number=case.number,
                    decision_digest=recorded.digest,
                    sla_days=case.sla_days,
                    idempotency_key=idempotency_key,
                ),
                actor=acting.id,
                at=now,
                case_id=case_id,
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
            installation_key(self.store),
            tuple(gate_clocks),
        )
