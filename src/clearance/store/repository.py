"""The narrow interface the service layer uses: one ``Transaction`` per use case.

``Store.transaction()`` opens a database transaction (``BEGIN IMMEDIATE`` on
SQLite) and yields a ``Transaction`` (store/protocol.py) whose parts read and
write records: ``people``, ``cases``, ``ledger``, ``stock``, ``proposals``
and ``checkpoints``, one module each. It commits when the block ends and
rolls back on any error, so a failed operation leaves nothing half-written.
Nothing outside the store sees SQLAlchemy.

Its 430 lines are one piece: the transaction, its ledger append (hash, seal,
checkpoint) and the rows it holds back until something could read them share
one session and the one writers' lock, which is what keeps the chain single.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, String, func, select, type_coerce
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from clearance.core.anchors import CHECKPOINT_EVERY
from clearance.core.chain import CURRENT, Link, Row, event_body, link_hash
from clearance.core.events import Payload
from clearance.errors import LedgerBroken, OutcomeUnknown, StoreError
from clearance.store.case_tables import CONFLICTS, CaseTables
from clearance.store.db import Database, database_errors, store_error
from clearance.store.dialect import (
    as_text,
    count_more,
    driver_batches,
    driver_sql,
    driver_time,
    ledger_rows_sql,
    ledger_seals_sql,
    lock_writers,
)
from clearance.store.ledger import (
    CheckpointTables,
    LedgerTables,
    Observer,
    Sealer,
    WitnessFile,
)
from clearance.store.models import Base, Case, LedgerEvent
from clearance.store.notifications import NotificationTables
from clearance.store.pending import Pending
from clearance.store.people import USER_BY_SESSION, USER_BY_TOKEN, PeopleTables, user_row
from clearance.store.proposals import ProposalTables
from clearance.store.protocol import Reactor, Transaction
from clearance.store.records import LedgerRecord, SessionRecord, UserRecord, aware
from clearance.store.stock import StockTables

__all__ = ["SqlTransaction", "Store"]

_log = logging.getLogger("clearance.store")
_LEDGER = Base.metadata.tables["ledger"]


def _as_found(value: Any, kind: Any) -> Any:
    """A table's value as the facts are compared with it (``Store.table_rows``)."""
    if isinstance(value, str) and isinstance(kind, (Date, DateTime)):
        try:
            if isinstance(kind, DateTime):
                value = dt.datetime.fromisoformat(value)
            else:
                value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return aware(value) if isinstance(value, dt.datetime) else value


class SqlTransaction:
    """Reads and writes inside one database transaction: the parts, each over the same
    session, and the one writer of the ledger (``Transaction`` in store/protocol.py)."""

    def __init__(
        self,
        session: Session,
        *,
        is_sqlite: bool,
        sealer: Sealer | None = None,
        witness: WitnessFile | None = None,
    ) -> None:
        self._session = session
        self._is_sqlite = is_sqlite
        self._sealer = sealer
        self._locked = False
        self.appended: list[LedgerRecord] = []
        self.pending = Pending(
            session,
            conflicts={**CONFLICTS, "ledger": "the ledger moved on meanwhile; retry"},
            count_more=count_more(is_sqlite=is_sqlite),
        )
        self.pending.watch()
        self.people = PeopleTables(session, self.pending)
        self.cases = CaseTables(
            session, is_sqlite=is_sqlite, serialise=self.serialise, pending=self.pending
        )
        self.stock = StockTables(session, self.pending)
        self.proposals = ProposalTables(session)
        self.checkpoints = CheckpointTables(session)
        self.notifications = NotificationTables(session, is_sqlite=is_sqlite)
        self.ledger = LedgerTables(
            session,
            pending=self.pending,
            serialise=self.serialise,
            checkpoints=self.checkpoints,
            sealer=sealer,
            witness=witness,
        )

    def serialise(self) -> None:
        """Queue behind every other writer of cases and the ledger until this transaction ends.

        SQLite already does (``BEGIN IMMEDIATE``); PostgreSQL takes the ledger's
        advisory lock. Reads after it see everything committed before it.
        """
        if not self._locked:
            lock_writers(self._session, is_sqlite=self._is_sqlite)
        self._locked = True

    def append(
        self,
        payload: Payload,
        *,
        actor: str,
        at: dt.datetime,
        case_id: str | None = None,
        known: Mapping[str, str] | None = None,
    ) -> LedgerRecord:
        """The one writer of ledger events: links the event to the head and seals it with the
        system key, serialised by the database; every ``CHECKPOINT_EVERY`` events, a checkpoint.
        The event's type is its payload's; ``known`` the canonical text of payload members
        already encoded (``core.chain.event_body``).

        The row is held back and sent with the transaction's others (``store.pending``):
        the chain is linked here, in order, so only the INSERT waits."""
        if self._sealer is None:
            raise StoreError("there is no system key to seal the ledger with; run 'clearance init'")
        type = payload.TYPE
        seq, prev = self.ledger.head()
        seq += 1
        body = event_body(
            at=at.isoformat(),
            actor=actor,
            type=type,
            case_id=case_id,
            payload=payload.to_payload(),
            known=known,
        )
        digest = link_hash(seq, case_id, prev, body)
        seal = self._sealer.seal(seq, digest)
        self.pending.add(
            _LEDGER,
            [
                {
                    "seq": seq,
                    "case_id": case_id,
                    "type": type.value,
                    "prev_hash": prev,
                    "body": body,
                    "hash": digest,
                    "scheme": CURRENT,
                    "seal": seal,
                }
            ],
        )
        self.ledger.moved_to(seq, digest)
        record = LedgerRecord(seq, case_id, prev, body, digest, type.value, CURRENT, seal)
        self.appended.append(record)
        if seq % CHECKPOINT_EVERY == 0:
            try:
                self.ledger.checkpoint(at, "every 1,000 events")
            except LedgerBroken:
                # The write goes on; the ledger stays unanchored from the damage on, so
                # every later verification names it.
                _log.error("the ledger does not verify: no checkpoint at event %d", seq)
        return record


