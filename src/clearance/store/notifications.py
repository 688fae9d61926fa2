"""Notifications, the store side (reached through ``Transaction.notifications``): the
subscriptions, and the outbox of notifications to deliver with their leases and attempts.

Taking due rows is the one query that differs by database: on PostgreSQL the
rows are selected ``FOR UPDATE SKIP LOCKED`` (dialect.py), so dispatchers of
several instances each take rows no other is taking, and the lease they write
(``leased_by`` until ``lease_until``) keeps the rows theirs after the commit; on
SQLite the writer's lock, taken at ``BEGIN IMMEDIATE``, does the same. Every
outcome is written only while the lease is still the writer's (``leased_by``),
so a dispatcher whose lease ran out cannot overwrite what another recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from clearance.store.dialect import skip_locked
from clearance.store.models import OutboxRow, Subscription, flush
from clearance.store.records import aware

__all__ = ["DeliveryRecord", "NotificationTables", "SubscriptionRecord"]

PENDING, DELIVERED, DEAD, DROPPED = "pending", "delivered", "dead", "dropped"


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: str
    user_id: str | None
    office: str | None
    clearance: int | None
    kinds: tuple[str, ...]
    channel: str
    address: str
    created_at: dt.datetime
    created_by: str
    ended_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One outbox row: a notification, its seal, and where its delivery stands."""

    id: str
    subscription_id: str
    event_seq: int
    kind: str
    case_id: str | None
    case_number: int | None
    about: str
    path: str
    channel: str
    address: str
    seal: str
    created_at: dt.datetime
    state: str = PENDING
    attempts: int = 0
    next_at: dt.datetime | None = None
    leased_by: str | None = None
    lease_until: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    last_error: str | None = None


