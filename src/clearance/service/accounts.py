"""Signing in: passwords (argon2id), browser sessions, API tokens, throttling.

Secrets are never stored: a password as its argon2id hash, a session or API
token as its HMAC-SHA256 under a secret only the installation's system key
gives (tokens are long random strings, so a fast hash is enough and lets a
token be looked up by its hash; keyed, so that someone who can write the
database but does not hold the key cannot write in a session or token that
works, and act as anyone). A revoked or expired token or an ended session
stops working at once, on every instance, because every request looks it up
in the database.

Every sign-in that gets as far as the password costs one argon2 verification,
whether the user exists, has a password or not, so the time taken does not
tell which user names exist. Failed sign-ins are counted per user name and
client address: a few are free, then each one doubles the wait before the
next try from that address, so a stranger's guesses from one address cannot
keep the user out from another.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import math
import secrets
import uuid
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clearance.core.access import Level, Role
from clearance.core.digest import sha256_hex
from clearance.core.events import ApiTokenIssued, ApiTokenRevoked, UserAccessChanged
from clearance.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    StoreError,
    Throttled,
)
from clearance.service.access import Action, check, may, principal, today
from clearance.store.protocol import Transaction
from clearance.store.records import ApiTokenRecord, SessionRecord, UserRecord
from clearance.store.repository import Store

__all__ = ["Accounts", "SignedIn", "token_hash", "token_row", "token_secret"]

_HASHER = PasswordHasher()  # argon2id with the library's current parameters
_WRONG = "wrong user name or password"
_THROTTLED = "too many failed sign-ins for this user name from this address; wait and try again"
MIN_PASSWORD = 12
NAME_KEPT = 64
"""Failures are kept under the first characters of the name typed (no user id is longer)."""


_TOKEN_SECRET = b"clearance.token-secret/1"
"""What the system key signs to give the secret tokens are kept under. Ed25519 signatures
are deterministic, so every process with the key derives the same secret, and no one
without it can."""


def token_secret(store: Store) -> bytes:
    """The secret sessions and API tokens are kept under, from the system key."""
    if store.sealer is None:
        raise StoreError("there is no system key to keep sign-ins with; run 'clearance init'")
    return hashlib.sha256(store.sealer.sign(_TOKEN_SECRET).encode("ascii")).digest()


def token_hash(secret: bytes, token: str) -> str:
    """How a session or API token is kept and looked up: its HMAC under ``secret``."""
    return "hmac-sha256:" + hmac.new(secret, token.encode("utf-8"), hashlib.sha256).hexdigest()


@functools.cache
def _stand_in_hash() -> str:
    """The hash of a random password, with the parameters real hashes have: what an
    unknown user name, or a user with no password, is checked against."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def _password_ok(stored: str | None, password: str) -> bool:
    """One argon2 verification, always: against the stand-in when there is no hash."""
    try:
        _HASHER.verify(stored or _stand_in_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


class SignedIn:
    """A user signed in by session, token or bearer: what every request acts as.

    ``credential_expires`` is when the bearer credential of the request (an API
    token or an OIDC token) stops working: a token issued with it may not
    outlive it. A session has none: a person signed in may issue tokens for
    the server's full token lifetime.
    """

    def __init__(
        self,
        user: UserRecord,
        *,
        csrf_token: str | None = None,
        credential_expires: dt.datetime | None = None,
    ) -> None:
        self.user = user
        self.csrf_token = csrf_token
        self.credential_expires = credential_expires

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def clearance(self) -> Level:
        return Level(self.user.clearance)

    def has(self, role: Role) -> bool:
        return role.value in self.user.roles or Role.ADMIN.value in self.user.roles


def token_row(record: ApiTokenRecord, now: dt.datetime) -> dict[str, Any]:
    """An API token as its listings show it: never the token itself, nor its hash."""
    return {
        "id": record.id,
        "user": record.user_id,
        "name": record.name,
        "created_at": record.created_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
        "state": record.state(now),
    }


class Accounts:
    """Sign-in use cases over one store.

    Throttling: ``free_failures`` failed sign-ins for one user name from one
    client address cost nothing; after that, each failure makes the next try
    from that address wait ``first_wait``, doubled for every further failure,
    at most ``longest_wait``. Failures are forgotten after ``failure_memory``,
    and those from an address are forgotten when a sign-in from it succeeds.
    """

    def __init__(
        self,
        store: Store,
        *,
        session_hours: int = 12,
        token_days: int = 90,
        free_failures: int = 5,
        first_wait: dt.timedelta = dt.timedelta(seconds=30),
        longest_wait: dt.timedelta = dt.timedelta(minutes=15),
        failure_memory: dt.timedelta = dt.timedelta(days=1),
    ) -> None:
        self.store = store
        self.session_hours = session_hours
        self.token_days = token_days
        self.free_failures = free_failures
        self.first_wait = first_wait
        self.longest_wait = longest_wait
        self.failure_memory = failure_memory
        self._secret: bytes | None = None

    def _token_hash(self, token: str) -> str:
        if self._secret is None:  # once: a signature costs more than the lookup itself
            self._secret = token_secret(self.store)
        return token_hash(self._secret, token)

    # passwords and access --------------------------------------------------------

    def set_password(self, user_id: str, password: str, *, actor: str, now: dt.datetime) -> None:
        """A new password; every session of the user ends and every API token is revoked,
        so whoever had the old password (or what it let them make) is out at once."""
        if len(password) < MIN_PASSWORD:
            raise InputError("password", f"needs at least {MIN_PASSWORD} characters")
        hashed = _HASHER.hash(password)
        with self.store.transaction() as tx:
            self._user(tx, user_id)
            tx.people.update_user(user_id, password_hash=hashed)
            tx.append(
                # The digest of the stored hash binds the row to the ledger; it reveals nothing
                # of the password (argon2id hashes are salted and slow to test guesses against).
                UserAccessChanged(
                    user_id, password="set", password_digest=sha256_hex(hashed.encode())
                ),
                actor=actor,
                at=now,
            )
            tx.people.end_sessions(user_id)
            for record in tx.people.tokens(user_id):
                if record.revoked_at is None:
                    self._revoke(tx, record, reason="password_set", actor=actor, now=now)

    def set_access(
        self,
        user_id: str,
        *,
        roles: tuple[Role, ...],
        clearance: Level,
        actor: str,
        now: dt.datetime,
    ) -> None:
        with self.store.transaction() as tx:
            self._user(tx, user_id)
            tx.people.update_user(
                user_id, roles=tuple(r.value for r in roles), clearance=int(clearance)
            )
            tx.append(
                UserAccessChanged(
                    user_id, roles=tuple(r.value for r in roles), clearance=clearance.label
                ),
                actor=actor,
                at=now,
            )

    @staticmethod
    def _user(tx: Transaction, user_id: str) -> UserRecord:
        user = tx.people.user(user_id)
        if user is None:
            raise NotFoundError(f"unknown user '{user_id}'")
        return user

    # sessions ---------------------------------------------------------------------

    def sign_in(
        self, user_id: str, password: str, *, client: str, now: dt.datetime
    ) -> tuple[str, SignedIn]:
        """A new session for the right password; refused alike for any wrong pair, and
        refused for a while after repeated failures for this user name from ``client``
        (the client's address)."""
        name, client = user_id[:NAME_KEPT], client[:NAME_KEPT]
        with self.store.transaction() as tx:
            tx.people.purge_sign_in(failures_before=now - self.failure_memory, now=now)
            wait = self._wait(
                *tx.people.sign_in_failures(name, client, now - self.failure_memory), now
            )
            if wait:
                raise Throttled(_THROTTLED, retry_after=wait)
            user = tx.people.user(user_id)
            # Counted as failed until the password proves right, so that tries sent at
            # once from one address cannot all slip in before the wait.
            tx.people.add_sign_in_failure(name, client, now)
        # The slow check runs outside any transaction, so it holds no lock while it works;
        # and it runs whoever the name is, so every wrong pair takes the same time.
        right = _password_ok(None if user is None else user.password_hash, password)
        if user is None or not right:
            raise AuthenticationError(_WRONG)
        token = secrets.token_urlsafe(32)
        record = SessionRecord(
            token_hash=self._token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + dt.timedelta(hours=self.session_hours),
        )
        with self.store.transaction() as tx:
            tx.people.clear_sign_in_failures(name, client)
            tx.people.add_session(record)
        return token, SignedIn(user, csrf_token=record.csrf_token)

    def _wait(self, failures: int, last: dt.datetime | None, now: dt.datetime) -> int:
        """Whole seconds still to wait after ``failures`` failures, the last at ``last``."""
        if last is None or failures < self.free_failures:
            return 0
        doubling = min(failures - self.free_failures, 32)
        wait = min(self.first_wait * (1 << doubling), self.longest_wait)
        return max(0, math.ceil((last + wait - now).total_seconds()))

    def from_session(self, token: str, *, now: dt.datetime) -> SignedIn | None:
        found = self.store.user_by_session(self._token_hash(token))
        if found is None:
            return None
        user, record = found
        if record.expires_at <= now:
            self.sign_out(token)
            return None
        return SignedIn(user, csrf_token=record.csrf_token)

    def sign_out(self, token: str) -> None:
        with self.store.transaction() as tx:
            tx.people.end_session(self._token_hash(token))

    # API tokens -------------------------------------------------------------------

    def issue_token(
        self,
        user_id: str,
        name: str,
        *,
        actor: str,
        now: dt.datetime,
        days: int | None = None,
        not_after: dt.datetime | None = None,
    ) -> tuple[str, ApiTokenRecord]:
        """A new token for a machine acting as ``user_id``; shown once, stored hashed.

        It lives ``days`` (at most, and by default, the server's token lifetime),
        and never past ``not_after``: the end of the credential it was issued with.
        """
        if not name.strip():
            raise InputError("name", "say what the token is for")
        if days is not None and not 1 <= days <= self.token_days:
            raise InputError(
                "days", f"must be from 1 to {self.token_days} (the longest a token lives here)"
            )
        expires = now + dt.timedelta(days=self.token_days if days is None else days)
        if not_after is not None:
            expires = min(expires, not_after)
        token = "clr_" + secrets.token_urlsafe(32)
        record = ApiTokenRecord(
            str(uuid.uuid4()), self._token_hash(token), user_id, name, now, expires, None
        )
        with self.store.transaction() as tx:
            self._user(tx, user_id)
            tx.people.add_token(record)
            tx.append(
                ApiTokenIssued(
                    record.id, user_id, name, token_hash=record.token_hash, expires_at=expires
                ),
                actor=actor,
                at=now,
            )
        return token, record

    def revoke_token(self, token_id: str, *, actor: str, now: dt.datetime) -> None:
        """Revoke a token of ``actor``'s (an admin, or the local operator, may revoke any);
        anyone else's is not found, in the words of a token that does not exist."""
        with self.store.transaction() as tx:
            record = tx.people.token(token_id)
            if record is None or not may(
                principal(tx, actor, now.date()), Action.TOKENS_MANAGE, record.user_id
            ):
                raise NotFoundError(f"no API token '{token_id}'")
            if record.revoked_at is None:
                self._revoke(tx, record, reason="requested", actor=actor, now=now)

    @staticmethod
    def _revoke(
        tx: Transaction, record: ApiTokenRecord, *, reason: str, actor: str, now: dt.datetime
    ) -> None:
        tx.people.revoke_token(record.id, now)
        tx.append(ApiTokenRevoked(record.id, record.user_id, reason=reason), actor=actor, at=now)

    def tokens(self, user_id: str, *, actor: str) -> list[ApiTokenRecord]:
        """A user's API tokens, newest first, revoked and expired ones too: ``actor``'s own,
        or, for an admin or the local operator, anyone's."""
        with self.store.reading() as tx:
            check(principal(tx, actor, today()), Action.TOKENS_MANAGE, user_id)
            self._user(tx, user_id)
            return tx.people.tokens(user_id)

    def from_token(self, token: str, *, now: dt.datetime) -> SignedIn | None:
        """The user a token acts as; None for a token unknown, revoked or expired."""
        found = self.store.user_by_token(self._token_hash(token))
        if found is None or found[1] <= now:
            return None
        return SignedIn(found[0], credential_expires=found[1])

    def user(self, user_id: str) -> SignedIn | None:
        with self.store.reading() as tx:
            user = tx.people.user(user_id)
        return None if user is None else SignedIn(user)
