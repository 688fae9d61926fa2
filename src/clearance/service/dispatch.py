"""The dispatcher: delivers the outbox at least once, by e-mail (SMTP) and webhook.

One round (``Dispatcher.run_once``) takes up to ``batch`` due notifications
under a lease (store/notifications.py: ``SKIP LOCKED`` on PostgreSQL, so the
dispatchers of several instances never take the same row), checks each, sends
it, and records the outcomes in one transaction at the end of the round (and
at least every second while a slow one runs):

- a row whose seal does not hold (written by anyone but this installation) is
  dead at once, never sent;
- a row whose subscription has ended, or whose user may no longer see its
  case through the door, is dropped, unsent, saying why;
- a delivery the receiver takes (a 2xx answer; the mail server accepting the
  message) is delivered; any other outcome is an attempt failed, its error
  kept in one line, and tried again after a back-off that doubles from
  ``CLEARANCE_NOTIFY_BACKOFF_SECONDS`` up to ``…_BACKOFF_MAX_SECONDS``, with
  jitter; after ``CLEARANCE_NOTIFY_MAX_ATTEMPTS`` it is dead (a dead letter),
  for an admin to see and retry.

A dispatcher that stops mid-delivery (killed, or its machine lost) leaves its
rows leased; when the lease runs out another dispatcher takes them and sends
them again. So a receiver may get a notification twice, never with a
different id: the outbox row's id is the delivery id, sent as the Standard
Webhooks ``webhook-id`` header and in the e-mail's ``Message-ID``, for the
receiver to deduplicate by. Each attempt counts when it is taken, so a row
that keeps stopping its dispatcher is dead after as many attempts as any.

How a message is sent (SMTP, Standard Webhooks) is service/senders.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from clearance.core.notices import Channel, Kind, Message, backoff
from clearance.errors import ClearanceError, NotFoundError
from clearance.service.access import Action, may, principal
from clearance.service.notify_keys import NotifyKeys
from clearance.service.senders import DeliveryFailed, Mail, Webhooks, email_message, one_line
from clearance.settings import Notify
from clearance.store.notifications import DeliveryRecord, NotificationTables
from clearance.store.repository import Store

__all__ = ["Dispatcher", "Tally"]

log = logging.getLogger("clearance.notify")

BATCH = 20
"""Notifications taken at once by one dispatcher."""


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class Tally:
    """What one or more rounds did."""

    taken: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    dropped: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("taken", "delivered", "retrying", "dead", "dropped", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

    def as_dict(self) -> dict[str, object]:
        return {
            "taken": self.taken,
            "delivered": self.delivered,
            "retrying": self.retrying,
            "dead": self.dead,
            "dropped": self.dropped,
            "released": self.released,
        }


class Dispatcher:
    """Delivers due notifications (module doc). ``run_once`` is one round; ``start`` runs
    rounds in a thread until ``stop``, woken by ``wake`` (set after a commit that queued
    something) or every ``poll_s`` seconds (for rows queued by other processes, and retries)."""

    def __init__(
        self,
        store: Store,
        keys: NotifyKeys,
        notify: Notify,
        *,
        wake: threading.Event | None = None,
        worker: str | None = None,
        batch: int = BATCH,
        clock: Callable[[], dt.datetime] = _clock,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.keys = keys
        self.notify = notify
        self.wake = wake or threading.Event()
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch = batch
        self.clock = clock
        self.draw = draw
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._webhooks = Webhooks(notify.timeout_s)

    # one round ------------------------------------------------------------------------

    def run_once(self) -> Tally:
        """Take up to ``batch`` due notifications and settle each (module doc)."""
        tally = Tally()
        now = self.clock()
        until = now + dt.timedelta(seconds=self.notify.lease_s)
        with self.store.reading() as tx:
            if not tx.notifications.any_due(now):
                return tally  # nothing to do: no writer's lock taken
        with self.store.transaction() as tx:
            rows = tx.notifications.take(self.worker, now=now, until=until, limit=self.batch)
        tally.taken = len(rows)
        if not rows:
            return tally
        verdicts = self._judge(rows, now)
        mail = Mail(self.notify.smtp, self.notify.timeout_s)
        timeout = dt.timedelta(seconds=self.notify.timeout_s)
        outcomes: list[tuple[DeliveryRecord, str, str]] = []
        recorded = time.monotonic()
        try:
            for index, row in enumerate(rows):
                verdict = verdicts.get(row.id)
                if verdict is None and index and self.clock() + timeout > until:
                    outcomes.append((row, "release", ""))  # the lease would run out first
                    continue
                if verdict is None:
                    verdict = self._send(row, mail)
                outcomes.append((row, *verdict))
                # A slow round records what it did as it goes, well inside its lease.
                if time.monotonic() - recorded >= 1.0 or self.clock() + timeout > until:
                    self._settle(tally, outcomes)
                    outcomes, recorded = [], time.monotonic()
        finally:
            mail.close()
            self._settle(tally, outcomes)
        return tally

    def _judge(self, rows: list[DeliveryRecord], now: dt.datetime) -> dict[str, tuple[str, str]]:
        """The rows not to send, each with its outcome and why (read in one transaction)."""
        verdicts: dict[str, tuple[str, str]] = {}
        with self.store.reading() as tx:
            for row in rows:
                if not self.keys.sealed(row):
                    verdicts[row.id] = ("dead", "not sealed by this installation: never sent")
                    continue
                if row.attempts >= self.notify.max_attempts:
                    why = row.last_error or "earlier attempts did not finish"
                    verdicts[row.id] = ("dead", one_line(f"{row.attempts} attempts: {why}"))
                    continue
                subscription = tx.notifications.subscription(row.subscription_id)
                if subscription is None or subscription.ended_at is not None:
                    verdicts[row.id] = ("dropped", "the subscription ended before delivery")
                    continue
                if subscription.user_id is None or row.case_id is None:
                    continue
                case = tx.cases.get(row.case_id)
                try:
                    reader = principal(tx, subscription.user_id, now.date())
                except NotFoundError:
                    reader = None
                if case is None or reader is None or not may(reader, Action.CASE_VIEW, case):
                    verdicts[row.id] = ("dropped", "its reader may no longer see the case")
        return verdicts

    def _message(self, row: DeliveryRecord) -> Message:
        link = self.notify.public_url + row.path
        return Message(Kind(row.kind), row.about, link, row.id, row.case_number)

    def _send(self, row: DeliveryRecord, mail: Mail) -> tuple[str, str]:
        try:
            message = self._message(row)
            if row.channel == Channel.EMAIL:
                sender = self.notify.smtp.sender if self.notify.smtp else "clearance@localhost"
                at = self.clock()
                mail.send(
                    email_message(message, to=row.address, kind=row.kind, sender=sender, at=at)
                )
            elif row.channel == Channel.WEBHOOK:
                key = self.keys.webhook_secret(row.subscription_id)
                self._webhooks.post(
                    message, url=row.address, kind=row.kind, key=key, at=self.clock()
                )
            else:
                raise DeliveryFailed(f"'{row.channel}' is not a channel")
        except DeliveryFailed as exc:
            return ("failed", str(exc))
        except (ValueError, ClearanceError) as exc:  # a row that cannot be made a message
            return ("failed", one_line(f"cannot be sent: {exc}"))
        return ("delivered", "")

    def _settle(self, tally: Tally, outcomes: list[tuple[DeliveryRecord, str, str]]) -> None:
        """Record outcomes in one transaction, each only while its lease is still this
        dispatcher's."""
        if not outcomes:
            return
        said = []
        with self.store.transaction() as tx:
            for row, outcome, why in outcomes:
                said.append((row, *self._record(tx.notifications, tally, row, outcome, why), why))
        for row, outcome, kept, why in said:
            if outcome not in ("delivered", "release"):
                tally.errors.append(f"{row.id}: {why}")
                fields = {"delivery": row.id, "outcome": outcome, "why": why}
                log.warning(
                    "notification %s %s: %s", row.id, outcome, why, extra={"fields": fields}
                )
            if not kept:
                log.warning("the lease on notification %s ran out before its outcome", row.id)

    def _record(
        self,
        notes: NotificationTables,
        tally: Tally,
        row: DeliveryRecord,
        outcome: str,
        why: str,
    ) -> tuple[str, bool]:
        """Write one row's outcome; the outcome as it was taken, and whether it was written."""
        attempt = row.attempts + 1
        if outcome == "delivered":
            kept = notes.delivered(row.id, self.worker, at=self.clock())
            tally.delivered += kept
        elif outcome == "dropped":
            kept = notes.dropped(row.id, self.worker, why=why)
            tally.dropped += kept
        elif outcome == "release":
            kept = notes.release(row.id, self.worker)
            tally.released += kept
        elif outcome == "dead" or attempt >= self.notify.max_attempts:
            outcome = "dead"
            kept = notes.failed(row.id, self.worker, error=why, retry_at=None)
            tally.dead += kept
        else:
            outcome = "to be retried"
            wait = _backoff(self.notify, attempt, self.draw())
            retry_at = self.clock() + dt.timedelta(seconds=wait)
            kept = notes.failed(row.id, self.worker, error=why, retry_at=retry_at)
            tally.retrying += kept
        return outcome, kept

    # running ----------------------------------------------------------------------------

    def run(self, *, poll_s: float | None = None) -> Tally:
        """Rounds until ``halt`` or ``stop``: at once while rows keep coming, else when woken
        or every ``poll_s`` seconds. A round that fails (the database down) is logged and
        tried again at the next. Returns what all the rounds did."""
        poll = max(1.0, float(self.notify.poll_s if poll_s is None else poll_s))
        total = Tally()
        while not self._stop.is_set():
            self.wake.clear()
            taken = 0
            try:
                tally = self.run_once()
                total.add(tally)
                taken = tally.taken
            except ClearanceError as exc:
                log.error("notifications not delivered this round: %s", exc.message)
            except Exception:  # a bug: logged, and the dispatcher goes on
                log.exception("a round of notifications failed")
            if taken < self.batch and not self._stop.is_set():
                self.wake.wait(poll)
        return total

    def drain(self) -> Tally:
        """Rounds until nothing is due now (``clearance notify run --once``)."""
        total = Tally()
        while True:
            tally = self.run_once()
            total.add(tally)
            if tally.taken < self.batch or tally.taken == tally.released:
                return total

    def start(self) -> None:
        """Run in a background thread (``clearance serve``)."""
        self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
        self._thread.start()

    def halt(self) -> None:
        """Ask ``run`` to return after the delivery under way (safe from a signal handler)."""
        self._stop.set()
        self.wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Halt, wait for the thread ``start`` began, and close the HTTP client."""
        self.halt()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
        self._webhooks.close()

    def _run(self) -> None:
        self.run()

    def close(self) -> None:
        self._webhooks.close()


def _backoff(notify: Notify, attempt: int, draw: float) -> float:
    return backoff(attempt, first=notify.backoff_s, longest=notify.backoff_max_s, draw=draw)
