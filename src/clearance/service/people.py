"""People and offices: users with signing keys, who holds which office when, delegations.

Every change is a ledger event in the same transaction as the change itself.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN, SYSTEM
from clearance.core.catalog import Catalog
from clearance.core.events import DelegationGranted, HoldingGranted, UserAdded
from clearance.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from clearance.service.access import delegations_in_force, holds, offices_in
from clearance.store.protocol import Transaction
from clearance.store.records import DelegationRecord, HoldingRecord, UserRecord
from clearance.store.repository import Store

__all__ = ["People", "can_act_for", "offices_of", "registry"]

_USER_ID = re.compile(r"[a-z][a-z0-9._-]{1,63}")  # whole: fullmatch


def can_act_for(
    tx: Transaction,
    user_id: str,
    authority: str,
    day: dt.date,
    *,
    delegable: bool,
    personally: str = "must decide personally: this gate is not delegable",
) -> str | None:
    """Whether ``user_id`` may answer for ``authority`` on ``day``.

    Returns None if they hold the office, the holder's id if they act as that
    holder's current delegate on a delegable gate; raises ``PermissionDenied``
    otherwise, saying why (``personally`` says what a delegate may not do).
    """
    if holds(tx, user_id, authority, day):
        return None
    if any(h.user_id == user_id for h in tx.people.holdings(authority=authority)):
        raise PermissionDenied(f"{user_id} no longer holds {authority} (or does not yet)")
    for delegation in delegations_in_force(tx, user_id, day, authority=authority):
        if not delegable:
            raise PermissionDenied(f"{authority} {personally}")
        return delegation.holder_id
    raise PermissionDenied(f"{user_id} does not hold {authority} and is not its delegate")


def registry(store: Store) -> list[dict[str, Any]]:
    """Every user with their public key and the offices they hold or held: what an outsider
    checks signed answers against (``users list --json``, ``verify-decision --keys``)."""
    with store.reading() as tx:
        return [
            {
                "id": u.id,
                "name": u.name,
                "party": u.party,
                "public_key": u.public_key,
                "holdings": [
                    {
                        "authority": h.authority,
                        "from": h.valid_from.isoformat(),
                        "to": h.valid_to.isoformat() if h.valid_to else None,
                    }
                    for h in tx.people.holdings(user_id=u.id)
                ],
            }
            for u in tx.people.users()
        ]


class People:
    """Use cases for users, holdings and delegations."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    def check_new_user(self, *, user_id: str, party: str, tx: Transaction | None = None) -> None:
        """Refuse a bad or taken user id, or an unknown party, before anything is written."""
        if not _USER_ID.fullmatch(user_id):
            raise InputError(
                "user id", f"'{user_id}' must be 2–64 lower-case letters, digits, '.', '_' or '-'"
            )
        if user_id in (ADMIN, SYSTEM):
            raise InputError(
                "user id", f"'{user_id}' is reserved (it names an actor that is not a user)"
            )
        if self.catalog.party(party) is None:
            raise NotFoundError(f"unknown party '{party}'")
        if tx is None:
            with self.store.transaction() as tx:
                return self.check_new_user(user_id=user_id, party=party, tx=tx)
        if tx.people.user(user_id) is not None:
            raise ConflictError(f"user '{user_id}' already exists")

    def add_user(
        self,
        *,
        user_id: str,
        name: str,
        party: str,
        public_key: str,
        actor: str,
        now: dt.datetime,
        roles: tuple[Role, ...] = (Role.REQUESTER,),
        clearance: Level = Level.UNCLASSIFIED,
    ) -> UserRecord:
        """A new user: by default a requester cleared UNCLASSIFIED (least privilege)."""
        user = UserRecord(
            user_id, name, party, public_key, now, tuple(r.value for r in roles), int(clearance)
        )
        with self.store.transaction() as tx:
            self.check_new_user(user_id=user_id, party=party, tx=tx)
            self._check_actor(tx, actor)
            tx.people.add_user(user)
            tx.append(
                UserAdded(
                    user_id,
                    name,
                    party,
                    public_key,
                    roles=tuple(user.roles),
                    clearance=clearance.label,
                ),
                actor=actor,
                at=now,
            )
        return user

    def users(self) -> list[UserRecord]:
        with self.store.reading() as tx:
            return tx.people.users()

    def user(self, user_id: str) -> UserRecord:
        """One user, with their roles and clearance as they are now."""
        with self.store.reading() as tx:
            user = tx.people.user(user_id)
        if user is None:
            raise NotFoundError(f"unknown user '{user_id}'")
        return user

    @staticmethod
    def _check_actor(tx: Transaction, actor: str) -> None:
        """Who records a change is a user, or the local administrator (``ADMIN``)."""
        if actor != ADMIN and tx.people.user(actor) is None:
            raise NotFoundError(f"unknown user '{actor}' (--by)")

    def _check_authority(self, authority: str) -> None:
        if self.catalog.authority(authority) is None:
            raise NotFoundError(f"unknown authority '{authority}'")

    def grant(
        self,
        *,
        user_id: str,
        authority: str,
        valid_from: dt.date,
        valid_to: dt.date | None,
        actor: str,
        now: dt.datetime,
    ) -> HoldingRecord:
        """``user_id`` takes office; the previous holder's term ends the day before."""
        self._check_authority(authority)
        if valid_to is not None and valid_to < valid_from:
            raise InputError("to", "the end of a term cannot come before its start")
        holding = HoldingRecord(user_id, authority, valid_from, valid_to)
        with self.store.transaction() as tx:
            if tx.people.user(user_id) is None:
                raise NotFoundError(f"unknown user '{user_id}'")
            self._check_actor(tx, actor)
            tx.people.end_holdings(authority, valid_from - dt.timedelta(days=1))
            tx.people.add_holding(holding)
            tx.append(
                HoldingGranted(user_id, authority, valid_from, valid_to),
                actor=actor,
                at=now,
            )
        return holding

    def delegate(
        self,
        *,
        holder_id: str,
        delegate_id: str,
        authority: str,
        valid_from: dt.date,
        valid_to: dt.date,
        now: dt.datetime,
    ) -> DelegationRecord:
        """A current holder lets a delegate act for the office on delegable gates, for a period.

        The delegate must be a user of the office's party: an office of one state is
        never answered for by a person acting for another.
        """
        office = self.catalog.authority(authority)
        if office is None:
            raise NotFoundError(f"unknown authority '{authority}'")
        if valid_to < valid_from:
            raise InputError("to", "a delegation cannot end before it starts")
        if holder_id == delegate_id:
            raise InputError("delegate", "a holder cannot delegate to themselves")
        delegation = DelegationRecord(authority, holder_id, delegate_id, valid_from, valid_to)
        with self.store.transaction() as tx:
            if tx.people.user(holder_id) is None:
                raise NotFoundError(f"unknown user '{holder_id}'")
            delegate = tx.people.user(delegate_id)
            if delegate is None:
                raise NotFoundError(f"unknown user '{delegate_id}'")
            if delegate.party != office.party:
                raise PermissionDenied(
                    f"{delegate_id} acts for {delegate.party}: only a user of {office.party}"
                    f" may be a delegate for {authority}"
                )
            if not holds(tx, holder_id, authority, now.date()):
                raise PermissionDenied(
                    f"{holder_id} does not hold {authority} and cannot delegate it"
                )
            tx.people.add_delegation(delegation)
            tx.append(
                DelegationGranted(authority, holder_id, delegate_id, valid_from, valid_to),
                actor=holder_id,
                at=now,
            )
        return delegation


def offices_of(store: Store, user_id: str, day: dt.date) -> list[str]:
    """The offices a user holds on ``day``, or may answer for as a delegate."""
    with store.reading() as tx:
        return list(offices_in(tx, user_id, day))
