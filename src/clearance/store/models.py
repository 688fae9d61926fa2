"""The tables. The schema is only ever created by the Alembic migrations beside this file.

Times are stored as timezone-aware UTC; JSON documents (requests, decisions,
ledger payloads) as text in their canonical encoding, so that what was hashed
or signed is exactly what is stored.

Every table is in this one module, past 400 lines, because it is the schema the
migrations are checked against (tests/test_migrations.py compares the two): one
place to read the whole of what is stored.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from clearance.errors import ConflictError

__all__ = [
    "ApiToken",
    "Approval",
    "Base",
    "BundleProposal",
    "Case",
    "CaseCondition",
    "DecisionCount",
    "Delegation",
    "Holding",
    "LedgerCheckpoint",
    "LedgerEvent",
    "OutboxRow",
    "SignInFailure",
    "SignInSession",
    "StockMovement",
    "StockTotal",
    "Subscription",
    "User",
    "flush",
]


class Base(DeclarativeBase):
    pass


def _time() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True))


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    party: Mapped[str] = mapped_column(String(40))
    public_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _time()
    roles: Mapped[str] = mapped_column(String(200))  # space-separated core.access.Role values
    clearance: Mapped[int] = mapped_column(SmallInteger)  # core.access.Level
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Holding(Base):
    """A person holds an office from one date to another (inclusive; open-ended if null)."""

    __tablename__ = "holdings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    authority: Mapped[str] = mapped_column(String(80), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Delegation(Base):
    """A holder lets a delegate act for an office, for delegable gates only."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    authority: Mapped[str] = mapped_column(String(80), index=True)
    holder_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    delegate_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_state_age", "state", "created_at", "number"),
        Index("ix_cases_open_age", "is_open", "created_at", "number", "classification"),
        Index("ix_cases_due", "state", "due_at"),
        Index("ix_cases_expiry", "expires_at"),
        Index("ix_cases_age", "created_at", "number"),
        # Covering indexes: the dashboard's two summaries read no table rows.
        Index("ix_cases_open_summary", "is_open", "state", "created_at", "classification"),
        Index("ix_cases_decisions", "decided_at", "decided_as", "classification"),
        Index("ix_cases_submitter", "submitted_by", "created_at"),
        # Replay's first reading of a period reads these, not the table (migration 0014).
        Index(
            "ix_cases_replay",
            "number",
            "outcome",
            "asked_on",
            "quantity",
            "request_shape",
            "stockpile_digest",
        ),
        Index(
            "ix_cases_undated",
            "number",
            sqlite_where=text("asked_on IS NULL"),
            postgresql_where=text("asked_on IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    submitted_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    request: Mapped[str] = mapped_column(Text)
    request_digest: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40))
    # Derived from state by the repository: one index walk lists open cases oldest first.
    is_open: Mapped[bool] = mapped_column(Boolean)
    classification: Mapped[int] = mapped_column(SmallInteger)  # core.access.Level
    # Copies of request facts and of the first decision, for one-query lists and charts.
    system: Mapped[str] = mapped_column(String(80), index=True)
    requester: Mapped[str] = mapped_column(String(40), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_as: Mapped[str | None] = mapped_column(String(40), nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # What replay groups cases by without reading their JSON (core/case_keys.py); null for a
    # case stored before them whose text did not read.
    asked_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    quantity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    request_shape: Mapped[str | None] = mapped_column(String(80), nullable=True)
    stockpile_digest: Mapped[str | None] = mapped_column(String(80), nullable=True)
    sla_days: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = _time()
    state_since: Mapped[dt.datetime] = _time()


class CaseTerm(Base):
    """A word a case is found by beyond its columns (store/case_text.py ``search_terms``): its
    target territory and region, its recipient, the offices that must approve it and the
    policies that decided it, lower case. Keyed by the word first, so a search is an index
    lookup; rewritten with the case's decision."""

    __tablename__ = "case_terms"

    term: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)


class Approval(Base):
    """One office's signed answer on one case: approve or deny, by whom, with what reason."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("case_id", "authority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    authority: Mapped[str] = mapped_column(String(80))
    verdict: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(ForeignKey("users.id"))
    on_behalf_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    statement: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = _time()


class CaseCondition(Base):
    __tablename__ = "conditions"
    __table_args__ = (UniqueConstraint("case_id", "text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    met_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    met_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)


class LedgerEvent(Base):
    """One link of the hash chain (core/chain.py).

    ``type`` and ``case_id`` are copies of the body's, for filtering; a verifier
    checks they equal it. ``scheme`` says how the hash was taken; ``seal`` is
    the system's signature over ``(seq, hash)`` (core/anchors.py), null for
    events of scheme 1.
    """

    __tablename__ = "ledger"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    case_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    type: Mapped[str] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(80), unique=True)
    scheme: Mapped[int] = mapped_column(SmallInteger)
    seal: Mapped[str | None] = mapped_column(String(100), nullable=True)


class LedgerCheckpoint(Base):
    """A checkpoint the system signed (core/anchors.py): the ledger had ``seq`` events ending
    in ``head`` at ``at``. ``reason`` says what made it, for people."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    head: Mapped[str] = mapped_column(String(80))
    at: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(40))


