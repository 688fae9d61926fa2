"""The ledger's store side: what sealing needs, checkpoints, and the fast readers that verify.

Every event is written by ``Transaction.append`` (store/repository.py), the
one writer: it links the event to the head, seals it with the system key
through a ``Sealer``, and every ``CHECKPOINT_EVERY`` events also stores a
signed checkpoint. After a transaction commits, the store tells its
observers which events it wrote (``Observer``): the seam for anything that
reacts to events, such as the witness file kept beside the database, which
the store also reads (``WitnessFile``) before it signs a checkpoint.

Verification reads every event, so its readers go straight to the driver
(a plain cursor on SQLite, a server-side one on PostgreSQL), with the body
as bytes ready to hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.core.anchors import Anchor, Checkpoint
from clearance.store.models import LedgerCheckpoint
from clearance.store.records import LedgerRecord

__all__ = [
    "ROWS_SQL",
    "SEALS_SQL",
    "CheckpointTables",
    "Observer",
    "Sealer",
    "StoredCheckpoint",
    "WitnessFile",
    "as_text",
]


class Sealer(Protocol):
    """The system key, as the one writer of events needs it."""

    @property
    def public_key(self) -> str:
        """The key's public half (base64), to check seals with."""

    def seal(self, seq: int, hash: str) -> str:
        """The signature over an event's sequence number and hash (``core.anchors``)."""

    def checkpoint(self, seq: int, head: str, at: dt.datetime) -> Checkpoint:
        """A signed checkpoint of the ledger ending at ``seq`` with ``head``."""

    def sign(self, message: bytes) -> str:
        """The system key's signature over a statement of its own (``core.anchors``)."""


Observer = Callable[[Sequence[LedgerRecord]], None]
"""Told the events a transaction wrote, after it committed (never inside it)."""


class WitnessFile(Protocol):
    """The last event this installation sealed, kept where the database's writers cannot."""

    def anchor(self, public_key: str) -> Anchor | str | None:
        """The witness as an anchor; a problem (text) when it cannot be trusted; None if absent."""


def as_text(value: Any) -> Any:
    """A text column's value as text: SQLite keeps a value in whatever type it was written with,
    so the same bytes may come back as a BLOB."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _checkpoint(row: LedgerCheckpoint) -> Checkpoint:
    return Checkpoint(
        row.seq,
        as_text(row.head),
        as_text(row.at),
        as_text(row.statement),
        as_text(row.signature),
        as_text(row.public_key),
    )


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

    def last_signed(self, public_key: str) -> Checkpoint | None:
        """The last checkpoint kept that ``public_key`` signed: a row anyone else wrote into
        the table is passed over."""
        for stored in reversed(self.all()):
            if stored.checkpoint.problem(public_key) is None:
                return stored.checkpoint
        return None

    def all(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, oldest first."""
        rows = self._session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id))
        return [StoredCheckpoint(_checkpoint(r), as_text(r.reason)) for r in rows]


# (seq, scheme, type, case_id, prev_hash, hash, body as bytes): core.chain.Row without body_hash.
# SQLite returns a value in the type it was written with: the texts are cast back to text.
ROWS_SQL = {
    "sqlite": (
        "SELECT seq, scheme, CAST(type AS TEXT), CAST(case_id AS TEXT), CAST(prev_hash AS TEXT),"
        " CAST(hash AS TEXT), CAST(body AS BLOB) FROM ledger WHERE seq BETWEEN ? AND ? ORDER BY seq"
    ),
    "postgresql": (
        "SELECT seq, scheme, type, case_id, prev_hash, hash, convert_to(body, 'UTF8') FROM ledger"
        " WHERE seq BETWEEN %s AND %s ORDER BY seq"
    ),
}

SEALS_SQL = {
    "sqlite": (
        "SELECT seq, CAST(hash AS TEXT), CAST(seal AS TEXT) FROM ledger WHERE seq BETWEEN ? AND ?"
        " ORDER BY seq"
    ),
    "postgresql": "SELECT seq, hash, seal FROM ledger WHERE seq BETWEEN %s AND %s ORDER BY seq",
}
