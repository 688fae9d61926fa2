"""Plain records the store hands to the service layer: no SQLAlchemy beyond the store."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from clearance.core.dates import in_term
from clearance.core.decision import RecordedDecision, StoredDecision, UnreadableDecision
from clearance.core.events import Event, PayloadError, read_event
from clearance.core.request import StoredRequest
from clearance.core.workflow import CaseState
from clearance.errors import DamagedRecord

__all__ = [
    "ApiTokenRecord",
    "ApprovalRecord",
    "CaseRecord",
    "ConditionRecord",
    "DelegationRecord",
    "HoldingRecord",
    "LedgerRecord",
    "SessionRecord",
    "UserRecord",
]


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    name: str
    party: str
    public_key: str
    created_at: dt.datetime
    roles: tuple[str, ...] = ("requester",)
    clearance: int = 0
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class HoldingRecord:
    user_id: str
    authority: str
    valid_from: dt.date
    valid_to: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return in_term(day, self.valid_from, self.valid_to)


@dataclass(frozen=True, slots=True)
class DelegationRecord:
    authority: str
    holder_id: str
    delegate_id: str
    valid_from: dt.date
    valid_to: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return in_term(day, self.valid_from, self.valid_to)


def _damaged(number: int, part: str) -> DamagedRecord:
    # Not why: the reader's words could repeat a figure of the record that they may not
    # see (another party's stock); ``audit verify`` says why.
    return DamagedRecord(
        f"case {number}'s stored {part} cannot be read;"
        " 'clearance audit verify' names every record changed outside clearance"
    )


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as read: its request and decision typed (their JSON text stays in the store,
    store/case_text.py), ``request_digest`` over the request's canonical JSON.

    A decision or a state changed outside clearance is kept as an ``UnreadableDecision``
    or ``None``, so that the case is still found, listed and checked for access by its
    other columns; ``decision`` and ``state`` refuse it (``DamagedRecord``) only where it
    is needed, which is always after the access check, so the refusal names nothing the
    reader may not see."""

    id: str
    number: int
    idempotency_key: str | None
    submitted_by: str
    request: StoredRequest
    request_digest: str
    stored_decision: StoredDecision
    outcome: str
    stored_state: CaseState | None
    """None: the state column holds no case state."""
    sla_days: int
    version: int
    created_at: dt.datetime
    state_since: dt.datetime
    classification: int = 0
    due_at: dt.datetime | None = None
    """While in review: when its clocks say it is due (service.clocks); None otherwise."""
    expires_at: dt.datetime | None = None
    """While approved (or cleared) and not executed: when the approval lapses, by the
    lifetimes of the bundles that decided it (service.lifetimes); None otherwise."""

    @property
    def damaged(self) -> bool:
        """Whether the stored decision or state no longer reads (``check_readable`` refuses
        the case)."""
        return self.stored_state is None or isinstance(self.stored_decision, UnreadableDecision)

    @property
    def decision(self) -> RecordedDecision:
        """The decision; ``DamagedRecord`` naming the case when it no longer reads."""
        stored = self.stored_decision
        if isinstance(stored, UnreadableDecision):
            raise _damaged(self.number, "decision")
        return stored

    @property
    def state(self) -> CaseState:
        """The state; ``DamagedRecord`` naming the case when it no longer reads."""
        if self.stored_state is None:
            raise _damaged(self.number, "state")
        return self.stored_state

    def check_readable(self) -> None:
        """``DamagedRecord`` if any part of the case no longer reads: for whatever shows the
        whole case."""
        self.state  # noqa: B018 (the properties refuse a damaged record)
        self.decision  # noqa: B018


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    case_id: str
    authority: str
    verdict: str
    actor: str
    on_behalf_of: str | None
    reason: str
    statement: str
    signature: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    case_id: str
    text: str
    met_at: dt.datetime | None
    met_by: str | None
    evidence: str | None


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    seq: int
    case_id: str | None
    prev_hash: str
    body: str
    hash: str
    type: str
    scheme: int
    seal: str | None

    @property
    def event(self) -> Event:
        """The body read, with its typed payload: what readers take an event's facts from.
        ``PayloadError`` for a body that is not an event (changed outside clearance)."""
        try:
            body = json.loads(self.body)
        except (ValueError, TypeError, RecursionError):
            raise PayloadError(f"event {self.seq}'s body is not JSON") from None
        return read_event(body)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    user_id: str
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    id: str
    token_hash: str
    user_id: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        """``revoked``, ``expired`` or ``active``: whether the token is refused, and why."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"
