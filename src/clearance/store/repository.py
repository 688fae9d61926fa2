"""The narrow interface the service layer uses: one ``Transaction`` per use case.

``Store.transaction()`` opens a database transaction (``BEGIN IMMEDIATE`` on
SQLite) and yields a ``Transaction`` whose methods read and write records; it
commits when the block ends and rolls back on any error, so a failed
operation leaves nothing half-written. Nothing outside the store sees
SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    String,
    case,
    delete,
    func,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm import Session

from clearance.core.access import Level
from clearance.core.anchors import CHECKPOINT_EVERY, Checkpoint, seal_valid
from clearance.core.chain import (
    CURRENT,
    GENESIS,
    ChainVerifier,
    EventType,
    Link,
    Row,
    Scheme,
    event_body,
    link_hash,
)
from clearance.core.events import Payload
from clearance.core.workflow import OPEN_STATES
from clearance.errors import ConflictError, InputError, LedgerBroken, OutcomeUnknown, StoreError
from clearance.store.db import Database
from clearance.store.ledger import (
    ROWS_SQL,
    SEALS_SQL,
    CheckpointTables,
    Observer,
    Sealer,
    WitnessFile,
    as_text,
)
from clearance.store.models import (
    ApiToken,
    Approval,
    Base,
    Case,
    CaseCondition,
    DecisionCount,
    Delegation,
    Holding,
    LedgerCheckpoint,
    LedgerEvent,
    SignInFailure,
    SignInSession,
    User,
)
from clearance.store.proposals import ProposalTables
from clearance.store.records import (
    ApiTokenRecord,
    ApprovalRecord,
    CaseRecord,
    ConditionRecord,
    DelegationRecord,
    HoldingRecord,
    LedgerRecord,
    SessionRecord,
    UserRecord,
    aware,
)
from clearance.store.stock import StockTables

__all__ = ["CaseSearch", "Store", "Transaction"]

_log = logging.getLogger("clearance.store")

_LEDGER_LOCK = 0x636C_6561  # "clea": the advisory lock that serialises ledger appends

_DECIDED = frozenset({"approved", "approved_with_conditions", "denied"})
_UNDECIDED = frozenset({"submitted", "in_review"})
"""States that are a decision: the first one a case enters is kept in ``decided_as``."""


def _due(state: str, since: dt.datetime, sla_days: int) -> dt.datetime | None:
    """When a case in review passes its SLA (None in any other state)."""
    return since + dt.timedelta(days=sla_days) if state == "in_review" else None


def _openness(changes: dict[str, Any], sla_days: int) -> dict[str, Any]:
    """The columns that follow a change of state: ``is_open``, ``due_at``, the first decision."""
    if "state" not in changes:
        return {}
    derived: dict[str, Any] = {
        "is_open": changes["state"] in OPEN_STATES,
        "due_at": _due(changes["state"], changes["state_since"], sla_days),
    }
    if changes["state"] in _DECIDED:
        derived["decided_at"] = func.coalesce(Case.decided_at, changes["state_since"])
        derived["decided_as"] = func.coalesce(Case.decided_as, changes["state"])
    return derived


def _in_states(states: Sequence[str]) -> Any:
    """The filter for cases in ``states``; exactly the open ones walk the open-cases index."""
    if frozenset(states) == OPEN_STATES:
        return Case.is_open.is_(True)
    return Case.state.in_(list(states))


@dataclass(frozen=True, slots=True)
class CaseSearch:
    """Cases whose system or requester is one of these, or whose submitter is ``text``
    (each term an indexed lookup, so a search never reads the whole table)."""

    systems: tuple[str, ...]
    parties: tuple[str, ...]
    text: str


def _case_filters(
    states: Sequence[str] | None,
    max_level: int | None,
    submitted_by: str | None,
    search: CaseSearch | None = None,
) -> list[Any]:
    filters = []
    if search is not None:
        terms = [Case.submitted_by == search.text]
        if search.systems:
            terms.append(Case.system.in_(search.systems))
        if search.parties:
            terms.append(Case.requester.in_(search.parties))
        filters.append(or_(*terms))
    if states:
        filters.append(_in_states(states))
    if max_level is not None and max_level < max(Level):
        # "+ 0": a filter, never the index to search by (the planner would pick a
        # classification index and read every row of the table through it).
        filters.append(Case.classification + 0 <= max_level)
    if submitted_by is not None:
        filters.append(Case.submitted_by == submitted_by)
    return filters


def _case(row: Case) -> CaseRecord:
    return CaseRecord(
        id=row.id,
        number=row.number,
        idempotency_key=row.idempotency_key,
        submitted_by=row.submitted_by,
        request=row.request,
        request_digest=row.request_digest,
        decision=row.decision,
        outcome=row.outcome,
        state=row.state,
        sla_days=row.sla_days,
        version=row.version,
        created_at=aware(row.created_at),
        state_since=aware(row.state_since),
        classification=row.classification,
    )


_USER_COLUMNS = (
    "users.id, users.name, users.party, users.public_key, users.created_at, users.roles,"
    " users.clearance, users.password_hash"
)
_USER_BY_TOKEN = (
    f"SELECT {_USER_COLUMNS}, api_tokens.expires_at"
    " FROM users JOIN api_tokens ON api_tokens.user_id = users.id"
    " WHERE api_tokens.token_hash = ? AND api_tokens.revoked_at IS NULL"
)
_USER_BY_SESSION = (
    f"SELECT {_USER_COLUMNS}, sessions.csrf_token, sessions.created_at, sessions.expires_at"
    " FROM users JOIN sessions ON sessions.user_id = users.id WHERE sessions.token_hash = ?"
)


def _time(value: Any) -> dt.datetime:
    """A time as the driver hands it back: a datetime (psycopg) or ISO text (sqlite3)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return aware(value)


