"""Subscriptions and dead letters: the use cases, through the one door.

A user subscribes themself to kinds of event (``core.notices.Kind``), by
e-mail or webhook; an admin subscribes an office's shared mailbox or
receiver, stating the clearance it may be told of. Every subscription and
its end is a ledger event, in the same transaction as its row, so a
subscription removed or redirected behind clearance's back is named by
``audit verify``.

Addresses are checked before anything is written: an e-mail address is a
plain ``local@domain``; a webhook is ``https://`` (``http://`` to loopback
only) and must accept a connection now, so a typo is caught at once rather
than at the first delivery. A webhook's signing key is never stored: it is
derived from the system key (``NotifyKeys``) and shown to its subscriber on
creation, and again on request.

Admins see the notifications that could not be delivered (dead letters),
only those about cases they may see, and make one due again (``retry``).
"""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from clearance.core.access import Level, parse_level
from clearance.core.events import SubscriptionAdded, SubscriptionEnded
from clearance.core.notices import Channel, email_address, parse_kinds, webhook_url
from clearance.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from clearance.service.access import Action, Principal, check, may, principal, today
from clearance.service.notify_keys import NotifyKeys
from clearance.store.notifications import DEAD, DeliveryRecord, SubscriptionRecord
from clearance.store.protocol import Transaction
from clearance.store.repository import Store

__all__ = [
    "MAX_SUBSCRIPTIONS",
    "DeadLetter",
    "Probe",
    "Subscribed",
    "Subscriptions",
    "delivery_row",
    "subscription_row",
    "tcp_probe",
]

MAX_SUBSCRIPTIONS = 20
"""Subscriptions in force per user or office: enough for every kind by both channels."""

Probe = Callable[[str, int, float], None]
"""Connects to a webhook's host and port within a timeout; ``OSError`` when it cannot."""


def tcp_probe(host: str, port: int, timeout: float) -> None:
    """Open a TCP connection and close it: nothing is sent."""
    socket.create_connection((host, port), timeout=timeout).close()


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A new subscription, and, for a webhook, the key its receiver verifies signatures with."""

    subscription: SubscriptionRecord
    signing_key: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A notification given up on, and the level of the case it tells of (None: no case)."""

    record: DeliveryRecord
    level: int | None


def subscription_row(record: SubscriptionRecord) -> dict[str, Any]:
    """A subscription as listings show it."""
    return {
        "id": record.id,
        "user": record.user_id,
        "office": record.office,
        "clearance": None if record.clearance is None else Level(record.clearance).label,
        "kinds": list(record.kinds),
        "channel": record.channel,
        "address": record.address,
        "created_at": record.created_at.isoformat(),
        "created_by": record.created_by,
        "ended_at": None if record.ended_at is None else record.ended_at.isoformat(),
    }


def delivery_row(record: DeliveryRecord, level: int | None = None) -> dict[str, Any]:
    """A notification as the dead-letter list shows it: what it tells (and the level of its
    case, when known) and where its delivery stands (never its seal)."""

    def when(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": record.id,
        "subscription": record.subscription_id,
        "kind": record.kind,
        "about": record.about,
        "case_number": record.case_number,
        "classification": None if level is None else Level(level).label,
        "channel": record.channel,
        "address": record.address,
        "state": record.state,
        "attempts": record.attempts,
        "created_at": record.created_at.isoformat(),
        "last_attempt_at": when(record.last_attempt_at),
        "next_at": when(record.next_at),
        "last_error": record.last_error,
    }


