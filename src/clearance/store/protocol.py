"""What a use case may do inside one transaction, as the service layer sees it.

The service layer type-hints against ``Transaction``, not against the class
that implements it over SQLAlchemy (``SqlTransaction`` in repository.py), so
the surface it relies on is this short list: the parts by area, the one
writer of the ledger, and the lock that queues writers. Anything else the
concrete class holds (its session, what it appended for the observers) stays
the store's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from clearance.core.events import Payload
from clearance.store.case_tables import CaseTables
from clearance.store.ledger import CheckpointTables, LedgerTables
from clearance.store.notifications import NotificationTables
from clearance.store.people import PeopleTables
from clearance.store.proposals import ProposalTables
from clearance.store.records import LedgerRecord
from clearance.store.stock import StockTables

__all__ = ["Reactor", "Transaction"]


class Transaction(Protocol):
    """Reads and writes inside one database transaction, by area."""

    people: PeopleTables
    """Users, sessions, API tokens, failed sign-ins, holdings and delegations."""
    cases: CaseTables
    """Cases, their numbers, approvals and conditions, and the lists and counts of cases."""
    ledger: LedgerTables
    """The ledger's events read back, and checkpoints signed over them."""
    stock: StockTables
    proposals: ProposalTables
    checkpoints: CheckpointTables
    notifications: NotificationTables
    """Subscriptions, and the outbox of notifications to deliver."""

    def append(
        self,
        payload: Payload,
        *,
        actor: str,
        at: dt.datetime,
        case_id: str | None = None,
        known: Mapping[str, str] | None = None,
    ) -> LedgerRecord:
        """Link an event to the ledger's head and seal it: the one writer of events. ``known``:
        the canonical text of payload members already encoded, spliced in, not encoded again."""
        ...

    def serialise(self) -> None:
        """Queue behind every other writer of cases and the ledger until this transaction ends."""
        ...


Reactor = Callable[[Transaction, Sequence[LedgerRecord]], None]
"""Told, inside a transaction and before it commits, the events it appended: writes what must
commit with them or not at all (the outbox of notifications). A reactor that fails rolls the
transaction back; it appends no events of its own."""