def _bytes(value: Any) -> bytes | None:
    """A body as the bytes its hash was taken over (None: the row has none)."""
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def _as_found(value: Any, kind: Any) -> Any:
    """A table's value as the facts are compared with it (``Store.table_rows``)."""
    if isinstance(value, str) and isinstance(kind, (Date, DateTime)):
        try:
            if isinstance(kind, DateTime):
                value = dt.datetime.fromisoformat(value)
            else:
                value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return aware(value) if isinstance(value, dt.datetime) else value


def _ledger(row: LedgerEvent) -> LedgerRecord:
    return LedgerRecord(
        row.seq,
        as_text(row.case_id),
        as_text(row.prev_hash),
        as_text(row.body),
        as_text(row.hash),
        as_text(row.type),
        row.scheme,
        as_text(row.seal),
    )


def _user_row(row: Any) -> UserRecord:
    return UserRecord(
        row[0], row[1], row[2], row[3], _time(row[4]), tuple(row[5].split()), row[6], row[7]
    )


def _user(row: User) -> UserRecord:
    return _user_row(
        (
            row.id,
            row.name,
            row.party,
            row.public_key,
            row.created_at,
            row.roles,
            row.clearance,
            row.password_hash,
        )
    )


class Transaction:
    """Reads and writes inside one database transaction."""

    def __init__(
        self,
        session: Session,
        *,
        is_sqlite: bool,
        sealer: Sealer | None = None,
        witness: WitnessFile | None = None,
    ) -> None:
        self._session = session
        self._is_sqlite = is_sqlite
        self._sealer = sealer
        self._witness = witness
        self._locked = False
        self.appended: list[LedgerRecord] = []
        self.stock = StockTables(session)
        self.proposals = ProposalTables(session)
        self.checkpoints = CheckpointTables(session)

    # users, offices, delegations -------------------------------------------------

    def add_user(self, user: UserRecord) -> None:
        self._session.add(
            User(
                id=user.id,
                name=user.name,
                party=user.party,
                public_key=user.public_key,
                created_at=user.created_at,
                roles=" ".join(user.roles),
                clearance=user.clearance,
                password_hash=user.password_hash,
            )
        )
        self._flush(f"user '{user.id}' already exists")

    def user(self, user_id: str) -> UserRecord | None:
        row = self._session.get(User, user_id, populate_existing=True)
        return None if row is None else _user(row)

    def users(self) -> list[UserRecord]:
        return [_user(r) for r in self._session.scalars(select(User).order_by(User.id))]

    def update_user(
        self,
        user_id: str,
        *,
        roles: tuple[str, ...] | None = None,
        clearance: int | None = None,
        password_hash: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {}
        if roles is not None:
            changes["roles"] = " ".join(roles)
        if clearance is not None:
            changes["clearance"] = clearance
        if password_hash is not None:
            changes["password_hash"] = password_hash
        if changes:
            self._session.execute(update(User).where(User.id == user_id).values(**changes))

    # sign-in: sessions, API tokens, failures -------------------------------------

    def add_session(self, record: SessionRecord) -> None:
        self._session.add(
            SignInSession(
                token_hash=record.token_hash,
                user_id=record.user_id,
                csrf_token=record.csrf_token,
                created_at=record.created_at,
                expires_at=record.expires_at,
            )
        )
        self._flush("session exists")

    def end_session(self, token_hash: str) -> None:
        self._session.execute(delete(SignInSession).where(SignInSession.token_hash == token_hash))

    def end_sessions(self, user_id: str) -> None:
        """End every session of one user."""
        self._session.execute(delete(SignInSession).where(SignInSession.user_id == user_id))

    def add_token(self, record: ApiTokenRecord) -> None:
        self._session.add(
            ApiToken(
                id=record.id,
                token_hash=record.token_hash,
                user_id=record.user_id,
                name=record.name,
                created_at=record.created_at,
                expires_at=record.expires_at,
                revoked_at=record.revoked_at,
            )
        )
        self._flush("token exists")

    @staticmethod
    def _token(row: ApiToken) -> ApiTokenRecord:
        return ApiTokenRecord(
            row.id,
            row.token_hash,
            row.user_id,
            row.name,
            aware(row.created_at),
            aware(row.expires_at),
            None if row.revoked_at is None else aware(row.revoked_at),
        )

    def token(self, token_id: str) -> ApiTokenRecord | None:
        row = self._session.scalar(select(ApiToken).where(ApiToken.id == token_id))
        return None if row is None else self._token(row)

    def tokens(self, user_id: str) -> list[ApiTokenRecord]:
        """The API tokens of one user, revoked and expired ones too, newest first."""
        query = (
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
        return [self._token(r) for r in self._session.scalars(query)]

    def revoke_token(self, token_id: str, at: dt.datetime) -> None:
        self._session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=at))

    def add_sign_in_failure(self, user_id: str, client: str, at: dt.datetime) -> None:
        self._session.add(SignInFailure(user_id=user_id, client=client, at=at))
        self._session.flush()

    def sign_in_failures(
        self, user_id: str, client: str, since: dt.datetime
    ) -> tuple[int, dt.datetime | None]:
        """How many sign-ins as ``user_id`` from ``client`` failed since ``since``, and the last."""
        query = select(func.count(), func.max(SignInFailure.at)).where(
            SignInFailure.user_id == user_id,
            SignInFailure.client == client,
            SignInFailure.at >= since,
        )
        count, last = self._session.execute(query).one()
        return int(count or 0), None if last is None else _time(last)

    def purge_sign_in(self, *, failures_before: dt.datetime, now: dt.datetime) -> None:
        """Forget failures too old to count and sessions that have expired."""
        self._session.execute(delete(SignInFailure).where(SignInFailure.at < failures_before))
        self._session.execute(delete(SignInSession).where(SignInSession.expires_at <= now))

    def clear_sign_in_failures(self, user_id: str, client: str) -> None:
        self._session.execute(
            delete(SignInFailure).where(
                SignInFailure.user_id == user_id, SignInFailure.client == client
            )
        )

    def add_holding(self, holding: HoldingRecord) -> None:
        self._session.add(
            Holding(
                user_id=holding.user_id,
                authority=holding.authority,
                valid_from=holding.valid_from,
                valid_to=holding.valid_to,
            )
        )
        self._flush("holding could not be recorded")

    def holdings(
        self, *, authority: str | None = None, user_id: str | None = None
    ) -> list[HoldingRecord]:
        query = select(Holding).order_by(Holding.valid_from)
        if authority is not None:
            query = query.where(Holding.authority == authority)
        if user_id is not None:
            query = query.where(Holding.user_id == user_id)
        return [
            HoldingRecord(r.user_id, r.authority, r.valid_from, r.valid_to)
            for r in self._session.scalars(query)
        ]

    def end_holdings(self, authority: str, last_day: dt.date) -> None:
        """Close every open or later-ending holding of an office on ``last_day``."""
        self._session.execute(
            update(Holding)
            .where(Holding.authority == authority)
            .where((Holding.valid_to.is_(None)) | (Holding.valid_to > last_day))
            .where(Holding.valid_from <= last_day)
            .values(valid_to=last_day)
        )

    def add_delegation(self, delegation: DelegationRecord) -> None:
        self._session.add(
            Delegation(
                authority=delegation.authority,
                holder_id=delegation.holder_id,
                delegate_id=delegation.delegate_id,
                valid_from=delegation.valid_from,
                valid_to=delegation.valid_to,
            )
        )
        self._flush("delegation could not be recorded")

    def delegations(
        self, *, delegate_id: str, authority: str | None = None
    ) -> list[DelegationRecord]:
        """Delegations to ``delegate_id`` (of one office, or of every office)."""
        query = select(Delegation).where(Delegation.delegate_id == delegate_id)
        if authority is not None:
            query = query.where(Delegation.authority == authority)
        return [
            DelegationRecord(r.authority, r.holder_id, r.delegate_id, r.valid_from, r.valid_to)
            for r in self._session.scalars(query)
        ]

    # cases --------------------------------------------------------------------------

    def next_case_number(self) -> int:
        """The next case number; taken under the ledger lock, so concurrent submissions queue."""
        self._lock_ledger()
        current = self._session.scalar(select(func.max(Case.number)))
        return (current or 0) + 1

    def add_case(self, case: CaseRecord) -> None:
        facts = json.loads(case.request)
        self._session.add(
            Case(
                id=case.id,
                number=case.number,
                idempotency_key=case.idempotency_key,
                submitted_by=case.submitted_by,
                request=case.request,
                request_digest=case.request_digest,
                decision=case.decision,
                outcome=case.outcome,
                state=case.state,
                is_open=case.state in OPEN_STATES,
                sla_days=case.sla_days,
                version=case.version,
                created_at=case.created_at,
                state_since=case.state_since,
                classification=case.classification,
                system=facts.get("system", ""),
                requester=facts.get("requester", ""),
                decided_at=case.state_since if case.state in _DECIDED else None,
                decided_as=case.state if case.state in _DECIDED else None,
                due_at=_due(case.state, case.state_since, case.sla_days),
            )
        )
        self._flush("a case with this idempotency key or number already exists")
        if case.state in _DECIDED:
            self._count_decision(case.state_since, case.state, case.classification)

    def _count_decision(self, at: dt.datetime, kind: str, level: int) -> None:
        """One more first decision in ``at``'s month (writers are serialised: no race)."""
        self._lock_ledger()
        month = at.astimezone(dt.UTC).strftime("%Y-%m")
        key = (
            DecisionCount.month == month,
            DecisionCount.kind == kind,
            DecisionCount.level == level,
        )
        result = self._session.execute(
            update(DecisionCount).where(*key).values(count=DecisionCount.count + 1)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self._session.add(DecisionCount(month=month, kind=kind, level=level, count=1))
            self._session.flush()

    def case(self, case_id: str, *, lock: bool = False) -> CaseRecord | None:
        """A case by id; ``lock`` holds its row until commit (PostgreSQL ``FOR UPDATE``)."""
        return self._one_case(Case.id == case_id, lock)

    def case_by_number(self, number: int, *, lock: bool = False) -> CaseRecord | None:
        return self._one_case(Case.number == number, lock)

    def _one_case(self, where: Any, lock: bool) -> CaseRecord | None:
        query = select(Case).where(where)
        if lock:
            query = query.with_for_update()
        row = self._session.scalar(query.execution_options(populate_existing=True))
        return None if row is None else _case(row)

    def case_by_key(self, key: str) -> CaseRecord | None:
        row = self._session.scalar(select(Case).where(Case.idempotency_key == key))
        return None if row is None else _case(row)

    def update_case(self, case: CaseRecord, **changes: Any) -> CaseRecord:
        """Write ``changes`` if nobody changed the case since ``case`` was read."""
        if changes.get("state") in _DECIDED and case.state in _UNDECIDED:
            self._count_decision(
                changes["state_since"],
                changes["state"],
                changes.get("classification", case.classification),
            )
        result = self._session.execute(
            update(Case)
            .where(Case.id == case.id, Case.version == case.version)
            .values(version=case.version + 1, **changes, **_openness(changes, case.sla_days))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                f"case {case.id} was changed by someone else meanwhile; look again and retry"
            )
        self._session.expire_all()
        updated = self.case(case.id)
        assert updated is not None
        return updated

    def cases(
        self,
        *,
        states: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
        newest_first: bool = False,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
    ) -> list[CaseRecord]:
        """A page of cases, oldest first; ``max_level`` leaves out those classified above it."""
        query = select(Case).where(*_case_filters(states, max_level, submitted_by, search))
        order = Case.created_at.desc() if newest_first else Case.created_at
        query = query.order_by(order, Case.number).limit(limit).offset(offset)
        return [_case(r) for r in self._session.scalars(query)]

    def each_case(self, *, states: Sequence[str], batch: int = 500) -> Iterator[CaseRecord]:
        """Every case in ``states``, oldest first, read a page at a time."""
        offset = 0
        while page := self.cases(states=states, limit=batch, offset=offset):
            offset += len(page)
            yield from page

    def count_cases(
        self,
        *,
        states: Sequence[str] | None = None,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
        at_most: int | None = None,
    ) -> int:
        found = select(Case.id).where(*_case_filters(states, max_level, submitted_by, search))
        if at_most is not None:  # stop counting there: a broad search stays cheap
            found = found.limit(at_most)
        query = select(func.count()).select_from(found.subquery())
        return int(self._session.scalar(query) or 0)

    def overdue_cases(
        self,
        *,
        now: dt.datetime,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[CaseRecord]:
        """Cases in review past their SLA, longest waiting first."""
        query = (
            select(Case)
            .where(
                Case.state == "in_review",
                Case.due_at < now,
                *_case_filters(None, max_level, submitted_by, search),
            )
            .order_by(Case.state_since, Case.number)
            .limit(limit)
            .offset(offset)
        )
        return [_case(r) for r in self._session.scalars(query)]

    def count_overdue(
        self,
        *,
        now: dt.datetime,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
    ) -> int:
        query = select(func.count()).where(
            Case.state == "in_review",
            Case.due_at < now,
            *_case_filters(None, max_level, submitted_by, search),
        )
        return int(self._session.scalar(query) or 0)

    def open_summary(
        self,
        *,
        now: dt.datetime,
        bucket_days: Sequence[int],
        max_level: int | None = None,
        submitted_by: str | None = None,
    ) -> list[tuple[str, int, int, int]]:
        """Open cases as ``(state, age bucket, count, highest level)``: bucket ``i`` holds
        cases younger than ``bucket_days[i]`` days (and older than the bucket before)."""
        age = case(
            *[
                (Case.created_at > now - dt.timedelta(days=days), index)
                for index, days in enumerate(bucket_days)
            ],
            else_=len(bucket_days),
        )
        query = (
            select(Case.state, age, func.count(), func.max(Case.classification))
            .where(*_case_filters(sorted(OPEN_STATES), max_level, submitted_by))
            .group_by(Case.state, age)
        )
        return [(str(a), int(b), int(c), int(d)) for a, b, c, d in self._session.execute(query)]

    def decisions_by_month(
        self,
        *,
        since: dt.datetime,
        max_level: int | None = None,
        submitted_by: str | None = None,
    ) -> list[tuple[str, str, int, int]]:
        """Decisions since a time as ``(YYYY-MM, approved | approved_with_conditions | denied,
        count, highest level)``, months in UTC."""
        if submitted_by is None:  # the counts kept as cases are decided: a few rows
            first = since.astimezone(dt.UTC).strftime("%Y-%m")
            counted = (
                select(
                    DecisionCount.month,
                    DecisionCount.kind,
                    func.sum(DecisionCount.count),
                    func.max(DecisionCount.level),
                )
                .where(DecisionCount.month >= first)
                .group_by(DecisionCount.month, DecisionCount.kind)
            )
            if max_level is not None:
                counted = counted.where(DecisionCount.level <= max_level)
            return [
                (str(a), str(b), int(c), int(d)) for a, b, c, d in self._session.execute(counted)
            ]
        if self._is_sqlite:
            # Times are stored as UTC text ("2025-06-15 09:00:00…"): the month is its start.
            month = func.substr(Case.decided_at, 1, 7)
        else:
            month = func.to_char(func.timezone("UTC", Case.decided_at), "YYYY-MM")
        query = (
            select(month, Case.decided_as, func.count(), func.max(Case.classification))
            .where(Case.decided_at >= since, *_case_filters(None, max_level, submitted_by))
            .group_by(month, Case.decided_as)
        )
        return [(str(a), str(b), int(c), int(d)) for a, b, c, d in self._session.execute(query)]

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
        self._flush(f"{approval.authority} has already answered on case {approval.case_id}")

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
        self._session.add(CaseCondition(case_id=case_id, text=text_))
        self._flush("condition could not be recorded")

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

    # the ledger ---------------------------------------------------------------------

    def serialise(self) -> None:
        """Queue behind every other writer of cases and the ledger until this transaction ends.

        SQLite already does (``BEGIN IMMEDIATE``); PostgreSQL takes the ledger's
        advisory lock. Reads after it see everything committed before it.
        """
        self._lock_ledger()

    def _lock_ledger(self) -> None:
        if not self._locked and not self._is_sqlite:
            self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LEDGER_LOCK})
        self._locked = True

    def ledger_head(self) -> tuple[int, str]:
        """The last sequence number and hash (0 and the genesis hash on an empty ledger)."""
        self._lock_ledger()
        row = self._session.execute(
            select(LedgerEvent.seq, LedgerEvent.hash)
            .where(LedgerEvent.seq.is_not(None))
            .order_by(LedgerEvent.seq.desc())
            .limit(1)
        ).first()
        return (0, GENESIS) if row is None else (int(row[0]), str(as_text(row[1])))

    def append(
        self, payload: Payload, *, actor: str, at: dt.datetime, case_id: str | None = None
    ) -> LedgerRecord:
        """The one writer of ledger events: links the event to the head and seals it with the
        system key, serialised by the database; every ``CHECKPOINT_EVERY`` events, a checkpoint.
        The event's type is its payload's."""
        if self._sealer is None:
            raise StoreError("there is no system key to seal the ledger with; run 'clearance init'")
        type = payload.TYPE
        seq, prev = self.ledger_head()
        seq += 1
        body = event_body(
            at=at.isoformat(), actor=actor, type=type, case_id=case_id, payload=payload.to_payload()
        )
        digest = link_hash(seq, case_id, prev, body)
        seal = self._sealer.seal(seq, digest)
        self._session.add(
            LedgerEvent(
                seq=seq,
                case_id=case_id,
                type=type.value,
                prev_hash=prev,
                body=body,
                hash=digest,
                scheme=CURRENT,
                seal=seal,
            )
        )
        self._flush("the ledger moved on meanwhile; retry")
        record = LedgerRecord(seq, case_id, prev, body, digest, type.value, CURRENT, seal)
        self.appended.append(record)
        if seq % CHECKPOINT_EVERY == 0:
            try:
                self.checkpoint(at, "every 1,000 events")
            except LedgerBroken:
                # The write goes on; the ledger stays unanchored from the damage on, so
                # every later verification names it.
                _log.error("the ledger does not verify: no checkpoint at event %d", seq)
        return record

    def checkpoint(self, at: dt.datetime, reason: str, *, unsealed: bool = False) -> Checkpoint:
        """Sign the ledger's head with the system key and keep the checkpoint.

        Only over a ledger that verifies since the last checkpoint the key
        signed, and that holds the witness: otherwise ``LedgerBroken``, since
        the checkpoint would vouch for whatever was forged, changed or cut
        there. ``unsealed``: vouch for the events of scheme 1 found before the
        first sealed one, as ``clearance init`` does once for a ledger written
        before seals; never otherwise, since anyone can write such an event.
        """
        sealer = self._sealer
        if sealer is None:
            raise StoreError("there is no system key to sign with; run 'clearance init'")
        seq, head = self.ledger_head()
        problem = self._tail_problem(sealer.public_key, seq, unsealed=unsealed)
        if problem is not None:
            raise LedgerBroken(f"not signing a checkpoint over the ledger: {problem}")
        made = sealer.checkpoint(seq, head, at)
        self.checkpoints.add(made, reason)
        return made

    def _tail_problem(self, public_key: str, head_seq: int, *, unsealed: bool) -> str | None:
        """What is wrong with the events after the last checkpoint signed by ``public_key``, or
        with the ledger against the witness."""
        last = self.checkpoints.last_signed(public_key)
        since, prev = (0, GENESIS) if last is None else (last.seq, last.head)
        if since > head_seq:
            return f"the ledger ends at event {head_seq}, before its checkpoint at {since}"
        if since:
            at_checkpoint = self._session.scalar(
                select(LedgerEvent.hash).where(LedgerEvent.seq == since)
            )
            if as_text(at_checkpoint) != prev:
                return f"event {since} is not the one its checkpoint vouches for"
        witness = None if self._witness is None else self._witness.anchor(public_key)
        if isinstance(witness, str):
            return witness
        if witness is not None:
            if witness.seq > head_seq:
                return f"the ledger ends at event {head_seq}, before {witness.source}"
            found = self._session.scalar(
                select(LedgerEvent.hash).where(LedgerEvent.seq == witness.seq)
            )
            if as_text(found) != witness.head:
                return f"event {witness.seq} is not the one {witness.source} vouches for"
        count = self._session.scalar(select(func.count()).select_from(LedgerEvent))
        if count != head_seq:
            return f"the ledger holds {count} rows, but its events run from 1 to {head_seq}"
        rows = self._session.execute(
            select(
                LedgerEvent.seq,
                LedgerEvent.scheme,
                LedgerEvent.type,
                LedgerEvent.case_id,
                LedgerEvent.prev_hash,
                LedgerEvent.hash,
                LedgerEvent.body,
                LedgerEvent.seal,
            )
            .where(LedgerEvent.seq > since)
            .order_by(LedgerEvent.seq)
        ).all()
        verifier = ChainVerifier(since + 1, head_seq, prev, whole=True)
        verifier.feed((r[0], r[1], *(as_text(v) for v in r[2:6]), _bytes(r[6]), None) for r in rows)
        segment = verifier.segment()
        if segment.first_bad is not None:
            return f"event {segment.first_bad} {segment.problem}"
        sealed = since > 0 or not unsealed
        for row in rows:
            if row[1] == Scheme.V1 and not sealed:
                continue  # written before seals existed: the upgrade's checkpoint vouches for it
            sealed = True
            if not seal_valid(public_key, row[0], as_text(row[5]), as_text(row[7])):
                return f"event {row[0]} is not sealed by the system key"
        return None

    def unsealed_tail(self) -> bool:
        """Whether events without a seal follow the last checkpoint (a ledger from before seals)."""
        last = self._session.scalar(select(func.max(LedgerCheckpoint.seq))) or 0
        found = self._session.scalar(
            select(LedgerEvent.seq)
            .where(LedgerEvent.seq > last, LedgerEvent.seal.is_(None))
            .limit(1)
        )
        return found is not None

    def ledger_page(
        self,
        *,
        max_level: int | None,
        case_id: str | None = None,
        type: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[LedgerRecord]:
        """Events newest first; those of a case classified above ``max_level`` left out, and
        those of a case not found (as an export redacts them)."""
        query = select(LedgerEvent).outerjoin(Case, Case.id == LedgerEvent.case_id)
        if max_level is not None:
            query = query.where(
                (LedgerEvent.case_id.is_(None)) | (Case.classification <= max_level)
            )
        if case_id is not None:
            query = query.where(LedgerEvent.case_id == case_id)
        if type is not None:
            query = query.where(LedgerEvent.type == type)
        if before is not None:
            query = query.where(LedgerEvent.seq < before)
        query = query.order_by(LedgerEvent.seq.desc()).limit(limit)
        rows = self._session.scalars(query)
        return [_ledger(r) for r in rows]

    def events_of_type(self, type: EventType) -> list[LedgerRecord]:
        rows = self._session.scalars(
            select(LedgerEvent).where(LedgerEvent.type == type.value).order_by(LedgerEvent.seq)
        )
        return [_ledger(r) for r in rows]

    def case_events(self, case_id: str) -> list[LedgerRecord]:
        rows = self._session.scalars(
            select(LedgerEvent).where(LedgerEvent.case_id == case_id).order_by(LedgerEvent.seq)
        )
        return [_ledger(r) for r in rows]

    def _flush(self, conflict: str) -> None:
        try:
            self._session.flush()
        except IntegrityError:
            raise ConflictError(conflict) from None


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot answer is a one-line ``StoreError``; a missing schema says what to do."""
    try:
        yield
    except DataError:
        raise InputError(
            "input", "holds a value the database cannot store (such as a NUL character)"
        ) from None
    except UnicodeEncodeError:
        raise InputError("input", "holds text that is not Unicode (a lone surrogate)") from None
    except (OperationalError, ProgrammingError) as exc:
        raise _store_error(str(exc.orig)) from None


def _store_error(text: str) -> StoreError:
    message = text.strip().splitlines()[0] if text.strip() else "unknown error"
    if "no such table" in message or "does not exist" in message:
        return StoreError("the database is not initialised; run 'clearance init'")
    return StoreError(f"database error: {message}")


class Store:
    """The database behind the narrow interface of ``Transaction``.

    ``sealer`` is the system key that seals what a transaction appends to the
    ledger (a store without one can read but not append); ``observers`` are
    told, after each commit, the events that transaction wrote. An observer
    that fails is logged and does not undo or hide the commit. ``witness`` is
    the last event this installation sealed, which the ledger must hold before
    a checkpoint is signed over it.
    """

    def __init__(
        self,
        database: Database,
        *,
        sealer: Sealer | None = None,
        observers: Sequence[Observer] = (),
        witness: WitnessFile | None = None,
    ) -> None:
        self.database = database
        self.sealer = sealer
        self.observers = list(observers)
        self.witness = witness

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction that may write: serialised with other writers by the database.

        A failure before COMMIT rolls everything back (``StoreError``: nothing was
        recorded). A failure of COMMIT itself leaves the outcome unknown (the
        database may have committed and lost the connection before saying so),
        so it is ``OutcomeUnknown``, never passed off as nothing done. After a
        commit, the observers are told which events it wrote.
        """
        with _database_errors(), Session(self.database.engine, expire_on_commit=False) as session:
            session.begin()
            try:
                tx = Transaction(
                    session,
                    is_sqlite=self.database.is_sqlite,
                    sealer=self.sealer,
                    witness=self.witness,
                )
                yield tx
                session.flush()
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except DBAPIError as exc:
                raise OutcomeUnknown(
                    "the database failed while committing, so whether this was recorded is"
                    f" unknown ({_store_error(str(exc.orig)).message})"
                ) from None
        committed = tuple(tx.appended)
        if committed:
            for observer in self.observers:
                try:
                    observer(committed)
                except Exception:
                    _log.exception("an observer of the ledger failed after a commit")

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """One transaction that only reads: a consistent snapshot that blocks nobody."""
        with (
            _database_errors(),
            Session(self.database.reader, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield Transaction(session, is_sqlite=self.database.is_sqlite)

    # Who is asking: one query on every authenticated request, so it goes straight to the
    # driver (one statement, no ORM, no transaction of SQLAlchemy's around it).

    def _one_row(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        if not self.database.is_sqlite:
            sql = sql.replace("?", "%s")
        with _database_errors(), self.database.reader.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            cursor = driver.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            except connection.dialect.loaded_dbapi.Error as exc:
                raise _store_error(str(exc)) from None
            finally:
                cursor.close()
        return None if row is None else tuple(row)

    def user_by_token(self, token_hash: str) -> tuple[UserRecord, dt.datetime] | None:
        """The user an API token acts as, and when it expires; None for an unknown or
        revoked token."""
        row = self._one_row(_USER_BY_TOKEN, token_hash)
        return None if row is None else (_user_row(row[:8]), _time(row[8]))

    def user_by_session(self, token_hash: str) -> tuple[UserRecord, SessionRecord] | None:
        row = self._one_row(_USER_BY_SESSION, token_hash)
        if row is None:
            return None
        user = _user_row(row[:8])
        session = SessionRecord(token_hash, user.id, row[8], _time(row[9]), _time(row[10]))
        return user, session

    def ledger_bounds(self) -> tuple[int, int]:
        """The lowest and highest sequence numbers on the ledger ((0, 0) when it is empty)."""
        with _database_errors(), self.database.engine.connect() as connection:
            low, high = connection.execute(
                select(func.min(LedgerEvent.seq), func.max(LedgerEvent.seq))
            ).one()
        return int(low or 0), int(high or 0)

    def ledger_count(self) -> int:
        """How many rows the ledger's table holds: as many as the chain's events, unless a row
        is there that the chain does not reach (a sequence number that is no whole number,
        or none)."""
        with _database_errors(), self.database.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(LedgerEvent)).scalar_one()
            )

    def _driver_rows(self, sql: str, params: tuple[Any, ...], batch: int) -> Generator[list[Any]]:
        """Rows of ``sql`` in batches, by the fastest path the drivers offer (verification reads
        every event): a plain cursor on SQLite, a server-side cursor on PostgreSQL, no ORM rows."""
        with _database_errors(), self.database.engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            if self.database.is_sqlite:
                cursor = driver.cursor()
            else:
                cursor = driver.cursor(name="clearance_ledger_rows", binary=True)
            try:
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(batch):
                    yield rows
            finally:
                cursor.close()

    def ledger_rows(self, first: int, last: int, batch: int = 10_000) -> Generator[list[Row]]:
        """Events ``first``..``last`` as ``core.chain.Row``, in batches, ready to check."""
        sql = ROWS_SQL[self.database.engine.dialect.name]
        for rows in self._driver_rows(sql, (first, last), batch):
            yield [(*row, None) for row in rows]

    def ledger_seals(
        self, first: int, last: int, batch: int = 10_000
    ) -> Generator[list[tuple[int, str, str | None]]]:
        """``(seq, hash, seal)`` of events ``first``..``last``, in batches."""
        sql = SEALS_SQL[self.database.engine.dialect.name]
        yield from self._driver_rows(sql, (first, last), batch)

    def hidden_events(self, level: int, up_to: int) -> list[int]:
        """The sequence numbers, up to ``up_to``, of the events of cases classified above
        ``level`` (or of no case the table holds): what an export for that level redacts."""
        query = (
            select(LedgerEvent.seq)
            .outerjoin(Case, Case.id == LedgerEvent.case_id)
            .where(
                LedgerEvent.seq <= up_to,
                LedgerEvent.case_id.is_not(None),
                Case.id.is_(None) | (Case.classification > level),
            )
            .order_by(LedgerEvent.seq)
        )
        with _database_errors(), self.database.reader.connect() as connection:
            return [int(seq) for seq in connection.execute(query).scalars()]

    def ledger_links(
        self, batch: int = 10_000, up_to: int | None = None
    ) -> Generator[tuple[Link, int | None]]:
        """Every event (up to ``up_to``) in sequence order with the level of its case (None: no
        case), streamed for export."""
        bound = [] if up_to is None else [LedgerEvent.seq <= up_to]
        with _database_errors(), self.database.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=batch).execute(
                select(
                    LedgerEvent.seq,
                    LedgerEvent.type,
                    LedgerEvent.case_id,
                    LedgerEvent.prev_hash,
                    LedgerEvent.hash,
                    LedgerEvent.scheme,
                    LedgerEvent.body,
                    LedgerEvent.seal,
                    Case.classification,
                )
                .outerjoin(Case, Case.id == LedgerEvent.case_id)
                .where(*bound)
                .order_by(LedgerEvent.seq)
            )
            try:
                for seq, kind, case_id, prev, hash_, scheme, body, seal, level in result:
                    link = Link(
                        seq,
                        as_text(kind),
                        as_text(case_id),
                        as_text(prev),
                        as_text(hash_),
                        scheme,
                        as_text(body),
                        as_text(seal),
                    )
                    yield link, level
            finally:
                result.close()

    def ledger_bodies(self, last: int, batch: int = 10_000) -> Iterator[tuple[int, str, str]]:
        """The ``(seq, prev_hash, body)`` of events 1 to ``last`` (those the chain checked) in
        sequence order, streamed (to rebuild the facts and check the statements)."""
        sql = (
            "SELECT seq, CAST(prev_hash AS TEXT), body FROM ledger WHERE seq BETWEEN 1 AND ?"
            " ORDER BY seq"
        )
        if not self.database.is_sqlite:
            sql = sql.replace("?", "%s")
        for rows in self._driver_rows(sql, (last,), batch):
            yield from rows

    def table_rows(self, table: str) -> Iterator[dict[str, Any]]:
        """Every row of one table as column → value, in key order (times as aware UTC).

        Times, dates and booleans are read as the driver hands them back and parsed here: on
        SQLite a column holds whatever it was given, and a value that is not of its type is
        kept as found, for the check to name, rather than failing the read."""
        found = Base.metadata.tables[table]
        kinds = {c.name: c.type for c in found.columns}
        columns = [
            type_coerce(c, String).label(c.name)
            if isinstance(c.type, (Date, DateTime, Boolean))
            else c
            for c in found.columns
        ]
        with _database_errors(), self.database.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=5_000).execute(
                select(*columns).order_by(*found.primary_key.columns)
            )
            try:
                for row in result.mappings():
                    yield {k: _as_found(v, kinds[k]) for k, v in row.items()}
            finally:
                result.close()
