"""Case use cases, each one transaction: submit, answer a gate, withdraw, meet a condition, execute.

Every use case reads the case, checks the move against the workflow
(``core.workflow``) and the actor's standing, writes the change with the
case's version (a concurrent change makes it fail with ``ConflictError``),
and appends its ledger events, all in one transaction: it happens whole, or
not at all. That includes the stock a case moves (``service.stockpile``): an
approved transfer commits, an executed one delivers, an executed use consumes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from clearance.core.access import Level
from clearance.core.actors import ADMIN, SYSTEM
from clearance.core.chain import EventType, Scheme, body_hash
from clearance.core.decision import Decision
from clearance.core.digest import canonical_json, sha256_hex
from clearance.core.events import (
    ApprovalDenied,
    ApprovalGiven,
    BundleActivated,
    CaseRescreened,
    CaseRescreenFailed,
    CaseStateChanged,
    CaseSubmitted,
    ConditionMet,
)
from clearance.core.request import EmployRequest, TransferRequest, parse_request
from clearance.core.signing import Signer, sign_statement
from clearance.core.workflow import (
    OPEN_STATES,
    CaseState,
    check_transition,
    is_overdue,
    state_after_screening,
)
from clearance.errors import (
    ConflictError,
    IllegalTransition,
    InputError,
    NotFoundError,
    PermissionDenied,
)
from clearance.policy.engine import Screener
from clearance.service.access import (
    Action,
    CaseScope,
    Principal,
    Submission,
    check,
    may,
    principal,
    today,
)
from clearance.service.anchoring import installation_key
from clearance.service.people import can_act_for
from clearance.service.rejudge import CannotJudge, judge_again
from clearance.service.stockpile import (
    StockService,
    case_movements,
    decision_recorded,
    decision_seen,
)
from clearance.store.case_lists import CaseSearch
from clearance.store.protocol import Transaction
from clearance.store.records import (
    ApprovalRecord,
    CaseRecord,
    ConditionRecord,
    LedgerRecord,
    UserRecord,
)
from clearance.store.repository import Store

__all__ = ["CaseService", "CaseView", "Rescreening", "case_row"]


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case with everything that happened to it, for ``cases show`` and the web page,
    as ``reader`` may see it (None: the local operator, who sees everything).

    What a reader may not see of a decision (another party's stock figures) is
    left out of its copy of the decision and of the events that carry one
    (``service.stockpile.decision_seen``); the record itself is unchanged.
    """

    case: CaseRecord
    approvals: tuple[ApprovalRecord, ...]
    conditions: tuple[ConditionRecord, ...]
    events: tuple[LedgerRecord, ...]
    public_keys: dict[str, str]
    reader: UserRecord | None = None
    system_key: str | None = None
    """The installation's system public key, which seals the events (for offline checks)."""

    @property
    def decision(self) -> dict[str, Any]:
        return decision_seen(json.loads(self.case.decision), self.reader)

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
        if isinstance(payload, CaseSubmitted | CaseRescreened):
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
            "state": c.state,
            "outcome": c.outcome,
            "classification": Level(c.classification).label,
            "submitted_by": c.submitted_by,
            "created_at": c.created_at.isoformat(),
            "state_since": c.state_since.isoformat(),
            "age_days": round((now - c.created_at).total_seconds() / 86400, 3),
            "sla_days": c.sla_days,
            "overdue": is_overdue(c.state, c.state_since, c.sla_days, now),
            "version": c.version,
            "request": json.loads(c.request),
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


def _last_finding(tx: Transaction, case_id: str) -> CaseRescreened | CaseRescreenFailed | None:
    """The payload of the case's last re-screening event, if it has one."""
    for event in reversed(tx.ledger.of_case(case_id)):
        payload = event.event.payload
        if isinstance(payload, CaseRescreened | CaseRescreenFailed):
            return payload
    return None


def _already_recorded(tx: Transaction, case_id: str, decision: Decision) -> bool:
    """Whether the case's last re-screening already found this outcome under these bundles."""
    last = _last_finding(tx, case_id)
    return (
        isinstance(last, CaseRescreened)
        and last.would_be == decision.outcome.value
        and last.bundles == decision.bundles
    )


def _already_failed(tx: Transaction, case_id: str, problem: str) -> bool:
    """Whether the case's last re-screening already failed, and for the same reason."""
    return _last_finding(tx, case_id) == CaseRescreenFailed(problem)


