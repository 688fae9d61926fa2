"""Notifications, the pure part: kinds of event, channels, addresses, back-off, what a
message says. No I/O: the service decides whom to tell and sends (service/notifications.py,
service/dispatch.py).

A message never carries anything of a case but its number: it says which kind
of event happened, about what ("case 12", "proposal 3", "the policy of US"),
and gives a link. Whoever follows the link signs in and is shown what their
clearance allows, as on every other page.

Addresses are checked here, with errors naming the field as the forms and the
API do (``email``, ``webhook``): an e-mail address is a plain ``local@domain``
(no display name, comments, quoting or line breaks, so nothing can be
smuggled into a header); a webhook is an ``https://`` URL without credentials
or fragment, or ``http://`` to this machine only (loopback), for tests and
for a receiver on the same host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from clearance.errors import InputError

__all__ = [
    "MAX_ADDRESS",
    "Channel",
    "Kind",
    "Message",
    "WebhookUrl",
    "backoff",
    "email_address",
    "is_loopback",
    "parse_kinds",
    "webhook_url",
]

MAX_ADDRESS = 2000
"""The longest webhook URL taken (an e-mail address is at most 254 characters)."""


class Kind(StrEnum):
    """What a subscriber may be told of."""

    WAITING = "waiting"  # a case (or a policy proposal) waits for an office you hold
    DECIDED = "decided"  # your case was decided
    CONDITION_DUE = "condition_due"  # your case was approved with conditions to meet
    QUESTION = "question"  # a question on a case was asked of you, or answered for you
    ESCALATION = "escalation"  # a case waited past a step of its escalation ladder
    POLICY_ACTIVATED = "policy_activated"  # a policy bundle came into force

    @property
    def words(self) -> str:
        """What happened, after what it happened to: ``case 12: waiting for you``."""
        return _WORDS[self]

    @property
    def meaning(self) -> str:
        """When a subscriber is told, in their words (for forms and help)."""
        return _MEANINGS[self]


_WORDS = {
    Kind.WAITING: "waiting for you",
    Kind.DECIDED: "decided",
    Kind.CONDITION_DUE: "approved with a condition to meet",
    Kind.QUESTION: "a question asked or answered",
    Kind.ESCALATION: "escalated",
    Kind.POLICY_ACTIVATED: "new policy in force",
}


_MEANINGS = {
    Kind.WAITING: "a case or a policy proposal waits for an office I hold",
    Kind.DECIDED: "my case is decided",
    Kind.CONDITION_DUE: "my case is approved with a condition to meet",
    Kind.QUESTION: "a question is asked of me, or the answer to mine comes",
    Kind.ESCALATION: "a case reaches a step of its escalation that names me",
    Kind.POLICY_ACTIVATED: "a policy bundle comes into force",
}


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


def parse_kinds(values: Iterable[str], field: str = "kinds") -> tuple[Kind, ...]:
    """Kinds as given (``waiting``, ``decided`` …), without repeats, in the order of ``Kind``;
    at least one."""
    kinds = set()
    for value in values:
        try:
            kinds.add(Kind(value.strip().lower()))
        except ValueError:
            names = ", ".join(kind.value for kind in Kind)
            shown = value if len(value) <= 40 else value[:40] + "…"
            raise InputError(field, f"'{shown}' is not a kind of event (one of {names})") from None
    if not kinds:
        raise InputError(field, "name at least one kind of event")
    return tuple(kind for kind in Kind if kind in kinds)


# Matched whole (``fullmatch``): ``$`` would also match before a final line break.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def email_address(text: str, field: str = "email") -> str:
    """A plain e-mail address, ``local@domain``, ASCII (module doc); ``InputError`` naming
    ``field`` otherwise."""
    address = text.strip()
    if not address:
        raise InputError(field, "give an e-mail address, such as secdef@example.gov")
    shown = address[:60].encode("unicode_escape").decode("ascii")  # pragma: no mutate
    if len(address) > 60:
        shown += "…"  # after the escaping, which would show it as \u2026
    local, at, domain = address.rpartition("@")
    problem = None
    if len(address) > 254:
        problem = "is longer than an e-mail address may be (254 characters)"
    elif not at or not local or not domain:
        problem = "is not an e-mail address (local@domain)"
    elif len(local) > 64 or not _LOCAL.fullmatch(local):
        problem = "has a part before the @ that is not a plain mailbox name"
    elif len(domain) > 253 or not all(  # pragma: no mutate
        _LABEL.fullmatch(label) for label in domain.split(".")
    ):
        problem = "has a domain that is not a host name"
    if problem is not None:
        raise InputError(field, f"'{shown}' {problem}")
    return address


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 without brackets) is this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class WebhookUrl:
    """A webhook's URL as checked, with the host and port a connection goes to."""

    url: str
    host: str
    port: int


def webhook_url(text: str, field: str = "webhook") -> WebhookUrl:
    """An ``https://`` URL (or ``http://`` to loopback), without credentials or fragment;
    ``InputError`` naming ``field`` otherwise. Nothing is fetched."""
    url = text.strip()
    if not url:
        raise InputError(field, "give the receiver's URL, such as https://hooks.example.gov/in")
    shown = url[:80].encode("unicode_escape").decode("ascii")  # pragma: no mutate
    if len(url) > 80:
        shown += "…"
    if len(url) > MAX_ADDRESS:
        raise InputError(field, f"'{shown}' is longer than {MAX_ADDRESS} characters")
    if not url.isascii() or any(
        c.isspace() or ord(c) < 32 or ord(c) == 127  # pragma: no mutate
        for c in url
    ):
        raise InputError(field, f"'{shown}' holds spaces, control or non-ASCII characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise InputError(field, f"'{shown}' is not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise InputError(field, f"'{shown}' is not an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InputError(field, "may not carry a user name or password (it is kept in the record)")
    if parts.fragment or url.endswith("#"):
        raise InputError(field, f"'{shown}' has a fragment (#…), which is never sent")
    if scheme == "http" and not is_loopback(host):
        raise InputError(
            field, f"'{shown}' is plain HTTP: use https:// (http:// is taken only to this machine)"
        )
    return WebhookUrl(url, host, port or (443 if scheme == "https" else 80))


def backoff(attempt: int, *, first: float, longest: float, draw: float) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after ``attempt`` failed ones: ``first``
    doubled for each failure after the first, at most ``longest``, times a jitter between a
    half and the whole (``draw`` from 0 to 1), so senders that failed together spread out."""
    doubling = min(max(attempt - 1, 0), 40)
    wait = min(first * float(2**doubling), longest)
    return wait * (0.5 + 0.5 * min(max(draw, 0.0), 1.0))


@dataclass(frozen=True, slots=True)
class Message:
    """What one notification says: the kind, about what, and where to look. Nothing else."""

    kind: Kind
    about: str
    link: str
    delivery: str
    case_number: int | None = None

    @property
    def subject(self) -> str:
        return f"clearance: {self.about}: {self.kind.words}"

    @property
    def text(self) -> str:
        """The body of an e-mail."""
        return (
            f"{self.about[:1].upper()}{self.about[1:]}: {self.kind.words}.\n\n"
            f"{self.link}\n\n"
            "Sign in to see what your clearance allows. This message carries nothing else.\n"
            f"Delivery {self.delivery}\n"
        )

    def data(self) -> dict[str, str | int | None]:
        """The ``data`` of a webhook's body."""
        return {
            "delivery": self.delivery,
            "kind": self.kind.value,
            "about": self.about,
            "case_number": self.case_number,
            "link": self.link,
        }
