"""Settings: every one a ``CLEARANCE_``-prefixed environment variable, validated at start.

| variable                 | default                                | meaning |
|--------------------------|----------------------------------------|---------|
| CLEARANCE_DATA_DIR       | the per-user data folder (platformdirs) | where the SQLite file and private key files live |
| CLEARANCE_DATABASE_URL   | ``sqlite:///<data dir>/clearance.db``   | SQLAlchemy URL; ``postgresql+psycopg://…`` for PostgreSQL |
| CLEARANCE_SCENARIO       | the bundled seed pack                  | scenario pack folder used by case commands |
| CLEARANCE_SLA_DAYS       | 14                                     | days a gate may wait before a case is overdue, unless its bundle says otherwise |
| CLEARANCE_MAX_BODY_BYTES | 1000000                                | the largest request body the server reads |
| CLEARANCE_MAX_PROPOSAL_BYTES | 10000000                           | the largest body of a policy proposal upload (its routes only) |
| CLEARANCE_OIDC_JWKS      | (none: OIDC off)                       | URL or file of the identity provider's JSON Web Key Set |
| CLEARANCE_OIDC_ISSUER    | (none)                                 | the ``iss`` a bearer token must carry |
| CLEARANCE_OIDC_AUDIENCE  | (none)                                 | the ``aud`` a bearer token must carry |
| CLEARANCE_OIDC_USER_CLAIM | preferred_username                    | the claim that names the clearance user |

docs/configuration.md holds the same table; a test keeps the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from clearance.core.dates import MAX_SLA_DAYS
from clearance.errors import InputError

__all__ = ["SETTINGS", "BodyLimits", "Oidc", "Settings", "load_settings"]

SETTINGS = (
    "CLEARANCE_DATA_DIR",
    "CLEARANCE_DATABASE_URL",
    "CLEARANCE_SCENARIO",
    "CLEARANCE_SLA_DAYS",
    "CLEARANCE_MAX_BODY_BYTES",
    "CLEARANCE_MAX_PROPOSAL_BYTES",
    "CLEARANCE_OIDC_JWKS",
    "CLEARANCE_OIDC_ISSUER",
    "CLEARANCE_OIDC_AUDIENCE",
    "CLEARANCE_OIDC_USER_CLAIM",
)


@dataclass(frozen=True, slots=True)
class Oidc:
    """Bearer tokens from an OpenID Connect provider (optional)."""

    jwks: str
    issuer: str
    audience: str
    user_claim: str


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The largest request body the server reads, in bytes: any route, and a proposal upload.

    A policy proposal carries a bundle's files (up to 100 of up to 1,000,000
    bytes each), so its routes have a limit of their own; every other body is
    a request, an answer or a batch of requests.
    """

    body: int = 1_000_000
    proposal: int = 10_000_000


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    scenario: Path | None
    sla_days: int
    oidc: Oidc | None = None
    limits: BodyLimits = BodyLimits()


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
    limits = BodyLimits(
        _whole(env, "CLEARANCE_MAX_BODY_BYTES", _DEFAULT_LIMITS.body, 1_000, _MAX_BYTES, "bytes"),
        _whole(
            env,
            "CLEARANCE_MAX_PROPOSAL_BYTES",
            _DEFAULT_LIMITS.proposal,
            1_000,
            _MAX_BYTES,
            "bytes",
        ),
    )
    jwks = env.get("CLEARANCE_OIDC_JWKS")
    oidc = None
    if jwks:
        # Without both, any token the provider signs for any application would do.
        for name in ("CLEARANCE_OIDC_ISSUER", "CLEARANCE_OIDC_AUDIENCE"):
            if not env.get(name):
                raise InputError(name, "must be set when CLEARANCE_OIDC_JWKS is")
        oidc = Oidc(
            jwks=jwks,
            issuer=env["CLEARANCE_OIDC_ISSUER"],
            audience=env["CLEARANCE_OIDC_AUDIENCE"],
            user_claim=env.get("CLEARANCE_OIDC_USER_CLAIM") or "preferred_username",
        )
    elif any(env.get(k) for k in SETTINGS if k.startswith("CLEARANCE_OIDC_")):
        raise InputError("CLEARANCE_OIDC_JWKS", "must be set when any other OIDC setting is")
    return Settings(data_dir, url, Path(scenario) if scenario else None, sla_days, oidc, limits)


_DEFAULT_LIMITS = BodyLimits()
_MAX_BYTES = 1_000_000_000
"""No body limit above a gigabyte: a server that reads that much per request has no limit."""


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str) -> int:
    """A whole-number setting within [low, high], or an error naming the variable."""
    raw = env.get(name) or str(default)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not low <= int(raw) <= high:
        raise InputError(
            name, f"must be a whole number of {unit} from {low:,} to {high:,}, not '{raw}'"
        )
    return int(raw)