@dataclass(frozen=True, slots=True)
class Rescreening:
    """What a re-screening found: the open cases that would now be decided differently
    (``case, was, would_be``), and those it could not judge (``case, problem``)."""

    changed: tuple[tuple[CaseRecord, str, str], ...]
    failed: tuple[tuple[CaseRecord, str], ...]


def _view_in(
    tx: Transaction, case: CaseRecord, reader: UserRecord | None, system_key: str | None
) -> CaseView:
    approvals = tx.cases.approvals(case.id)
    keys = {a.actor: u.public_key for a in approvals if (u := tx.people.user(a.actor)) is not None}
    return CaseView(
        case,
        tuple(approvals),
        tuple(tx.cases.conditions(case.id)),
        tuple(tx.ledger.of_case(case.id)),
        keys,
        reader,
        system_key,
    )


def case_row(case: CaseRecord, now: dt.datetime) -> dict[str, Any]:
    """A case as lists show it (the CLI's and the API's ``cases list``)."""
    return {
        "number": case.number,
        "id": case.id,
        "state": case.state,
        "outcome": case.outcome,
        "classification": Level(case.classification).label,
        "request": json.loads(case.request),
        "submitted_by": case.submitted_by,
        "created_at": case.created_at.isoformat(),
        "age_days": round((now - case.created_at).total_seconds() / 86400, 3),
        "in_state_days": round((now - case.state_since).total_seconds() / 86400, 3),
        "sla_days": case.sla_days,
        "overdue": is_overdue(case.state, case.state_since, case.sla_days, now),
    }


