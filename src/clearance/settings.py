"""Settings: every one a ``CLEARANCE_``-prefixed environment variable, validated at start.

| variable                 | default                                | meaning |
|--------------------------|----------------------------------------|---------|
| CLEARANCE_DATA_DIR       | the per-user data folder (platformdirs) | where the SQLite file and private key files live |
| CLEARANCE_DATABASE_URL   | ``sqlite:///<data dir>/clearance.db``   | SQLAlchemy URL; ``postgresql+psycopg://…`` for PostgreSQL |
| CLEARANCE_SCENARIO       | the bundled seed pack                  | scenario pack folder used by case commands |
| CLEARANCE_SLA_DAYS       | 14                                     | days a gate may wait before a case is overdue, unless its bundle says otherwise |
| CLEARANCE_SYSTEM_KEY     | ``<data dir>/keys/system.key``          | the installation's system key, which seals the ledger and signs its checkpoints |
| CLEARANCE_CHECKPOINT_MINUTES | 60                                 | how often ``clearance serve`` signs a checkpoint of the ledger (0: never by the clock) |
| CLEARANCE_TOKEN_DAYS     | 90                                     | the longest an API token lives, and how long it lives unless a shorter life is asked for |
| CLEARANCE_TRUSTED_PROXY_HEADER | (none: the peer address)         | the header whose last entry is a client's address, set by the one proxy in front |
| CLEARANCE_SQLITE_SYNCHRONOUS | FULL                               | SQLite's ``synchronous``: FULL (a commit is on disk when acknowledged) or NORMAL |
| CLEARANCE_MAX_BODY_BYTES | 1000000                                | the largest request body the server reads |
| CLEARANCE_MAX_PROPOSAL_BYTES | 10000000                           | the largest body of a policy proposal upload (its routes only) |
| CLEARANCE_OIDC_JWKS      | (none: OIDC off)                       | URL or file of the identity provider's JSON Web Key Set |
| CLEARANCE_OIDC_ISSUER    | (none)                                 | the ``iss`` a bearer token must carry |
| CLEARANCE_OIDC_AUDIENCE  | (none)                                 | the ``aud`` a bearer token must carry |
| CLEARANCE_OIDC_USER_CLAIM | preferred_username                    | the claim that names the clearance user |
| CLEARANCE_OIDC_LEEWAY_SECONDS | 30                                | how far the provider's clock may be from ours |
| CLEARANCE_OIDC_JWKS_TIMEOUT_SECONDS | 5                           | how long one fetch of the key set may wait for the provider |
| CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS | 300                         | how long a fetched key set is used before it is fetched again |
| CLEARANCE_OIDC_JWKS_REFETCH_SECONDS | 30                          | the shortest time between two fetches of the key set |
| CLEARANCE_PUBLIC_URL     | http://127.0.0.1:8000                  | the server's address as people reach it: the base of every link a notification gives |
| CLEARANCE_SMTP_HOST      | (none: e-mail is not sent)             | the mail server notifications are sent through |
| CLEARANCE_SMTP_PORT      | 25                                     | its port |
| CLEARANCE_SMTP_FROM      | clearance@localhost                    | the sender of notification e-mails |
| CLEARANCE_SMTP_USER      | (none)                                 | the user name to log in to the mail server with (with CLEARANCE_SMTP_PASSWORD) |
| CLEARANCE_SMTP_PASSWORD  | (none)                                 | its password |
| CLEARANCE_SMTP_STARTTLS  | false                                  | whether to upgrade the connection with STARTTLS before sending |
| CLEARANCE_NOTIFY_MAX_ATTEMPTS | 8                                 | attempts at one notification before it is dead-lettered |
| CLEARANCE_NOTIFY_BACKOFF_SECONDS | 30                             | the wait after a first failed attempt, doubled after each further one |
| CLEARANCE_NOTIFY_BACKOFF_MAX_SECONDS | 3600                       | the longest wait between attempts |
| CLEARANCE_NOTIFY_TIMEOUT_SECONDS | 10                             | how long one delivery may wait for the receiver or mail server |
| CLEARANCE_NOTIFY_LEASE_SECONDS | 120                              | how long a dispatcher holds the notifications it took before others may take them |
| CLEARANCE_NOTIFY_POLL_SECONDS | 5                                 | how often a dispatcher looks for due notifications (0: ``serve`` runs none) |

docs/configuration.md holds the same table; a test keeps the two in step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from clearance.core.dates import MAX_SLA_DAYS
from clearance.core.notices import email_address, is_loopback
from clearance.errors import InputError

__all__ = [
    "SETTINGS",
    "SQLITE_SYNCHRONOUS",
    "BodyLimits",
    "Notify",
    "Oidc",
    "Settings",
    "Smtp",
    "load_settings",
]

SETTINGS = (
    "CLEARANCE_DATA_DIR",
    "CLEARANCE_DATABASE_URL",
    "CLEARANCE_SCENARIO",
    "CLEARANCE_SLA_DAYS",
    "CLEARANCE_SYSTEM_KEY",
    "CLEARANCE_CHECKPOINT_MINUTES",
    "CLEARANCE_TOKEN_DAYS",
    "CLEARANCE_TRUSTED_PROXY_HEADER",
    "CLEARANCE_SQLITE_SYNCHRONOUS",
    "CLEARANCE_MAX_BODY_BYTES",
    "CLEARANCE_MAX_PROPOSAL_BYTES",
    "CLEARANCE_OIDC_JWKS",
    "CLEARANCE_OIDC_ISSUER",
    "CLEARANCE_OIDC_AUDIENCE",
    "CLEARANCE_OIDC_USER_CLAIM",
    "CLEARANCE_OIDC_LEEWAY_SECONDS",
    "CLEARANCE_OIDC_JWKS_TIMEOUT_SECONDS",
    "CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS",
    "CLEARANCE_OIDC_JWKS_REFETCH_SECONDS",
    "CLEARANCE_PUBLIC_URL",
    "CLEARANCE_SMTP_HOST",
    "CLEARANCE_SMTP_PORT",
    "CLEARANCE_SMTP_FROM",
    "CLEARANCE_SMTP_USER",
    "CLEARANCE_SMTP_PASSWORD",
    "CLEARANCE_SMTP_STARTTLS",
    "CLEARANCE_NOTIFY_MAX_ATTEMPTS",
    "CLEARANCE_NOTIFY_BACKOFF_SECONDS",
    "CLEARANCE_NOTIFY_BACKOFF_MAX_SECONDS",
    "CLEARANCE_NOTIFY_TIMEOUT_SECONDS",
    "CLEARANCE_NOTIFY_LEASE_SECONDS",
    "CLEARANCE_NOTIFY_POLL_SECONDS",
)

_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")  # an HTTP field name (RFC 9110)

SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")
"""The values of ``CLEARANCE_SQLITE_SYNCHRONOUS``, the safe one first (see docs/operations.md)."""


@dataclass(frozen=True, slots=True)
class Oidc:
    """Bearer tokens from an OpenID Connect provider (optional)."""

    jwks: str
    issuer: str
    audience: str
    user_claim: str
    leeway_s: int = 30
    jwks_timeout_s: int = 5
    jwks_max_age_s: int = 300
    jwks_refetch_s: int = 30


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The largest request body the server reads, in bytes: any route, and a proposal upload.

    A policy proposal carries a bundle's files (up to 100 of up to 1,000,000
    bytes each), so its routes have a limit of their own; every other body is
    a request, an answer or a batch of requests.
    """

    body: int = 1_000_000
    proposal: int = 10_000_000


