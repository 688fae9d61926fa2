"""The ledger's store side: what sealing needs, checkpoints, and the fast readers that verify.

Every event is written by ``Transaction.append`` (store/repository.py), the
one writer: it links the event to the head, seals it with the system key
through a ``Sealer``, and every ``CHECKPOINT_EVERY`` events also stores a
signed checkpoint. After a transaction commits, the store tells its
observers which events it wrote (``Observer``): the seam for anything that
reacts to events, such as the witness file kept beside the database.

Verification reads every event, so its readers go straight to the driver
(a plain cursor on SQLite, a server-side one on PostgreSQL), with the body
as bytes ready to hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.core.anchors import Checkpoint
from clearance.store.models import LedgerCheckpoint
from clearance.store.records import LedgerRecord

__all__ = ["ROWS_SQL", "SEALS_SQL", "CheckpointTables", "Observer", "Sealer", "StoredCheckpoint"]


class Sealer(Protocol):
    """The system key, as the one writer of events needs it."""

    @property
    def public_key(self) -> str:
        """The key's public half (base64), to check seals with."""

    def seal(self, seq: int, hash: str) -> str:
        """The signature over an event's sequence number and hash (``core.anchors``)."""

    def checkpoint(self, seq: int, head: str, at: dt.datetime) -> Checkpoint:
        """A signed checkpoint of the ledger ending at ``seq`` with ``head``."""


Observer = Callable[[Sequence[LedgerRecord]], None]
"""Told the events a transaction wrote, after it committed (never inside it)."""


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    checkpoint: Checkpoint
    reason: str


class CheckpointTables:
    """The checkpoints kept in the database. Reached through ``Transaction.checkpoints``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, checkpoint: Checkpoint, reason: str) -> None:
        self._session.add(
            LedgerCheckpoint(
                seq=checkpoint.seq,
                head=checkpoint.head,
                at=checkpoint.at,
                statement=checkpoint.statement,
                signature=checkpoint.signature,
                public_key=checkpoint.public_key,
                reason=reason,
            )
        )
        self._session.flush()

    def latest(self) -> StoredCheckpoint | None:
        row = self._session.scalar(
            select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
        )
        if row is None:
            return None
        checkpoint = Checkpoint(
            row.seq, row.head, row.at, row.statement, row.signature, row.public_key
        )
        return StoredCheckpoint(checkpoint, row.reason)

    def all(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, oldest first."""
        rows = self._session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id))
        return [
            StoredCheckpoint(
                Checkpoint(r.seq, r.head, r.at, r.statement, r.signature, r.public_key), r.reason
            )
            for r in rows
        ]


# (seq, scheme, type, case_id, prev_hash, hash, body as bytes): core.chain.Row without body_hash.
ROWS_SQL = {
    "sqlite": (
        "SELECT seq, scheme, type, case_id, prev_hash, hash, CAST(body AS BLOB) FROM ledger"
        " WHERE seq BETWEEN ? AND ? ORDER BY seq"
    ),
    "postgresql": (
        "SELECT seq, scheme, type, case_id, prev_hash, hash, convert_to(body, 'UTF8') FROM ledger"
        " WHERE seq BETWEEN %s AND %s ORDER BY seq"
    ),
}

SEALS_SQL = {
    "sqlite": "SELECT seq, hash, seal FROM ledger WHERE seq BETWEEN ? AND ? ORDER BY seq",
    "postgresql": "SELECT seq, hash, seal FROM ledger WHERE seq BETWEEN %s AND %s ORDER BY seq",
}