class CaseService:
    """The case use cases over one store and one screener (the scenario pack in force)."""

    def __init__(self, store: Store, screener: Screener, *, default_sla_days: int) -> None:
        self.store = store
        self.screener = screener
        self.default_sla_days = default_sla_days
        self.stock = StockService(store, screener)

    # reading ----------------------------------------------------------------------

    def _get(
        self, tx: Transaction, case_ref: str, actor: Principal, *, lock: bool = True
    ) -> CaseRecord:
        """A case by its id or number (``17``), locked for the transaction unless only read.

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

    def _shown(self, tx: Transaction, case: CaseRecord, reader: Principal) -> CaseView:
        """The case as ``reader`` may see it, read in ``tx``."""
        return _view_in(tx, case, reader.user, installation_key(self.store))

    def view(self, case_ref: str, *, actor: str) -> CaseView:
        """A case with its approvals, conditions and events, as ``actor`` (a user id, or
        ``ADMIN`` for the local operator) may see it: not found if they may not."""
        with self.store.reading() as tx:
            reader = principal(tx, actor, today())
            return self._shown(tx, self._get(tx, case_ref, reader, lock=False), reader)

    def seen_by(self, actor: str, cases: list[CaseRecord]) -> set[str]:
        """The ids of those of ``cases`` (already read) that ``actor`` may see."""
        with self.store.reading() as tx:
            reader = principal(tx, actor, today())
            return {case.id for case in cases if may(reader, Action.CASE_VIEW, case)}

    def _scope(self, tx: Transaction, actor: str) -> CaseScope:
        return CaseScope.of(principal(tx, actor, today()))

    def page(
        self,
        *,
        actor: str,
        states: Sequence[str] | None,
        limit: int,
        offset: int,
        query: str = "",
        count_at_most: int | None = None,
    ) -> tuple[list[CaseRecord], int]:
        """A page of cases, oldest first, and how many there are: both only of what
        ``actor`` may see, so a total never counts a case they may not.

        ``query`` finds cases by system or requester (id or name, e.g. "storm" or
        "ukraine") or by submitter; ``count_at_most`` stops the total there."""
        search = self._search(query)
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            found = tx.cases.page(
                states=states,
                limit=limit,
                offset=offset,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=search,
            )
            total = tx.cases.count(
                states=states,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=search,
                at_most=count_at_most,
            )
            return found, total

    def _search(self, query: str) -> CaseSearch | None:
        text = query.strip().lower()
        if not text:
            return None
        catalog = self.screener.catalog
        systems = tuple(
            s.id for s in catalog.systems if text in s.id.lower() or text in s.name.lower()
        )
        parties = tuple(
            p.code for p in catalog.parties if text in p.code.lower() or text in p.name.lower()
        )
        return CaseSearch(systems, parties, text)

    def open_summary(
        self, *, actor: str, now: dt.datetime, bucket_days: tuple[int, ...]
    ) -> list[tuple[str, int, int, int]]:
        """Open cases ``actor`` may see by state and age bucket:
        ``(state, bucket, count, highest level)``."""
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.open_summary(
                now=now,
                bucket_days=bucket_days,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
            )

    def decisions_by_month(
        self, *, actor: str, since: dt.datetime
    ) -> list[tuple[str, str, int, int]]:
        """Decisions of cases ``actor`` may see, per month and kind:
        ``(YYYY-MM, kind, count, highest level)``."""
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.decisions_by_month(
                since=since, max_level=scope.max_level, submitted_by=scope.submitted_by
            )

    def overdue(
        self,
        now: dt.datetime,
        *,
        actor: str,
        query: str = "",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[CaseRecord]:
        """Cases ``actor`` may see waiting on a gate past their SLA, longest waiting first
        (one index range); ``query`` finds them as ``page`` does."""
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.overdue(
                now=now,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=self._search(query),
                limit=limit,
                offset=offset,
            )

    def count_overdue(self, now: dt.datetime, *, actor: str, query: str = "") -> int:
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.count_overdue(
                now=now,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=self._search(query),
            )

    # submitting -------------------------------------------------------------------

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
        """``submit``, returning the case as it stands once submitted (as the submitter
        sees it), read in the same transaction: nothing is read after the commit, so a
        database that fails just then cannot make a recorded case look unrecorded (a
        "database unavailable" answer)."""
        request = parse_request(data)
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise InputError("idempotency key", "must be 1 to 200 characters")
        case_id = str(uuid.uuid4())
        decision = self.screener.decide(
            request, decision_id=case_id, now=now, balances=self.stock.balance
        )
        state = state_after_screening(decision.outcome.value, bool(decision.conditions))
        facts = decision_recorded(decision)
        with self.store.transaction() as tx:
            tx.serialise()  # a retry waits for the first attempt, then finds its case
            if idempotency_key is not None and (earlier := tx.cases.by_key(idempotency_key)):
                if (
                    earlier.submitted_by != actor
                    or earlier.request_digest != decision.request_digest
                ):
                    raise ConflictError(
                        "this idempotency key was used for another request; use a new key"
                    )
                return self._shown(tx, earlier, principal(tx, actor, now.date())), False
            submitter = principal(tx, actor, now.date())
            check(submitter, Action.CASE_SUBMIT, Submission(request.requester, classification))
            decision_text = canonical_json(facts).decode()
            case = CaseRecord(
                id=case_id,
                number=tx.cases.next_number(),
                idempotency_key=idempotency_key,
                submitted_by=actor,
                request=canonical_json(facts["request"]).decode(),
                request_digest=decision.request_digest,
                decision=decision_text,
                outcome=decision.outcome.value,
                state=state.value,
                sla_days=self._sla_days(decision),
                version=1,
                created_at=now,
                state_since=now,
                classification=classification,
            )
            tx.cases.add(case)
            for condition in decision.conditions:
                tx.cases.add_condition(case_id, condition)
            tx.append(
                CaseSubmitted(
                    facts["request"],
                    decision.request_digest,
                    facts,
                    classification=Level(classification).label,
                    number=case.number,
                    decision_digest=sha256_hex(decision_text.encode()),
                    sla_days=case.sla_days,
                    idempotency_key=idempotency_key,
                ),
                actor=actor,
                at=now,
                case_id=case_id,
            )
            tx.append(
                CaseStateChanged(
                    CaseState.SUBMITTED.value, state.value, f"screened: {decision.outcome.value}"
                ),
                actor=SYSTEM,
                at=now,
                case_id=case_id,
            )
            self._move_stock(tx, request, case_id, state, actor=SYSTEM, now=now)
            shown = self._shown(tx, case, submitter)
        return shown, True

    def _move_stock(
        self,
        tx: Transaction,
        request: EmployRequest | TransferRequest,
        case_id: str,
        state: CaseState,
        *,
        actor: str,
        now: dt.datetime,
        done: int | None = None,
    ) -> None:
        case_movements(
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
        only then. Like every change below, it returns the case as it then
        stands, as the actor sees it, read in the same transaction (nothing is read
        after the commit)."""
        if not approve and not reason.strip():
            raise InputError("reason", "a denial needs a reason")
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = self._get(tx, case_id, acting)
            case_id = case.id
            if case.state != CaseState.IN_REVIEW.value:
                raise IllegalTransition(f"case {case.number} is {case.state}, not in review")
            check(acting, Action.CASE_ANSWER, case)
            user = acting.user
            if user is None:
                raise NotFoundError(f"unknown user '{actor}'")
            decision = json.loads(case.decision)
            answered = {a.authority for a in tx.cases.approvals(case_id)}
            gates = {g["authority"]: g["delegable"] for g in decision["required_approvals"]}
            open_gates = {a: d for a, d in gates.items() if a not in answered}
            gate, on_behalf_of = self._pick_gate(
                tx, actor, authority, open_gates, gates, now.date()
            )
            prior_seq, prior_hash = tx.ledger.head()
            # What the signer answers: this request, this decision (its outcome, the
            # approvals and conditions it needs, the policy that made it), at this level,
            # at this point of the ledger.
            statement = {
                "case_id": case.id,
                "request_digest": case.request_digest,
                "decision_id": decision["decision_id"],
                "decision_digest": sha256_hex(case.decision.encode()),
                "outcome": decision["outcome"],
                "required_approvals": decision["required_approvals"],
                "conditions": decision["conditions"],
                "bundles": decision["bundles"],
                "classification": Level(case.classification).label,
                "authority": gate,
                "verdict": "approve" if approve else "deny",
                "reason": reason,
                "actor": actor,
                "on_behalf_of": on_behalf_of,
                "at": now.isoformat(),
                "prior_seq": prior_seq,
                "prior_hash": prior_hash,
            }
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
            if not approve:
                target = CaseState.DENIED
            elif set(open_gates) == {gate}:
                conditions = tx.cases.conditions(case_id)
                target = CaseState.APPROVED_WITH_CONDITIONS if conditions else CaseState.APPROVED
            else:
                return self._shown(tx, tx.cases.update(case), acting)
            moved = self._move(
                tx, case, target, actor=actor, now=now, why=reason or f"{gate} approved"
            )
            request = parse_request(json.loads(case.request))
            self._move_stock(tx, request, case_id, target, actor=actor, now=now)
            return self._shown(tx, moved, acting)

    def _pick_gate(
        self,
        tx: Transaction,
        actor: str,
        authority: str | None,
        open_gates: dict[str, bool],
        gates: dict[str, bool],
        day: dt.date,
    ) -> tuple[str, str | None]:
        if authority is not None:
            if authority not in gates:
                raise PermissionDenied(f"{authority} is not an approval this case needs")
            if authority not in open_gates:
                raise IllegalTransition(f"{authority} has already answered on this case")
            return authority, can_act_for(
                tx, actor, authority, day, delegable=open_gates[authority]
            )
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
        raise PermissionDenied("; ".join(refusals) or "this case has no open approvals")

    # the rest of the life ---------------------------------------------------------

    def _move(
        self,
        tx: Transaction,
        case: CaseRecord,
        target: CaseState,
        *,
        actor: str,
        now: dt.datetime,
        why: str,
    ) -> CaseRecord:
        check_transition(CaseState(case.state), target)
        updated = tx.cases.update(case, state=target.value, state_since=now)
        tx.append(
            CaseStateChanged(case.state, target.value, why), actor=actor, at=now, case_id=case.id
        )
        return updated

    @staticmethod
    def _acting_party(acting: Principal, parties: set[str], to_do: str) -> None:
        """Refuse the operator (no party), or a user who acts for none of ``parties``."""
        user = acting.user
        if user is None:
            raise NotFoundError(f"unknown user '{acting.id}'")
        if user.party not in parties:
            raise PermissionDenied(
                f"{user.id} acts for {user.party}; only {', '.join(sorted(parties))} may {to_do}"
            )

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
            case = self._get(tx, case_id, acting)
            check(acting, Action.CASE_WITHDRAW, case)
            moved = self._move(
                tx, case, CaseState.WITHDRAWN, actor=actor, now=now, why=reason or "withdrawn"
            )
            request = parse_request(json.loads(case.request))
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
        if not evidence.strip():
            raise InputError("evidence", "say what shows the condition is met")
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = self._get(tx, case_id, acting)
            check(acting, Action.CASE_MEET_CONDITION, case)
            case_id = case.id
            decision = json.loads(case.decision)
            parties = {json.loads(case.request)["requester"], *decision["consent_holders"]}
            self._acting_party(acting, parties, "record a condition of this case")
            if case.state != CaseState.APPROVED_WITH_CONDITIONS.value:
                raise IllegalTransition(
                    f"case {case.number} is {case.state}; conditions are met on approved cases"
                )
            conditions = {k.text: k for k in tx.cases.conditions(case_id)}
            if condition not in conditions:
                raise NotFoundError(
                    f"case {case.number} has no condition '{condition}' (it has: {list(conditions)})"
                )
            if conditions[condition].met_at is not None:
                raise IllegalTransition(f"condition '{condition}' is already met")
            tx.cases.mark_condition_met(case_id, condition, at=now, by=actor, evidence=evidence)
            tx.append(ConditionMet(condition, evidence), actor=actor, at=now, case_id=case_id)
            if all(k.met_at is not None or k.text == condition for k in conditions.values()):
                updated = self._move(
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
        """Record that the approved quantity was used or delivered."""
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = self._get(tx, case_id, acting)
            check(acting, Action.CASE_EXECUTE, case)
            request = json.loads(case.request)
            self._acting_party(acting, {request["requester"]}, "record this case as executed")
            asked = int(request["quantity"])
            done = asked if quantity is None else quantity
            if not 1 <= done <= asked:
                raise InputError("quantity", f"must be between 1 and the approved {asked}")
            moved = self._move(
                tx,
                case,
                CaseState.EXECUTED,
                actor=actor,
                now=now,
                why=f"executed: {done} of {asked}",
            )
            self._move_stock(
                tx,
                parse_request(request),
                case.id,
                CaseState.EXECUTED,
                actor=actor,
                now=now,
                done=done,
            )
            return self._shown(tx, moved, acting)

    def _record_activations(self, tx: Transaction, *, actor: str, now: dt.datetime) -> None:
        """Put on the ledger every bundle of the pack in force by now that it does not hold yet.

        The record says which policy text (by revision) took effect for which
        holder from which date, so a re-screening can be traced to its cause.
        """
        recorded = {
            event.payload.revision
            for event in (e.event for e in tx.ledger.of_type(EventType.BUNDLE_ACTIVATED))
            if isinstance(event.payload, BundleActivated)
        }
        for bundle in self.screener.pack.history:
            if bundle.effective_from > now.date() or bundle.revision in recorded:
                continue
            tx.append(bundle.in_force(), actor=actor, at=now)

    def rescreen(self, *, actor: str, now: dt.datetime) -> Rescreening:
        """Judge every open case again under the policy in force today; record changed outcomes.

        Bundles of the pack that have taken effect and are not yet on the ledger are
        recorded first, by the system (they took effect by date, not by anyone's act).

        A change is recorded on the ledger for the case, never applied silently:
        the case keeps its state until a person acts on it. Returns every open
        case that would now be decided differently; a finding already on the
        ledger (same outcome under the same bundles) is not recorded twice. A case
        that cannot be judged (``service.rejudge``) does not stop the others: the
        failure, in words, is recorded for it (once, while it stays the same) and
        returned with the findings.
        """
        changed: list[tuple[CaseRecord, str, str]] = []
        failed: list[tuple[CaseRecord, str]] = []
        with self.store.transaction() as tx:
            if actor != ADMIN and tx.people.user(actor) is None:
                raise NotFoundError(f"unknown user '{actor}'")
            # The pack's bundles took effect by their dates, not by anyone's act.
            self._record_activations(tx, actor=SYSTEM, now=now)
            for case in tx.cases.each(states=list(OPEN_STATES)):
                try:
                    _, decision = judge_again(
                        case,
                        lambda _, request: self.screener.decide(
                            request,
                            decision_id=str(uuid.uuid4()),
                            now=now,
                            as_of=max(request.date, now.date()),
                            balances=lambda h, s, d: self.stock.balance_in(tx, h, s, d),
                        ),
                    )
                except CannotJudge as exc:
                    failed.append((case, exc.problem))
                    if not _already_failed(tx, case.id, exc.problem):
                        tx.append(
                            CaseRescreenFailed(exc.problem), actor=actor, at=now, case_id=case.id
                        )
                    continue
                if decision.outcome.value == case.outcome:
                    continue
                changed.append((case, case.outcome, decision.outcome.value))
                if _already_recorded(tx, case.id, decision):
                    continue
                tx.append(
                    CaseRescreened(
                        case.outcome,
                        decision.outcome.value,
                        decision.judged_as_of,
                        decision_recorded(decision),
                        bundles=decision.bundles,
                    ),
                    actor=actor,
                    at=now,
                    case_id=case.id,
                )
        return Rescreening(tuple(changed), tuple(failed))
