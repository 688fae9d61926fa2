"""Signing in: passwords (argon2id), browser sessions, API tokens, throttling.

Secrets are never stored: a password as its argon2id hash, a session or API
token as its SHA-256 (tokens are long random strings, so a fast hash is
enough and lets a token be looked up by its hash). A revoked token or an
ended session stops working at once, on every instance, because every
request looks it up in the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clearance.core.access import Level, Role
from clearance.core.chain import EventType
from clearance.core.digest import sha256_hex
from clearance.errors import AuthenticationError, InputError, NotFoundError, Throttled
from clearance.store.records import ApiTokenRecord, SessionRecord, UserRecord
from clearance.store.repository import Store, Transaction

__all__ = ["Accounts", "SignedIn", "token_hash"]

_HASHER = PasswordHasher()  # argon2id with the library's current parameters
_WRONG = "wrong user name or password"
MIN_PASSWORD = 12


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


class SignedIn:
    """A user signed in by session, token or bearer: what every request acts as."""

    def __init__(self, user: UserRecord, *, csrf_token: str | None = None) -> None:
        self.user = user
        self.csrf_token = csrf_token

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def clearance(self) -> Level:
        return Level(self.user.clearance)

    def has(self, role: Role) -> bool:
        return role.value in self.user.roles or Role.ADMIN.value in self.user.roles


class Accounts:
    """Sign-in use cases over one store."""

    def __init__(
        self,
        store: Store,
        *,
        session_hours: int = 12,
        max_failures: int = 5,
        failure_window_minutes: int = 15,
    ) -> None:
        self.store = store
        self.session_hours = session_hours
        self.max_failures = max_failures
        self.failure_window = dt.timedelta(minutes=failure_window_minutes)

    # passwords and access --------------------------------------------------------

    def set_password(self, user_id: str, password: str, *, actor: str, now: dt.datetime) -> None:
        if len(password) < MIN_PASSWORD:
            raise InputError("password", f"needs at least {MIN_PASSWORD} characters")
        hashed = _HASHER.hash(password)
        with self.store.transaction() as tx:
            self._user(tx, user_id)
            tx.update_user(user_id, password_hash=hashed)
            tx.append(
                type=EventType.USER_ACCESS_CHANGED,
                actor=actor,
                at=now,
                # The digest of the stored hash binds the row to the ledger; it reveals nothing
                # of the password (argon2id hashes are salted and slow to test guesses against).
                payload={
                    "user": user_id,
                    "password": "set",
                    "password_digest": sha256_hex(hashed.encode()),
                },
            )

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
            tx.update_user(user_id, roles=tuple(r.value for r in roles), clearance=int(clearance))
            tx.append(
                type=EventType.USER_ACCESS_CHANGED,
                actor=actor,
                at=now,
                payload={
                    "user": user_id,
                    "roles": [r.value for r in roles],
                    "clearance": clearance.label,
                },
            )

    @staticmethod
    def _user(tx: Transaction, user_id: str) -> UserRecord:
        user = tx.user(user_id)
        if user is None:
            raise NotFoundError(f"unknown user '{user_id}'")
        return user

    # sessions ---------------------------------------------------------------------

    def sign_in(self, user_id: str, password: str, *, now: dt.datetime) -> tuple[str, SignedIn]:
        """A new session for the right password; refused alike for any wrong pair, and
        refused outright after too many failures for that user in the window."""
        with self.store.transaction() as tx:
            tx.purge_sign_in(failures_before=now - self.failure_window, now=now)
            if tx.sign_in_failures(user_id, now - self.failure_window) >= self.max_failures:
                raise Throttled("too many failed sign-ins for this user; try again later")
            user = tx.user(user_id)
            if user is None or not _password_ok(user.password_hash, password):
                tx.add_sign_in_failure(user_id, now)
                failed = True
            else:
                failed = False
                tx.clear_sign_in_failures(user_id)
                token = secrets.token_urlsafe(32)
                record = SessionRecord(
                    token_hash=token_hash(token),
                    user_id=user_id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + dt.timedelta(hours=self.session_hours),
                )
                tx.add_session(record)
        if failed:  # after commit, so the failure is counted
            raise AuthenticationError(_WRONG)
        assert user is not None
        return token, SignedIn(user, csrf_token=record.csrf_token)

    def from_session(self, token: str, *, now: dt.datetime) -> SignedIn | None:
        found = self.store.user_by_session(token_hash(token))
        if found is None:
            return None
        user, record = found
        if record.expires_at <= now:
            self.sign_out(token)
            return None
        return SignedIn(user, csrf_token=record.csrf_token)

    def sign_out(self, token: str) -> None:
        with self.store.transaction() as tx:
            tx.end_session(token_hash(token))

    # API tokens -------------------------------------------------------------------

    def issue_token(
        self, user_id: str, name: str, *, actor: str, now: dt.datetime
    ) -> tuple[str, ApiTokenRecord]:
        """A new token for a machine acting as ``user_id``; shown once, stored hashed."""
        if not name.strip():
            raise InputError("name", "say what the token is for")
        token = "clr_" + secrets.token_urlsafe(32)
        record = ApiTokenRecord(str(uuid.uuid4()), token_hash(token), user_id, name, now, None)
        with self.store.transaction() as tx:
            self._user(tx, user_id)
            tx.add_token(record)
            tx.append(
                type=EventType.API_TOKEN_ISSUED,
                actor=actor,
                at=now,
                payload={
                    "token": record.id,
                    "user": user_id,
                    "name": name,
                    "token_hash": record.token_hash,
                },
            )
        return token, record

    def revoke_token(self, token_id: str, *, actor: str, now: dt.datetime) -> None:
        with self.store.transaction() as tx:
            record = tx.token(token_id)
            if record is None:
                raise NotFoundError(f"no API token '{token_id}'")
            if record.revoked_at is None:
                tx.revoke_token(token_id, now)
                tx.append(
                    type=EventType.API_TOKEN_REVOKED,
                    actor=actor,
                    at=now,
                    payload={"token": token_id, "user": record.user_id},
                )

    def token_owner(self, token_id: str) -> str | None:
        with self.store.reading() as tx:
            record = tx.token(token_id)
        return None if record is None else record.user_id

    def from_token(self, token: str) -> SignedIn | None:
        user = self.store.user_by_token(token_hash(token))
        return None if user is None else SignedIn(user)

    def user(self, user_id: str) -> SignedIn | None:
        with self.store.reading() as tx:
            user = tx.user(user_id)
        return None if user is None else SignedIn(user)


def _password_ok(stored: str | None, password: str) -> bool:
    if stored is None:
        # Spend the same time as a real check, so timing does not tell which users exist.
        _HASHER.hash(password)
        return False
    try:
        return bool(_HASHER.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False