_PUBLIC_URL = "http://127.0.0.1:8000"
_SENDER = "clearance@localhost"


@dataclass(frozen=True, slots=True)
class Smtp:
    """The mail server notifications are sent through."""

    host: str
    port: int = 25
    sender: str = _SENDER
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False


@dataclass(frozen=True, slots=True)
class Notify:
    """Notifications: where links point, the mail server, and how a dispatcher delivers."""

    public_url: str = _PUBLIC_URL
    smtp: Smtp | None = None
    max_attempts: int = 8
    backoff_s: int = 30
    backoff_max_s: int = 3600
    timeout_s: int = 10
    lease_s: int = 120
    poll_s: int = 5


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    scenario: Path | None
    sla_days: int
    oidc: Oidc | None = None
    system_key: Path = Path("system.key")
    checkpoint_minutes: int = 60
    token_days: int = 90
    trusted_proxy_header: str | None = None
    sqlite_synchronous: str = "FULL"
    limits: BodyLimits = BodyLimits()
    notify: Notify = Notify()


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str) -> int:
    """A whole number setting between ``low`` and ``high``. An empty value is refused,
    except for the OIDC settings, where empty means unset (as for all of them)."""
    raw = env.get(name, "")
    if not raw and (name not in env or name.startswith("CLEARANCE_OIDC_")):
        raw = str(default)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not low <= int(raw) <= high:
        raise InputError(
            name, f"must be a whole number of {unit} from {low} to {high}, not '{raw}'"
        )
    return int(raw)


