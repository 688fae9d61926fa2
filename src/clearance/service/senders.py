"""How a notification leaves: by SMTP (``Mail``) and by Standard Webhooks (``Webhooks``).

Each attempt either returns (the mail server took the message; the receiver
answered 2xx) or raises ``DeliveryFailed`` with the one line the outbox keeps
as its last error. The dispatcher (service/dispatch.py) decides what follows.

An e-mail is plain text, its ``Message-ID`` the delivery id at the sender's
domain, with ``X-Clearance-Delivery`` and ``X-Clearance-Kind``. A webhook is one
JSON object ``{"type", "timestamp", "data"}``, signed with the subscription's
key in ``webhook-id`` (the delivery id), ``webhook-timestamp`` and
``webhook-signature`` (standardwebhooks.com); it is sent with a short timeout,
following no redirect and using no proxy from the environment.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import smtplib
import ssl
from email.message import EmailMessage

import httpx
from standardwebhooks.webhooks import Webhook

from clearance import __version__
from clearance.core.notices import Message, webhook_url
from clearance.settings import Smtp

__all__ = ["DeliveryFailed", "Mail", "Webhooks", "email_message", "one_line"]


class DeliveryFailed(Exception):
    """One attempt failed; the message is the one line kept on the row."""


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def email_message(
    message: Message, *, to: str, kind: str, sender: str, at: dt.datetime
) -> EmailMessage:
    """The e-mail of one notification (module doc)."""
    domain = sender.rpartition("@")[2]
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = email.utils.format_datetime(at)
    mail["Message-ID"] = f"<{message.delivery}@{domain}>"
    mail["X-Clearance-Delivery"] = message.delivery
    mail["X-Clearance-Kind"] = kind
    mail.set_content(message.text)
    return mail


class Mail:
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
            raise DeliveryFailed(one_line(f"{where}: {exc}")) from None

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


class Webhooks:
    """One HTTP client, kept for a dispatcher's life (its connections are reused)."""

    def __init__(self, timeout: float) -> None:
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)

    def post(self, message: Message, *, url: str, kind: str, key: str, at: dt.datetime) -> None:
        """Sign and send one notification to ``url`` with the subscription's ``key``."""
        url = webhook_url(url).url
        body = json.dumps(
            {"type": f"clearance.{kind}", "timestamp": at.isoformat(), "data": message.data()},
            separators=(",", ":"),
        )
        headers = {
            "content-type": "application/json",
            "user-agent": f"clearance/{__version__}",
            "webhook-id": message.delivery,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(key).sign(message.delivery, at, body),
        }
        try:
            answer = self._http.post(url, content=body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise DeliveryFailed(one_line(f"webhook {url}: {why}")) from None
        if not 200 <= answer.status_code < 300:
            moved = " (redirects are not followed)" if 300 <= answer.status_code < 400 else ""
            raise DeliveryFailed(f"webhook {url} answered {answer.status_code}{moved}")

    def close(self) -> None:
        self._http.close()
