"""Settings: every one a ``CLEARANCE_``-prefixed environment variable, validated at start.

| variable                 | default                                | meaning |
|--------------------------|----------------------------------------|---------|
| CLEARANCE_DATA_DIR       | the per-user data folder (platformdirs) | where the SQLite file and private key files live |
| CLEARANCE_DATABASE_URL   | ``sqlite:///<data dir>/clearance.db``   | SQLAlchemy URL; ``postgresql+psycopg://…`` for PostgreSQL |
| CLEARANCE_SCENARIO       | the bundled seed pack                  | scenario pack folder used by case commands |
| CLEARANCE_SLA_DAYS       | 14                                     | days a gate may wait before a case is overdue, unless its bundle says otherwise |
| CLEARANCE_SQLITE_SYNCHRONOUS | FULL                               | SQLite's ``synchronous``: FULL (a commit is on disk when acknowledged) or NORMAL |
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

from clearance.errors import InputError

__all__ = ["SETTINGS", "SQLITE_SYNCHRONOUS", "Oidc", "Settings", "load_settings"]

SETTINGS = (
    "CLEARANCE_DATA_DIR",
    "CLEARANCE_DATABASE_URL",
    "CLEARANCE_SCENARIO",
    "CLEARANCE_SLA_DAYS",
    "CLEARANCE_SQLITE_SYNCHRONOUS",
    "CLEARANCE_OIDC_JWKS",
    "CLEARANCE_OIDC_ISSUER",
    "CLEARANCE_OIDC_AUDIENCE",
    "CLEARANCE_OIDC_USER_CLAIM",
)

SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")
"""The values of ``CLEARANCE_SQLITE_SYNCHRONOUS``, the safe one first (see docs/operations.md)."""


@dataclass(frozen=True, slots=True)
class Oidc:
    """Bearer tokens from an OpenID Connect provider (optional)."""

    jwks: str
    issuer: str
    audience: str
    user_claim: str


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    scenario: Path | None
    sla_days: int
    oidc: Oidc | None = None
    sqlite_synchronous: str = "FULL"


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
    raw_sla = env.get("CLEARANCE_SLA_DAYS", "14")
    if not raw_sla.isdigit() or int(raw_sla) < 1:
        raise InputError(
            "CLEARANCE_SLA_DAYS", f"must be a whole number of days ≥ 1, not '{raw_sla}'"
        )
    synchronous = (env.get("CLEARANCE_SQLITE_SYNCHRONOUS") or "FULL").strip().upper()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise InputError(
            "CLEARANCE_SQLITE_SYNCHRONOUS",
            f"must be {' or '.join(SQLITE_SYNCHRONOUS)}, not '{env['CLEARANCE_SQLITE_SYNCHRONOUS']}'",
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
    return Settings(
        data_dir,
        url,
        Path(scenario) if scenario else None,
        int(raw_sla),
        oidc,
        sqlite_synchronous=synchronous,
    )