def _oidc(env: Mapping[str, str]) -> Oidc | None:
    jwks = env.get("CLEARANCE_OIDC_JWKS")
    if not jwks:
        named = [k for k in SETTINGS if k.startswith("CLEARANCE_OIDC_") and env.get(k)]
        if named:
            raise InputError("CLEARANCE_OIDC_JWKS", "must be set when any other OIDC setting is")
        return None
    # Without both, any token the provider signs for any application would do.
    for name in ("CLEARANCE_OIDC_ISSUER", "CLEARANCE_OIDC_AUDIENCE"):
        if not env.get(name):
            raise InputError(name, "must be set when CLEARANCE_OIDC_JWKS is")
    max_age = _whole(env, "CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS", 300, 1, 86_400, "seconds")
    refetch = _whole(env, "CLEARANCE_OIDC_JWKS_REFETCH_SECONDS", 30, 1, 3_600, "seconds")
    if refetch > max_age:
        raise InputError(
            "CLEARANCE_OIDC_JWKS_REFETCH_SECONDS",
            f"must be at most CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS ({max_age}), not '{refetch}'",
        )
    return Oidc(
        jwks=jwks,
        issuer=env["CLEARANCE_OIDC_ISSUER"],
        audience=env["CLEARANCE_OIDC_AUDIENCE"],
        user_claim=env.get("CLEARANCE_OIDC_USER_CLAIM") or "preferred_username",
        leeway_s=_whole(env, "CLEARANCE_OIDC_LEEWAY_SECONDS", 30, 0, 300, "seconds"),
        jwks_timeout_s=_whole(env, "CLEARANCE_OIDC_JWKS_TIMEOUT_SECONDS", 5, 1, 60, "seconds"),
        jwks_max_age_s=max_age,
        jwks_refetch_s=refetch,
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings; a bad value names its variable."""
    env = os.environ if environ is None else environ
    unknown = sorted(k for k in env if k.startswith("CLEARANCE_") and k not in SETTINGS)
    unknown = [k for k in unknown if k not in ("CLEARANCE_PASSPHRASE", "CLEARANCE_NEW_PASSWORD")]
    if unknown:
        raise InputError(unknown[0], f"is not a setting (known: {', '.join(SETTINGS)})")
    data_dir = Path(env.get("CLEARANCE_DATA_DIR") or platformdirs.user_data_dir("clearance"))
    url = env.get("CLEARANCE_DATABASE_URL") or f"sqlite:///{data_dir / 'clearance.db'}"
    if not url.startswith(("sqlite:", "postgresql")):
        raise InputError(
            "CLEARANCE_DATABASE_URL", "must be a sqlite:/// or postgresql+psycopg:// URL"
        )
    scenario = env.get("CLEARANCE_SCENARIO")
    sla_days = _whole(env, "CLEARANCE_SLA_DAYS", 14, 1, MAX_SLA_DAYS, "days")
    defaults = BodyLimits()
    limits = BodyLimits(
        _whole(env, "CLEARANCE_MAX_BODY_BYTES", defaults.body, 1_000, _MAX_BYTES, "bytes"),
        _whole(env, "CLEARANCE_MAX_PROPOSAL_BYTES", defaults.proposal, 1_000, _MAX_BYTES, "bytes"),
    )
    proxy_header = env.get("CLEARANCE_TRUSTED_PROXY_HEADER") or None
    if proxy_header is not None and not _HEADER_NAME.fullmatch(proxy_header):
        raise InputError(
            "CLEARANCE_TRUSTED_PROXY_HEADER",
            f"must be an HTTP header name such as X-Forwarded-For, not '{proxy_header}'",
        )
    synchronous = (env.get("CLEARANCE_SQLITE_SYNCHRONOUS") or "FULL").strip().upper()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise InputError(
            "CLEARANCE_SQLITE_SYNCHRONOUS",
            f"must be {' or '.join(SQLITE_SYNCHRONOUS)}, not '{env['CLEARANCE_SQLITE_SYNCHRONOUS']}'",
        )
    return Settings(
        data_dir,
        url,
        Path(scenario) if scenario else None,
        sla_days,
        oidc=_oidc(env),
        system_key=Path(env.get("CLEARANCE_SYSTEM_KEY") or data_dir / "keys" / "system.key"),
        checkpoint_minutes=_whole(env, "CLEARANCE_CHECKPOINT_MINUTES", 60, 0, 10_080, "minutes"),
        token_days=_whole(env, "CLEARANCE_TOKEN_DAYS", 90, 1, 3_650, "days"),
        trusted_proxy_header=proxy_header,
        sqlite_synchronous=synchronous,
        limits=limits,
        notify=_notify(env),
    )


def _public_url(env: Mapping[str, str]) -> str:
    name = "CLEARANCE_PUBLIC_URL"
    raw = env.get(name) or _PUBLIC_URL
    try:
        parts = urlsplit(raw)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        ok = False
    if not ok or parts.query or parts.fragment or parts.username or not raw.isascii():
        raise InputError(name, f"must be the server's http(s):// address, not '{raw}'")
    return raw.rstrip("/")


def _smtp(env: Mapping[str, str]) -> Smtp | None:
    host = env.get("CLEARANCE_SMTP_HOST", "").strip()
    named = [k for k in SETTINGS if k.startswith("CLEARANCE_SMTP_") and env.get(k)]
    if not host:
        if named:
            raise InputError("CLEARANCE_SMTP_HOST", "must be set when any other SMTP setting is")
        return None
    if not _HOST.fullmatch(host):
        raise InputError("CLEARANCE_SMTP_HOST", f"must be a host name or address, not '{host}'")
    user = env.get("CLEARANCE_SMTP_USER") or None
    password = env.get("CLEARANCE_SMTP_PASSWORD") or None
    if (user is None) != (password is None):
        missing = "CLEARANCE_SMTP_PASSWORD" if password is None else "CLEARANCE_SMTP_USER"
        raise InputError(missing, "must be set with the other of the SMTP user and password")
    starttls_raw = (env.get("CLEARANCE_SMTP_STARTTLS") or "false").strip().lower()
    if starttls_raw not in ("true", "false"):
        raise InputError("CLEARANCE_SMTP_STARTTLS", f"must be true or false, not '{starttls_raw}'")
    starttls = starttls_raw == "true"
    if user is not None and not starttls and not is_loopback(host):
        raise InputError(
            "CLEARANCE_SMTP_STARTTLS",
            "must be true when a password is sent to a mail server on another machine",
        )
    sender = email_address(env.get("CLEARANCE_SMTP_FROM") or _SENDER, "CLEARANCE_SMTP_FROM")
    port = _whole(env, "CLEARANCE_SMTP_PORT", 25, 1, 65_535, "port")
    return Smtp(host, port, sender, user, password, starttls)


def _notify(env: Mapping[str, str]) -> Notify:
    backoff = _whole(env, "CLEARANCE_NOTIFY_BACKOFF_SECONDS", 30, 1, 86_400, "seconds")
    longest = _whole(env, "CLEARANCE_NOTIFY_BACKOFF_MAX_SECONDS", 3600, 1, 604_800, "seconds")
    if longest < backoff:
        raise InputError(
            "CLEARANCE_NOTIFY_BACKOFF_MAX_SECONDS",
            f"must be at least CLEARANCE_NOTIFY_BACKOFF_SECONDS ({backoff}), not '{longest}'",
        )
    timeout = _whole(env, "CLEARANCE_NOTIFY_TIMEOUT_SECONDS", 10, 1, 120, "seconds")
    lease = _whole(env, "CLEARANCE_NOTIFY_LEASE_SECONDS", 120, 2, 86_400, "seconds")
    if lease < 2 * timeout:
        raise InputError(
            "CLEARANCE_NOTIFY_LEASE_SECONDS",
            f"must be at least twice CLEARANCE_NOTIFY_TIMEOUT_SECONDS ({2 * timeout}),"
            f" not '{lease}'",
        )
    return Notify(
        public_url=_public_url(env),
        smtp=_smtp(env),
        max_attempts=_whole(env, "CLEARANCE_NOTIFY_MAX_ATTEMPTS", 8, 1, 100, "attempts"),
        backoff_s=backoff,
        backoff_max_s=longest,
        timeout_s=timeout,
        lease_s=lease,
        poll_s=_whole(env, "CLEARANCE_NOTIFY_POLL_SECONDS", 5, 0, 3_600, "seconds"),
    )


_HOST = re.compile(r"[A-Za-z0-9.:-]{1,253}")
"""A mail server's host: a name, an IPv4 or an IPv6 address."""

_MAX_BYTES = 1_000_000_000
"""No body limit above a gigabyte: a server that reads that much per request has no limit."""
