"""The dispatcher: delivers the outbox at least once, by e-mail (SMTP) and webhook.

One round (``Dispatcher.run_once``) takes up to ``batch`` due notifications
under a lease (store/notifications.py: ``SKIP LOCKED`` on PostgreSQL, so the
dispatchers of several instances never take the same row), checks each, sends
it, and records the outcome at once:

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

Webhooks follow Standard Webhooks (standardwebhooks.com): the JSON body
``{"type", "timestamp", "data"}``, signed with the subscription's secret in
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``. Redirects are
not followed, and no proxy from the environment is used.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import random
import smtplib
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx
from standardwebhooks.webhooks import Webhook

from clearance import __version__
from clearance.core.notices import Channel, Kind, Message, backoff, webhook_url
from clearance.errors import ClearanceError, NotFoundError
from clearance.service.access import Action, may, principal
from clearance.service.notifications import NotifyKeys
from clearance.settings import Notify, Smtp
from clearance.store.notifications import DeliveryRecord
from clearance.store.repository import Store

__all__ = ["Dispatcher", "Tally"]

log = logging.getLogger("clearance.notify")

BATCH = 20
"""Notifications taken at once by one dispatcher."""


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeliveryFailed(Exception):
    """One attempt failed; the message is the one line kept on the row."""


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


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _Mail:
    """One connection to the mail server, opened when first needed and kept for a round."""

    def __init__(self, smtp: Smtp | None, timeout: float) -> None:
        self.smtp = smtp
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            raise DeliveryFailed("no mail server is set (CLEARANCE_SMTP_HOST)")
        where = f"mail server {self.smtp.host}:{self.smtp.port}"
        try:
            if self._connection is None:
                self._connection = self._connect(self.smtp)
            self._connection.send_message(message)
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            raise DeliveryFailed(_one_line(f"{where}: {exc}")) from None

    def _connect(self, smtp: Smtp) -> smtplib.SMTP:
        connection = smtplib.SMTP(smtp.host, smtp.port, timeout=self.timeout)
        try:
            if smtp.starttls:
                connection.starttls(context=ssl.create_default_context())
            if smtp.user is not None and smtp.password is not None:
                connection.login(smtp.user, smtp.password)
        except BaseException:
            connection.close()
            raise
        return connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None


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
        self._http = httpx.Client(timeout=notify.timeout_s, follow_redirects=False, trust_env=False)

    # one round ------------------------------------------------------------------------

    def run_once(self) -> Tally:
        """Take up to ``batch`` due notifications and settle each (module doc)."""
        tally = Tally()
        now = self.clock()
        until = now + dt.timedelta(seconds=self.notify.lease_s)
        with self.store.transaction() as tx:
            rows = tx.notifications.take(self.worker, now=now, until=until, limit=self.batch)
        tally.taken = len(rows)
        if not rows:
            return tally
        verdicts = self._judge(rows, now)
        mail = _Mail(self.notify.smtp, self.notify.timeout_s)
        try:
            for index, row in enumerate(rows):
                verdict = verdicts.get(row.id)
                late = self.clock() + dt.timedelta(seconds=self.notify.timeout_s) > until
                if verdict is None and index and late:
                    self._settle(tally, row, "release", "")  # the lease would run out first
                    continue
                if verdict is None:
                    verdict = self._send(row, mail)
                self._settle(tally, row, *verdict)
        finally:
            mail.close()
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
                    verdicts[row.id] = ("dead", _one_line(f"{row.attempts} attempts: {why}"))
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

    def _send(self, row: DeliveryRecord, mail: _Mail) -> tuple[str, str]:
        try:
            message = self._message(row)
            if row.channel == Channel.EMAIL:
                mail.send(self._email(row, message))
            elif row.channel == Channel.WEBHOOK:
                self._post(row, message)
            else:
                raise DeliveryFailed(f"'{row.channel}' is not a channel")
        except DeliveryFailed as exc:
            return ("failed", str(exc))
        except (ValueError, ClearanceError) as exc:  # a row that cannot be made a message
            return ("failed", _one_line(f"cannot be sent: {exc}"))
        return ("delivered", "")

    def _email(self, row: DeliveryRecord, message: Message) -> EmailMessage:
        smtp = self.notify.smtp
        sender = smtp.sender if smtp is not None else "clearance@localhost"
        domain = sender.rpartition("@")[2]
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = sender
        mail["To"] = row.address
        mail["Date"] = email.utils.format_datetime(self.clock())
        mail["Message-ID"] = f"<{row.id}@{domain}>"
        mail["X-Clearance-Delivery"] = row.id
        mail["X-Clearance-Kind"] = row.kind
        mail.set_content(message.text)
        return mail

    def _post(self, row: DeliveryRecord, message: Message) -> None:
        url = webhook_url(row.address).url
        sent_at = self.clock()
        body = json.dumps(
            {
                "type": f"clearance.{row.kind}",
                "timestamp": sent_at.isoformat(),
                "data": message.data(),
            },
            separators=(",", ":"),
        )
        signature = Webhook(self.keys.webhook_secret(row.subscription_id)).sign(
            row.id, sent_at, body
        )
        headers = {
            "content-type": "application/json",
            "user-agent": f"clearance/{__version__}",
            "webhook-id": row.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature,
        }
        try:
            answer = self._http.post(url, content=body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise DeliveryFailed(_one_line(f"webhook {url}: {why}")) from None
        if not 200 <= answer.status_code < 300:
            moved = " (redirects are not followed)" if 300 <= answer.status_code < 400 else ""
            raise DeliveryFailed(f"webhook {url} answered {answer.status_code}{moved}")

    def _settle(self, tally: Tally, row: DeliveryRecord, outcome: str, why: str) -> None:
        """Record one row's outcome while the lease is still this dispatcher's."""
        attempt = row.attempts + 1
        with self.store.transaction() as tx:
            notes = tx.notifications
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
        if outcome not in ("delivered", "release"):
            tally.errors.append(f"{row.id}: {why}")
            fields = {"delivery": row.id, "outcome": outcome, "why": why}
            log.warning("notification %s %s: %s", row.id, outcome, why, extra={"fields": fields})
        if not kept:
            log.warning("the lease on notification %s ran out before its outcome", row.id)

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
        self._http.close()

    def _run(self) -> None:
        self.run()

    def close(self) -> None:
        self._http.close()


def _backoff(notify: Notify, attempt: int, draw: float) -> float:
    return backoff(attempt, first=notify.backoff_s, longest=notify.backoff_max_s, draw=draw)