class Store:
    """The database behind the narrow interface of ``Transaction``.

    ``sealer`` seals what a transaction appends (a store without one can read but
    not append). ``reactors`` are told the events a transaction appended before
    it commits, and write what must commit with them (one that fails rolls it
    back); ``observers`` are told after the commit (one that fails is logged and
    does not undo or hide the commit). ``witness`` is
    the last event this installation sealed, which the ledger must hold before
    a checkpoint is signed over it.
    """

    def __init__(
        self,
        database: Database,
        *,
        sealer: Sealer | None = None,
        observers: Sequence[Observer] = (),
        witness: WitnessFile | None = None,
        reactors: Sequence[Reactor] = (),
    ) -> None:
        self.database = database
        self.sealer = sealer
        self.observers = list(observers)
        self.reactors = list(reactors)
        self.witness = witness

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction that may write: serialised with other writers by the database.

        A failure before COMMIT rolls everything back (``StoreError``: nothing was
        recorded). A failure of COMMIT itself leaves the outcome unknown (the
        database may have committed and lost the connection before saying so),
        so it is ``OutcomeUnknown``, never passed off as nothing done. The reactors
        see its events before the commit, the observers after."""
        with database_errors(), Session(self.database.engine, expire_on_commit=False) as session:
            session.begin()
            try:
                tx = SqlTransaction(
                    session,
                    is_sqlite=self.database.is_sqlite,
                    sealer=self.sealer,
                    witness=self.witness,
                )
                yield tx
                for reactor in self.reactors if tx.appended else ():
                    reactor(tx, tuple(tx.appended))
                tx.pending.send()  # what the transaction held back (store.pending)
                session.flush()
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except DBAPIError as exc:
                raise OutcomeUnknown(
                    "the database failed while committing, so whether this was recorded is"
                    f" unknown ({store_error(str(exc.orig)).message})"
                ) from None
        committed = tuple(tx.appended)
        if committed:
            for observer in self.observers:
                try:
                    observer(committed)
                except Exception:
                    _log.exception("an observer of the ledger failed after a commit")

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """One transaction that only reads: a consistent snapshot that blocks nobody."""
        with (
            database_errors(),
            Session(self.database.reader, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield SqlTransaction(session, is_sqlite=self.database.is_sqlite)

    # Who is asking: one query on every authenticated request, so it goes straight to the
    # driver (one statement, no ORM, no transaction of SQLAlchemy's around it).

    def _one_row(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        sql = driver_sql(sql, is_sqlite=self.database.is_sqlite)
        with database_errors(), self.database.reader.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            cursor = driver.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            except connection.dialect.loaded_dbapi.Error as exc:
                raise store_error(str(exc)) from None
            finally:
                cursor.close()
        return None if row is None else tuple(row)

    def user_by_token(self, token_hash: str) -> tuple[UserRecord, dt.datetime] | None:
        """The user an API token acts as, and when it expires; None for an unknown or
        revoked token."""
        row = self._one_row(USER_BY_TOKEN, token_hash)
        return None if row is None else (user_row(row[:8]), driver_time(row[8]))

    def user_by_session(self, token_hash: str) -> tuple[UserRecord, SessionRecord] | None:
        row = self._one_row(USER_BY_SESSION, token_hash)
        if row is None:
            return None
        user = user_row(row[:8])
        session = SessionRecord(
            token_hash, user.id, row[8], driver_time(row[9]), driver_time(row[10])
        )
        return user, session

    def ledger_bounds(self) -> tuple[int, int]:
        """The lowest and highest sequence numbers on the ledger ((0, 0) when it is empty)."""
        with database_errors(), self.database.engine.connect() as connection:
            low, high = connection.execute(
                select(func.min(LedgerEvent.seq), func.max(LedgerEvent.seq))
            ).one()
        return int(low or 0), int(high or 0)

    def ledger_count(self) -> int:
        """How many rows the ledger's table holds: as many as the chain's events, unless a row
        is there that the chain does not reach (a sequence number that is no whole number,
        or none)."""
        with database_errors(), self.database.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(LedgerEvent)).scalar_one()
            )

    def _driver_rows(self, sql: str, params: tuple[int, int], batch: int) -> Generator[list[Any]]:
        """Rows of ``sql``, events ``params`` (first, last), in batches, straight from the driver,
        no ORM rows (``dialect.driver_batches``)."""
        with database_errors(), self.database.engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            is_sqlite = self.database.is_sqlite
            yield from driver_batches(driver, sql, params, batch, is_sqlite=is_sqlite)

    def ledger_rows(self, first: int, last: int, batch: int = 10_000) -> Generator[list[Row]]:
        """Events ``first``..``last`` as ``core.chain.Row``, in batches, ready to check."""
        sql = ledger_rows_sql(is_sqlite=self.database.is_sqlite)
        for rows in self._driver_rows(sql, (first, last), batch):
            yield [(*row, None) for row in rows]

    def ledger_seals(
        self, first: int, last: int, batch: int = 10_000
    ) -> Generator[list[tuple[int, str, str | None]]]:
        """``(seq, hash, seal)`` of events ``first``..``last``, in batches."""
        sql = ledger_seals_sql(is_sqlite=self.database.is_sqlite)
        yield from self._driver_rows(sql, (first, last), batch)

    def hidden_events(self, level: int, up_to: int) -> list[int]:
        """The sequence numbers, up to ``up_to``, of the events of cases classified above
        ``level`` (or of no case the table holds): what an export for that level redacts."""
        query = (
            select(LedgerEvent.seq)
            .outerjoin(Case, Case.id == LedgerEvent.case_id)
            .where(
                LedgerEvent.seq <= up_to,
                LedgerEvent.case_id.is_not(None),
                Case.id.is_(None) | (Case.classification > level),
            )
            .order_by(LedgerEvent.seq)
        )
        with database_errors(), self.database.reader.connect() as connection:
            return [int(seq) for seq in connection.execute(query).scalars()]

    def ledger_links(
        self, batch: int = 10_000, up_to: int | None = None
    ) -> Generator[tuple[Link, int | None]]:
        """Every event (up to ``up_to``) in sequence order with the level of its case (None: no
        case), streamed for export."""
        bound = [] if up_to is None else [LedgerEvent.seq <= up_to]
        with database_errors(), self.database.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=batch).execute(
                select(
                    LedgerEvent.seq,
                    LedgerEvent.type,
                    LedgerEvent.case_id,
                    LedgerEvent.prev_hash,
                    LedgerEvent.hash,
                    LedgerEvent.scheme,
                    LedgerEvent.body,
                    LedgerEvent.seal,
                    Case.classification,
                )
                .outerjoin(Case, Case.id == LedgerEvent.case_id)
                .where(*bound)
                .order_by(LedgerEvent.seq)
            )
            try:
                for seq, kind, case_id, prev, hash_, scheme, body, seal, level in result:
                    link = Link(
                        seq,
                        as_text(kind),
                        as_text(case_id),
                        as_text(prev),
                        as_text(hash_),
                        scheme,
                        as_text(body),
                        as_text(seal),
                    )
                    yield link, level
            finally:
                result.close()

    def ledger_bodies(self, last: int, batch: int = 10_000) -> Iterator[tuple[int, str, str]]:
        """The ``(seq, prev_hash, body)`` of events 1 to ``last`` (those the chain checked) in
        sequence order, streamed (to rebuild the facts and check the statements)."""
        sql = (
            "SELECT seq, CAST(prev_hash AS TEXT), body FROM ledger WHERE seq BETWEEN ? AND ?"
            " ORDER BY seq"
        )
        sql = driver_sql(sql, is_sqlite=self.database.is_sqlite)
        for rows in self._driver_rows(sql, (1, last), batch):
            yield from rows

    def table_rows(self, table: str) -> Iterator[dict[str, Any]]:
        """Every row of one table as column → value, in key order (times as aware UTC).

        Times, dates and booleans are read as the driver hands them back and parsed here: on
        SQLite a column holds whatever it was given, and a value that is not of its type is
        kept as found, for the check to name, rather than failing the read."""
        found = Base.metadata.tables[table]
        kinds = {c.name: c.type for c in found.columns}
        columns = [
            type_coerce(c, String).label(c.name)
            if isinstance(c.type, (Date, DateTime, Boolean))
            else c
            for c in found.columns
        ]
        with database_errors(), self.database.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=5_000).execute(
                select(*columns).order_by(*found.primary_key.columns)
            )
            try:
                for row in result.mappings():
                    yield {k: _as_found(v, kinds[k]) for k, v in row.items()}
            finally:
                result.close()
