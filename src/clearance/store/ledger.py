"""The ledger's store side: what sealing needs, checkpoints, and reading the events.

Every event is written by ``Transaction.append`` (store/repository.py), the
one writer: it links the event to the head, seals it with the system key
through a ``Sealer``, and every ``CHECKPOINT_EVERY`` events also stores a
signed checkpoint (``LedgerTables.checkpoint``), which it signs only over a
ledger that verifies since the last one. After a transaction commits, the
store tells its observers which events it wrote (``Observer``): the seam for
anything that reacts to events, such as the witness file kept beside the
database, which the store also reads (``WitnessFile``) before it signs a
checkpoint.

Verification of the whole ledger reads every event, so its readers
(``Store.ledger_rows``) go straight to the driver (dialect.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearance.core.anchors import Anchor, Checkpoint, seal_valid
from clearance.core.chain import GENESIS, ChainVerifier, EventType, Scheme
from clearance.errors import LedgerBroken, StoreError
from clearance.store.dialect import as_text
from clearance.store.models import Case, LedgerCheckpoint, LedgerEvent
from clearance.store.pending import Pending
from clearance.store.records import LedgerRecord

__all__ = [
    "CheckpointTables",
    "LedgerTables",
    "Observer",
    "Sealer",
    "StoredCheckpoint",
    "WitnessFile",
]

# The head, read once by each transaction that appends (``LedgerTables.head``), built once.
_HEAD = (
    select(LedgerEvent.seq, LedgerEvent.hash)
    .where(LedgerEvent.seq.is_not(None))
    .order_by(LedgerEvent.seq.desc())
    .limit(1)
)
_READS_LEDGER = frozenset({"ledger"})


class Sealer(Protocol):
    """The system key, as the one writer of events needs it."""

    @property
    def public_key(self) -> str:
        """The key's public half (base64), to check seals with."""

    def seal(self, seq: int, hash: str) -> str:
        """The signature over an event's sequence number and hash (``core.anchors``)."""

    def made(self, seq: int, hash: str, seal: str) -> bool:
        """Whether this key made exactly ``seal`` over ``seq`` and ``hash`` in this process:
        such a seal verifies by construction (Ed25519 signatures are deterministic), so a
        checkpoint need not check it again. False for any seal it does not remember."""

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
        rows = self._session.scalars(
            select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)  # pragma: no mutate
        )
        return [StoredCheckpoint(_checkpoint(r), as_text(r.reason)) for r in rows]


def _record(row: LedgerEvent) -> LedgerRecord:
    return LedgerRecord(
        row.seq,
        as_text(row.case_id),
        as_text(row.prev_hash),
        as_text(row.body),
        as_text(row.hash),
        as_text(row.type),
        row.scheme,
        as_text(row.seal),
    )


def _bytes(value: Any) -> bytes | None:
    """A body as the bytes its hash was taken over (None: the row has none)."""
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode(errors="surrogatepass")


