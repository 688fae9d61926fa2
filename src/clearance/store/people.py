"""Users, sign-in and offices: the store side (reached through ``Transaction.people``).

Who someone is (users), how they are signed in (sessions, API tokens, the
failed sign-ins that slow down guessing) and which offices they hold or act
for (holdings, delegations): the records every authorisation reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from clearance.store.dialect import driver_time
from clearance.store.models import (
    ApiToken,
    Delegation,
    Holding,
    SignInFailure,
    SignInSession,
    User,
    flush,
)
from clearance.store.pending import Pending
from clearance.store.records import (
    ApiTokenRecord,
    DelegationRecord,
    HoldingRecord,
    SessionRecord,
    UserRecord,
    aware,
)

__all__ = ["USER_BY_SESSION", "USER_BY_TOKEN", "PeopleTables", "user_row"]

# Who is asking (``Store.user_by_token``, ``Store.user_by_session``): the user's columns
# in table order, as ``user_row`` reads them, and what the sign-in adds.
_USER_COLUMNS = (
    "users.id, users.name, users.party, users.public_key, users.created_at, users.roles,"
    " users.clearance, users.password_hash"
)
USER_BY_TOKEN = (
    f"SELECT {_USER_COLUMNS}, api_tokens.expires_at"
    " FROM users JOIN api_tokens ON api_tokens.user_id = users.id"
    " WHERE api_tokens.token_hash = ? AND api_tokens.revoked_at IS NULL"
)
USER_BY_SESSION = (
    f"SELECT {_USER_COLUMNS}, sessions.csrf_token, sessions.created_at, sessions.expires_at"
    " FROM users JOIN sessions ON sessions.user_id = users.id WHERE sessions.token_hash = ?"
)
# One user by id, its columns in table order (``user_row``), built once: every submission
# reads its submitter (``PeopleTables.user``).
_USER = select(User.__table__).where(User.id == bindparam("id"))
_USERS = frozenset({"users"})


def user_row(row: Any) -> UserRecord:
    """A user from the eight columns of ``users`` in table order (as the ORM or a driver
    cursor reads them)."""
    return UserRecord(
        row[0], row[1], row[2], row[3], driver_time(row[4]), tuple(row[5].split()), row[6], row[7]
    )


def _user(row: User) -> UserRecord:
    return user_row(
        (
            row.id,
            row.name,
            row.party,
            row.public_key,
            row.created_at,
            row.roles,
            row.clearance,
            row.password_hash,
        )
    )


def _token(row: ApiToken) -> ApiTokenRecord:
    return ApiTokenRecord(
        row.id,
        row.token_hash,
        row.user_id,
        row.name,
        aware(row.created_at),
        aware(row.expires_at),
        None if row.revoked_at is None else aware(row.revoked_at),
    )


class PeopleTables:
    """Users, sign-in and offices inside one transaction."""

    def __init__(self, session: Session, pending: Pending) -> None:
        self._session = session
        self._pending = pending

    def add_user(self, user: UserRecord) -> None:
        self._session.add(
            User(
                id=user.id,
                name=user.name,
                party=user.party,
                public_key=user.public_key,
                created_at=user.created_at,
                roles=" ".join(user.roles),
                clearance=user.clearance,
                password_hash=user.password_hash,
            )
        )
        flush(self._session, f"user '{user.id}' already exists")

    def user(self, user_id: str) -> UserRecord | None:
        row = self._pending.read(_USER, _USERS, {"id": user_id}).first()
        return None if row is None else user_row(row)

    def users(self) -> list[UserRecord]:
        return [_user(r) for r in self._session.scalars(select(User).order_by(User.id))]

    def update_user(
        self,
        user_id: str,
        *,
        roles: tuple[str, ...] | None = None,
        clearance: int | None = None,
        password_hash: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {}
        if roles is not None:
            changes["roles"] = " ".join(roles)
        if clearance is not None:
            changes["clearance"] = clearance
        if password_hash is not None:
            changes["password_hash"] = password_hash
        if changes:
            self._session.execute(update(User).where(User.id == user_id).values(**changes))

    # sign-in: sessions, API tokens, failures -------------------------------------

    def add_session(self, record: SessionRecord) -> None:
        self._session.add(
            SignInSession(
                token_hash=record.token_hash,
                user_id=record.user_id,
                csrf_token=record.csrf_token,
                created_at=record.created_at,
                expires_at=record.expires_at,
            )
        )
        flush(self._session, "session exists")

    def end_session(self, token_hash: str) -> None:
        self._session.execute(delete(SignInSession).where(SignInSession.token_hash == token_hash))

    def end_sessions(self, user_id: str) -> None:
        """End every session of one user."""
        self._session.execute(delete(SignInSession).where(SignInSession.user_id == user_id))

    def add_token(self, record: ApiTokenRecord) -> None:
        self._session.add(
            ApiToken(
                id=record.id,
                token_hash=record.token_hash,
                user_id=record.user_id,
                name=record.name,
                created_at=record.created_at,
                expires_at=record.expires_at,
                revoked_at=record.revoked_at,
            )
        )
        flush(self._session, "token exists")

    def token(self, token_id: str) -> ApiTokenRecord | None:
        row = self._session.scalar(select(ApiToken).where(ApiToken.id == token_id))
        return None if row is None else _token(row)

    def tokens(self, user_id: str) -> list[ApiTokenRecord]:
        """The API tokens of one user, revoked and expired ones too, newest first."""
        query = (
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
        return [_token(r) for r in self._session.scalars(query)]

    def revoke_token(self, token_id: str, at: dt.datetime) -> None:
        self._session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=at))

    def add_sign_in_failure(self, user_id: str, client: str, at: dt.datetime) -> None:
        self._session.add(SignInFailure(user_id=user_id, client=client, at=at))
        self._session.flush()

    def sign_in_failures(
        self, user_id: str, client: str, since: dt.datetime
    ) -> tuple[int, dt.datetime | None]:
        """How many sign-ins as ``user_id`` from ``client`` failed since ``since``, and the last."""
        query = select(func.count(), func.max(SignInFailure.at)).where(
            SignInFailure.user_id == user_id,
            SignInFailure.client == client,
            SignInFailure.at >= since,
        )
        count, last = self._session.execute(query).one()
        return int(count or 0), None if last is None else driver_time(last)

    def purge_sign_in(self, *, failures_before: dt.datetime, now: dt.datetime) -> None:
        """Forget failures too old to count and sessions that have expired."""
        self._session.execute(delete(SignInFailure).where(SignInFailure.at < failures_before))
        self._session.execute(delete(SignInSession).where(SignInSession.expires_at <= now))

    def clear_sign_in_failures(self, user_id: str, client: str) -> None:
        self._session.execute(
            delete(SignInFailure).where(
                SignInFailure.user_id == user_id, SignInFailure.client == client
            )
        )

    def add_holding(self, holding: HoldingRecord) -> None:
        self._session.add(
            Holding(
                user_id=holding.user_id,
                authority=holding.authority,
                valid_from=holding.valid_from,
                valid_to=holding.valid_to,
            )
        )
        flush(self._session, "holding could not be recorded")

    def holdings(
        self, *, authority: str | None = None, user_id: str | None = None
    ) -> list[HoldingRecord]:
        query = select(Holding).order_by(Holding.valid_from)
        if authority is not None:
            query = query.where(Holding.authority == authority)
        if user_id is not None:
            query = query.where(Holding.user_id == user_id)
        return [
            HoldingRecord(r.user_id, r.authority, r.valid_from, r.valid_to)
            for r in self._session.scalars(query)
        ]

    def end_holdings(self, authority: str, last_day: dt.date) -> None:
        """Close every open or later-ending holding of an office on ``last_day``."""
        self._session.execute(
            update(Holding)
            .where(Holding.authority == authority)
            .where((Holding.valid_to.is_(None)) | (Holding.valid_to > last_day))
            .where(Holding.valid_from <= last_day)
            .values(valid_to=last_day)
        )

    def add_delegation(self, delegation: DelegationRecord) -> None:
        self._session.add(
            Delegation(
                authority=delegation.authority,
                holder_id=delegation.holder_id,
                delegate_id=delegation.delegate_id,
                valid_from=delegation.valid_from,
                valid_to=delegation.valid_to,
            )
        )
        flush(self._session, "delegation could not be recorded")

    def delegations(
        self, *, delegate_id: str | None = None, authority: str | None = None
    ) -> list[DelegationRecord]:
        """Delegations to ``delegate_id`` (or to anyone) of one office, or of every office."""
        query = select(Delegation)
        if delegate_id is not None:
            query = query.where(Delegation.delegate_id == delegate_id)
        if authority is not None:
            query = query.where(Delegation.authority == authority)
        return [
            DelegationRecord(r.authority, r.holder_id, r.delegate_id, r.valid_from, r.valid_to)
            for r in self._session.scalars(query)
        ]