class SignInSession(Base):
    """A browser's signed-in session; the cookie holds the token, this row its hash."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = _time()
    expires_at: Mapped[dt.datetime] = _time()


class ApiToken(Base):
    """A machine's bearer token, stored hashed; revoked tokens stay for the record."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _time()
    expires_at: Mapped[dt.datetime] = _time()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SignInFailure(Base):
    """A failed sign-in for a user name from one client address, kept for throttling.

    ``user_id`` is the name as typed (it need not be a user), ``client`` the address.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_user_client", "user_id", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = _time()


class DecisionCount(Base):
    """How many cases were first decided in a month, as what, at what level (for charts)."""

    __tablename__ = "decision_counts"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM, UTC
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class StockMovement(Base):
    """One change to one party's stock of one system (``core.stockpile.MovementKind``).

    The pack's opening figures are not stored: a balance is the opening plus
    the movements here dated on or before the day asked about.
    """

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_position_day", "holder", "system", "day"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(40))
    system: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[dt.date] = mapped_column(Date)
    at: Mapped[dt.datetime] = _time()
    actor: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("cases.id"), index=True)


class StockTotal(Base):
    """The sum of a position's movements so far, kept in the moving transaction for the board."""

    __tablename__ = "stock_totals"

    holder: Mapped[str] = mapped_column(String(40), primary_key=True)
    system: Mapped[str] = mapped_column(String(120), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger)
    committed: Mapped[int] = mapped_column(BigInteger)


class BundleProposal(Base):
    """A proposed policy bundle: its files as proposed, its golden-case results, its activation.

    The files never change once stored; activation signs their revision, so a
    changed file is detected when the bundle is loaded (a correction is a new
    proposal).
    """

    __tablename__ = "bundle_proposals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    holder: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(Text)
    revision: Mapped[str] = mapped_column(String(80))
    files: Mapped[str] = mapped_column(Text)  # canonical JSON: file name → text
    tests: Mapped[str] = mapped_column(Text)  # canonical JSON: the golden-case report
    tests_passed: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(20), index=True)
    proposed_by: Mapped[str] = mapped_column(String(64), ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime] = _time()
    activated_by: Mapped[str | None] = mapped_column(String(64), ForeignKey("users.id"))
    authority: Mapped[str | None] = mapped_column(String(80))
    activated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    statement: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(String(200))


class Subscription(Base):
    """Who is told of which kinds of event, and how: a user (``user_id``), or an office's
    shared mailbox or receiver (``office``), which gets only cases at or below its stated
    ``clearance``. Bound to the ledger (``subscription_added``, ``subscription_ended``)."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    office: Mapped[str | None] = mapped_column(String(80), index=True)
    clearance: Mapped[int | None] = mapped_column(SmallInteger)  # core.access.Level
    kinds: Mapped[str] = mapped_column(String(200))  # space-separated core.notices.Kind values
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _time()
    created_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """One notification to deliver to one subscription: working state, not a fact of the
    record. Written by the transaction that appends the event it tells of (so none is lost
    and none is sent for a change rolled back), taken by a dispatcher under a lease
    (``leased_by`` until ``lease_until``), and left ``delivered``, ``dead`` (too many failed
    attempts) or ``dropped`` (the subscription ended, or its user may no longer see the case).
    ``seal`` is an HMAC under a secret of the system key over what the row says: a row
    written by anyone else is never sent. ``id`` is the delivery id receivers deduplicate by."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    event_seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[str | None] = mapped_column(String(40))
    case_number: Mapped[int | None] = mapped_column(BigInteger)
    about: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(Text)
    seal: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _time()
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[dt.datetime] = _time()
    leased_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


def flush(session: Session, conflict: str) -> None:
    """Write what ``session`` holds; a row that breaks a key or constraint of these tables is a
    ``ConflictError`` saying ``conflict``."""
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(conflict) from None