class LedgerTables:
    """The ledger's events read inside one transaction, and its checkpoints signed. Reached
    through ``Transaction.ledger``; events are written only by ``Transaction.append``."""

    def __init__(
        self,
        session: Session,
        *,
        pending: Pending,
        serialise: Callable[[], None],
        checkpoints: CheckpointTables,
        sealer: Sealer | None,
        witness: WitnessFile | None,
    ) -> None:
        self._session = session
        self._pending = pending
        self._serialise = serialise
        self._checkpoints = checkpoints
        self._sealer = sealer
        self._witness = witness
        self._head: tuple[int, str] | None = None

    def head(self) -> tuple[int, str]:
        """The last sequence number and hash (0 and the genesis hash on an empty ledger).

        Read once per transaction: it holds the writers' lock from then on, and
        ``Transaction.append``, the one writer of events, moves it on (``moved_to``)."""
        if self._head is None:
            self._serialise()
            row = self._pending.read(_HEAD, _READS_LEDGER).first()
            self._head = (0, GENESIS) if row is None else (int(row[0]), str(as_text(row[1])))
        return self._head

    def last_seq(self) -> int:
        """The last sequence number this transaction sees (0 on an empty ledger), without
        queueing behind writers as ``head`` does: for a reader that asks only whether anything
        was recorded since it last looked."""
        return int(self._session.scalar(select(func.max(LedgerEvent.seq))) or 0)

    def moved_to(self, seq: int, hash: str) -> None:
        """The head after an event this transaction appended."""
        self._head = (seq, hash)

    def checkpoint(self, at: dt.datetime, reason: str, *, unsealed: bool = False) -> Checkpoint:
        """Sign the ledger's head with the system key and keep the checkpoint.

        Only over a ledger that verifies since the last checkpoint the key
        signed, and that holds the witness: otherwise ``LedgerBroken``, since
        the checkpoint would vouch for whatever was forged, changed or cut
        there. ``unsealed``: vouch for the events of scheme 1 found before the
        first sealed one, as ``clearance init`` does once for a ledger written
        before seals; never otherwise, since anyone can write such an event.
        """
        sealer = self._sealer
        if sealer is None:
            raise StoreError("there is no system key to sign with; run 'clearance init'")
        seq, head = self.head()
        problem = self._tail_problem(sealer, seq, unsealed=unsealed)
        if problem is not None:
            raise LedgerBroken(f"not signing a checkpoint over the ledger: {problem}")
        made = sealer.checkpoint(seq, head, at)
        self._checkpoints.add(made, reason)
        return made

    def _tail_problem(self, sealer: Sealer, head_seq: int, *, unsealed: bool) -> str | None:
        """What is wrong with the events after the last checkpoint signed by the sealer's key,
        or with the ledger against the witness. A seal is compared with the one the sealer
        remembers making before its signature is checked (most of the tail was sealed by this
        process, and checking a signature costs more than writing the event)."""
        public_key = sealer.public_key
        last = self._checkpoints.last_signed(public_key)
        since, prev = (0, GENESIS) if last is None else (last.seq, last.head)
        if since > head_seq:
            return f"the ledger ends at event {head_seq}, before its checkpoint at {since}"
        if since:
            at_checkpoint = self._session.scalar(
                select(LedgerEvent.hash).where(LedgerEvent.seq == since)
            )
            if as_text(at_checkpoint) != prev:
                return f"event {since} is not the one its checkpoint vouches for"
        witness = None if self._witness is None else self._witness.anchor(public_key)
        if isinstance(witness, str):
            return witness
        if witness is not None:
            if witness.seq > head_seq:
                return f"the ledger ends at event {head_seq}, before {witness.source}"
            found = self._session.scalar(
                select(LedgerEvent.hash).where(LedgerEvent.seq == witness.seq)
            )
            if as_text(found) != witness.head:
                return f"event {witness.seq} is not the one {witness.source} vouches for"
        count = self._session.scalar(select(func.count()).select_from(LedgerEvent))
        if count != head_seq:
            return f"the ledger holds {count} rows, but its events run from 1 to {head_seq}"
        rows = self._session.execute(
            select(
                LedgerEvent.seq,
                LedgerEvent.scheme,
                LedgerEvent.type,
                LedgerEvent.case_id,
                LedgerEvent.prev_hash,
                LedgerEvent.hash,
                LedgerEvent.body,
                LedgerEvent.seal,
            )
            .where(LedgerEvent.seq > since)
            .order_by(LedgerEvent.seq)  # pragma: no mutate
        ).all()
        verifier = ChainVerifier(since + 1, head_seq, prev, whole=True)  # pragma: no mutate
        verifier.feed((r[0], r[1], *(as_text(v) for v in r[2:6]), _bytes(r[6]), None) for r in rows)
        segment = verifier.segment()
        if segment.first_bad is not None:
            return f"event {segment.first_bad}: {segment.problem}"
        sealed = since > 0 or not unsealed
        for row in rows:
            if row[1] == Scheme.V1 and not sealed:
                continue  # written before seals existed: the upgrade's checkpoint vouches for it
            sealed = True
            seq, hash, seal = row[0], as_text(row[5]), as_text(row[7])
            if not (
                (seal is not None and sealer.made(seq, hash, seal))
                or seal_valid(public_key, seq, hash, seal)
            ):
                return f"event {seq} is not sealed by the system key"
        return None

    def unsealed_tail(self) -> bool:
        """Whether events without a seal follow the last checkpoint (a ledger from before seals)."""
        last = self._session.scalar(select(func.max(LedgerCheckpoint.seq))) or 0
        found = self._session.scalar(
            select(LedgerEvent.seq)
            .where(LedgerEvent.seq > last, LedgerEvent.seal.is_(None))
            .limit(1)  # pragma: no mutate
        )
        return found is not None

    def page(
        self,
        *,
        max_level: int | None,
        case_id: str | None = None,
        type: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[LedgerRecord]:
        """Events newest first; those of a case classified above ``max_level`` left out, and
        those of a case not found (as an export redacts them)."""
        query = select(LedgerEvent).outerjoin(Case, Case.id == LedgerEvent.case_id)
        if max_level is not None:
            query = query.where(
                (LedgerEvent.case_id.is_(None)) | (Case.classification <= max_level)
            )
        if case_id is not None:
            query = query.where(LedgerEvent.case_id == case_id)
        if type is not None:
            query = query.where(LedgerEvent.type == type)
        if before is not None:
            query = query.where(LedgerEvent.seq < before)
        query = query.order_by(LedgerEvent.seq.desc()).limit(limit)
        rows = self._session.scalars(query)
        return [_record(r) for r in rows]

    def of_type(self, type: EventType) -> list[LedgerRecord]:
        rows = self._session.scalars(
            select(LedgerEvent).where(LedgerEvent.type == type.value).order_by(LedgerEvent.seq)
        )
        return [_record(r) for r in rows]

    def of_case(self, case_id: str) -> list[LedgerRecord]:
        rows = self._session.scalars(
            select(LedgerEvent).where(LedgerEvent.case_id == case_id).order_by(LedgerEvent.seq)
        )
        return [_record(r) for r in rows]