def _maybe_time(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else aware(value)


def _subscription(row: Subscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        row.id,
        row.user_id,
        row.office,
        row.clearance,
        tuple(row.kinds.split()),
        row.channel,
        row.address,
        aware(row.created_at),
        row.created_by,
        _maybe_time(row.ended_at),
    )


def _delivery(row: OutboxRow) -> DeliveryRecord:
    return DeliveryRecord(
        row.id,
        row.subscription_id,
        row.event_seq,
        row.kind,
        row.case_id,
        row.case_number,
        row.about,
        row.path,
        row.channel,
        row.address,
        row.seal,
        aware(row.created_at),
        row.state,
        row.attempts,
        aware(row.next_at),
        row.leased_by,
        _maybe_time(row.lease_until),
        _maybe_time(row.last_attempt_at),
        _maybe_time(row.delivered_at),
        row.last_error,
    )


class NotificationTables:
    """Subscriptions and the outbox inside one transaction."""

    def __init__(self, session: Session, *, is_sqlite: bool) -> None:
        self._session = session
        self._is_sqlite = is_sqlite

    # subscriptions ------------------------------------------------------------------

    def add_subscription(self, record: SubscriptionRecord) -> None:
        self._session.add(
            Subscription(
                id=record.id,
                user_id=record.user_id,
                office=record.office,
                clearance=record.clearance,
                kinds=" ".join(record.kinds),
                channel=record.channel,
                address=record.address,
                created_at=record.created_at,
                created_by=record.created_by,
                ended_at=record.ended_at,
            )
        )
        flush(self._session, f"subscription '{record.id}' already exists")

    def end_subscription(self, subscription_id: str, at: dt.datetime) -> None:
        self._session.execute(
            update(Subscription).where(Subscription.id == subscription_id).values(ended_at=at)
        )

    def subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        row = self._session.get(Subscription, subscription_id, populate_existing=True)
        return None if row is None else _subscription(row)

    def subscriptions(
        self, *, user_id: str | None = None, active: bool = False
    ) -> list[SubscriptionRecord]:
        """Subscriptions (of one user, or every one; those not ended only), oldest first."""
        query = select(Subscription).order_by(Subscription.created_at, Subscription.id)
        if user_id is not None:
            query = query.where(Subscription.user_id == user_id)
        if active:
            query = query.where(Subscription.ended_at.is_(None))
        return [_subscription(r) for r in self._session.scalars(query)]

    # the outbox ---------------------------------------------------------------------

    def queue(self, records: Sequence[DeliveryRecord]) -> None:
        """Add notifications to deliver, due at once."""
        self._session.add_all(
            OutboxRow(
                id=r.id,
                subscription_id=r.subscription_id,
                event_seq=r.event_seq,
                kind=r.kind,
                case_id=r.case_id,
                case_number=r.case_number,
                about=r.about,
                path=r.path,
                channel=r.channel,
                address=r.address,
                seal=r.seal,
                created_at=r.created_at,
                state=PENDING,
                attempts=0,
                next_at=r.created_at,
            )
            for r in records
        )
        self._session.flush()

    def any_due(self, now: dt.datetime) -> bool:
        """Whether any notification is due by ``now`` and not leased: one indexed look, so a
        dispatcher with nothing to do takes no write lock."""
        found = self._session.execute(
            select(OutboxRow.id)
            .where(
                OutboxRow.state == PENDING,
                OutboxRow.next_at <= now,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
            )
            .limit(1)
        ).first()
        return found is not None

    def take(
        self, worker: str, *, now: dt.datetime, until: dt.datetime, limit: int
    ) -> list[DeliveryRecord]:
        """Lease up to ``limit`` due notifications (pending, due by ``now``, leased by nobody
        or by a lease that has run out) to ``worker`` until ``until``, oldest due first; each
        counts as an attempt. Returned as they were before this lease: ``leased_by`` set on one
        means an earlier attempt did not finish."""
        due = (
            select(OutboxRow)
            .where(
                OutboxRow.state == PENDING,
                OutboxRow.next_at <= now,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
            )
            .order_by(OutboxRow.next_at, OutboxRow.id)
            .limit(limit)
        )
        rows = [
            _delivery(r)
            for r in self._session.scalars(
                skip_locked(due, is_sqlite=self._is_sqlite).execution_options(
                    populate_existing=True
                )
            )
        ]
        if rows:
            self._session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([r.id for r in rows]))
                .values(
                    leased_by=worker,
                    lease_until=until,
                    attempts=OutboxRow.attempts + 1,
                    last_attempt_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        return rows

    def _settle(self, delivery_id: str, worker: str, **values: object) -> bool:
        done = self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == delivery_id, OutboxRow.leased_by == worker)
            .values(leased_by=None, lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    def delivered(self, delivery_id: str, worker: str, *, at: dt.datetime) -> bool:
        """The receiver took it; False when the lease was no longer ``worker``'s."""
        return self._settle(delivery_id, worker, state=DELIVERED, delivered_at=at, last_error=None)

    def failed(
        self, delivery_id: str, worker: str, *, error: str, retry_at: dt.datetime | None
    ) -> bool:
        """An attempt failed: try again at ``retry_at``, or, when None, it is dead."""
        if retry_at is None:
            return self._settle(delivery_id, worker, state=DEAD, last_error=error)
        return self._settle(delivery_id, worker, next_at=retry_at, last_error=error)

    def dropped(self, delivery_id: str, worker: str, *, why: str) -> bool:
        """Not to be sent at all (the subscription ended, or its reader may no longer see)."""
        return self._settle(delivery_id, worker, state=DROPPED, last_error=why)

    def release(self, delivery_id: str, worker: str) -> bool:
        """Give a leased row back untried (its attempt is not counted)."""
        return self._settle(delivery_id, worker, attempts=OutboxRow.attempts - 1)

    def delivery(self, delivery_id: str) -> DeliveryRecord | None:
        row = self._session.get(OutboxRow, delivery_id, populate_existing=True)
        return None if row is None else _delivery(row)

    def deliveries(
        self, *, state: str | None = None, event_seq: int | None = None, limit: int = 1000
    ) -> list[DeliveryRecord]:
        """Notifications (in one state, or of one event), newest first."""
        query = select(OutboxRow).order_by(OutboxRow.created_at.desc(), OutboxRow.id).limit(limit)
        if state is not None:
            query = query.where(OutboxRow.state == state)
        if event_seq is not None:
            query = query.where(OutboxRow.event_seq == event_seq)
        return [
            _delivery(r)
            for r in self._session.scalars(query.execution_options(populate_existing=True))
        ]

    def retry(self, delivery_id: str, *, now: dt.datetime) -> bool:
        """A dead notification made due again, with its attempts counted from zero."""
        done = self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == delivery_id, OutboxRow.state == DEAD)
            .values(state=PENDING, attempts=0, next_at=now, leased_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    def counts(self) -> dict[str, int]:
        """How many notifications are in each state."""
        query = select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
        return {str(state): int(n) for state, n in self._session.execute(query)}