class Subscriptions:
    """Subscribing, ending, listing, a webhook's signing key; dead letters and their retry."""

    def __init__(
        self,
        store: Store,
        keys: NotifyKeys,
        *,
        is_office: Callable[[str], bool],
        timeout_s: float = 10.0,
        probe: Probe = tcp_probe,
    ) -> None:
        self.store = store
        self.keys = keys
        self.is_office = is_office
        self.timeout_s = timeout_s
        self.probe = probe

    def subscribe(
        self,
        *,
        actor: str,
        kinds: Iterable[str],
        email: str | None = None,
        webhook: str | None = None,
        office: str | None = None,
        clearance: str | None = None,
        now: dt.datetime,
    ) -> Subscribed:
        """Subscribe ``actor`` (or, for an admin, ``office`` cleared to ``clearance``) to
        ``kinds`` by e-mail or webhook. Everything is checked before anything is written."""
        if (email is None) == (webhook is None):
            raise InputError("email", "give either an e-mail address or a webhook URL")
        wanted = parse_kinds(kinds)
        if email is not None:
            channel, address = Channel.EMAIL, email_address(email)
        else:
            assert webhook is not None
            url = webhook_url(webhook)
            channel, address = Channel.WEBHOOK, url.url
        level = None
        if office is not None:
            if clearance is None:
                raise InputError("clearance", "say what the office's address may be told of")
            level = parse_level(clearance, "clearance")
        elif clearance is not None:
            raise InputError("clearance", "is stated only for an office's subscription")
        with self.store.reading() as tx:  # who may, before anyone is connected to
            self._may_subscribe(tx, actor, office, now.date(), level)
        if channel is Channel.WEBHOOK:
            self._reachable(url.url, url.host, url.port)
        record = SubscriptionRecord(
            id=str(uuid.uuid4()),
            user_id=None if office is not None else actor,
            office=office,
            clearance=None if level is None else int(level),
            kinds=tuple(k.value for k in wanted),
            channel=channel.value,
            address=address,
            created_at=now,
            created_by=actor,
        )
        with self.store.transaction() as tx:
            self._may_subscribe(tx, actor, office, now.date(), level)
            active = tx.notifications.subscriptions(active=True)
            mine = [s for s in active if (s.office, s.user_id) == (office, record.user_id)]
            if len(mine) >= MAX_SUBSCRIPTIONS:
                raise ConflictError(
                    f"at most {MAX_SUBSCRIPTIONS} subscriptions each are in force; end one first"
                )
            tx.notifications.add_subscription(record)
            tx.append(
                SubscriptionAdded(
                    record.id,
                    record.user_id,
                    office,
                    None if level is None else level.label,
                    record.kinds,
                    record.channel,
                    address,
                ),
                actor=actor,
                at=now,
            )
        key = self.keys.webhook_secret(record.id) if channel is Channel.WEBHOOK else None
        return Subscribed(record, key)

    def _may_subscribe(
        self,
        tx: Transaction,
        actor: str,
        office: str | None,
        day: dt.date,
        level: Level | None = None,
    ) -> None:
        who = principal(tx, actor, day)
        if office is None:
            if who.user is None:
                raise InputError(
                    "as", "the local operator has no address of their own: name a user or office"
                )
            check(who, Action.SUBSCRIPTIONS_MANAGE, who.id)
            return
        check(who, Action.NOTIFICATIONS_ADMIN)
        if not self.is_office(office):
            raise NotFoundError(f"unknown office '{office}'")
        if level is not None and level > who.clearance:
            raise PermissionDenied(
                f"{who.id} is cleared to {who.clearance.label} and cannot route cases up to"
                f" {level.label} to an office's address"
            )

    def _reachable(self, url: str, host: str, port: int) -> None:
        try:
            self.probe(host, port, min(self.timeout_s, 5.0))
        except OSError as exc:
            why = exc.strerror or str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError | socket.timeout):
                why = "no answer in time"
            raise InputError("webhook", f"'{url}' cannot be reached ({why})") from None

    @staticmethod
    def _manageable(tx: Transaction, who: Principal, subscription_id: str) -> SubscriptionRecord:
        record = tx.notifications.subscription(subscription_id)
        if record is not None:
            if record.office is not None and may(who, Action.NOTIFICATIONS_ADMIN):
                return record
            if record.user_id is not None and may(who, Action.SUBSCRIPTIONS_MANAGE, record.user_id):
                return record
        raise NotFoundError(f"no subscription '{subscription_id}'")

    def end(self, subscription_id: str, *, actor: str, now: dt.datetime) -> SubscriptionRecord:
        """End a subscription of ``actor``'s (an admin's: any): nothing more is queued for it,
        and nothing queued is sent. Ending one already ended changes nothing."""
        with self.store.transaction() as tx:
            record = self._manageable(tx, principal(tx, actor, now.date()), subscription_id)
            if record.ended_at is not None:
                return record
            tx.notifications.end_subscription(record.id, now)
            tx.append(
                SubscriptionEnded(record.id, record.user_id, record.office), actor=actor, at=now
            )
            ended = tx.notifications.subscription(record.id)
        assert ended is not None
        return ended

    def listed(self, *, actor: str, ended: bool = False) -> list[SubscriptionRecord]:
        """``actor``'s subscriptions, oldest first; an admin's (and the operator's): every
        user's and office's. Ended ones too when ``ended``."""
        with self.store.reading() as tx:
            who = principal(tx, actor, today())
            mine = None if may(who, Action.NOTIFICATIONS_ADMIN) else who.id
            return tx.notifications.subscriptions(user_id=mine, active=not ended)

    def signing_key(self, subscription_id: str, *, actor: str) -> str:
        """The signing key (Standard Webhooks' secret) of a webhook subscription ``actor`` may
        manage."""
        with self.store.reading() as tx:
            record = self._manageable(tx, principal(tx, actor, today()), subscription_id)
        if record.channel != Channel.WEBHOOK:
            raise InputError("subscription", "an e-mail subscription has no signing key")
        return self.keys.webhook_secret(record.id)

    # dead letters --------------------------------------------------------------------

    def dead(self, *, actor: str, limit: int = 500) -> list[DeadLetter]:
        """Notifications given up on, newest first: for admins, those about cases they may
        see (and those about no case)."""
        with self.store.reading() as tx:
            who = principal(tx, actor, today())
            check(who, Action.NOTIFICATIONS_ADMIN)
            found = []
            for record in tx.notifications.deliveries(state=DEAD, limit=limit):
                seen, level = self._seen(tx, who, record)
                if seen:
                    found.append(DeadLetter(record, level))
            return found

    @staticmethod
    def _seen(tx: Transaction, who: Principal, record: DeliveryRecord) -> tuple[bool, int | None]:
        """Whether ``who`` may see the case a notification tells of, and its level."""
        if record.case_id is None:
            return True, None
        case = tx.cases.get(record.case_id)
        if case is None or not may(who, Action.CASE_VIEW, case):
            return False, None
        return True, case.classification

    def retry(self, delivery_id: str, *, actor: str, now: dt.datetime) -> DeadLetter:
        """Make a dead notification due again, its attempts counted from zero."""
        with self.store.transaction() as tx:
            who = principal(tx, actor, now.date())
            check(who, Action.NOTIFICATIONS_ADMIN)
            record = tx.notifications.delivery(delivery_id)
            seen, level = (False, None) if record is None else self._seen(tx, who, record)
            if record is None or not seen:
                raise NotFoundError(f"no notification '{delivery_id}'")
            if not tx.notifications.retry(delivery_id, now=now):
                raise ConflictError(f"notification '{delivery_id}' is {record.state}, not dead")
            retried = tx.notifications.delivery(delivery_id)
        assert retried is not None
        return DeadLetter(retried, level)
