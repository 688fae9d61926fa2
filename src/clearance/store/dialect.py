"""Everything the store does differently on SQLite and on PostgreSQL, in one place.

The rest of the store writes one query for both databases; what cannot be
written once is here, behind a named function, so that a change to how one
database is used is made (and reviewed) beside the other:

- opening: SQLite's pragmas and ``BEGIN IMMEDIATE``; PostgreSQL's pool;
- serialising writers: SQLite's write lock is taken at ``BEGIN``, PostgreSQL
  takes a transaction-scoped advisory lock;
- taking work rows (the outbox) that another process is taking at the same
  time: PostgreSQL's ``FOR UPDATE SKIP LOCKED``; SQLite has one writer;
- SQL the two spell differently (an upsert, a month of a time, a field of JSON text,
  casts of what SQLite may hand back as a BLOB, the driver's placeholders, a list
  of numbers bound as one value);
- reading every event from the driver: one cursor on SQLite, a query per batch on
  PostgreSQL;
- values as the drivers hand them back (SQLite keeps a value in the type it
  was written with; sqlite3 returns times as text).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Select,
    String,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from clearance.store.models import Case, DecisionCount
from clearance.store.records import aware

__all__ = [
    "READ_ONLY",
    "as_text",
    "count_more",
    "driver_batches",
    "driver_sql",
    "driver_time",
    "ledger_rows_sql",
    "ledger_seals_sql",
    "lock_writers",
    "one_of",
    "postgresql_engine",
    "request_date",
    "skip_locked",
    "sqlite_engine",
    "utc_month",
]

READ_ONLY = "clearance_read_only"
"""Execution option of a transaction that only reads (``Database.reader``)."""

_WRITERS_LOCK = 0x636C_6561  # "clea": the advisory lock that serialises ledger appends


# opening ------------------------------------------------------------------------------


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, synchronous: str) -> None:
    # Autocommit at the driver level: transactions are begun explicitly below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Readers begin deferred (WAL lets them run beside the one writer); writers take
    # the write lock up front.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def sqlite_engine(url: URL, *, synchronous: str) -> Engine:
    """An engine whose connections are in WAL mode and whose writers lock at ``BEGIN``."""
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", functools.partial(_sqlite_pragmas, synchronous=synchronous))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def postgresql_engine(url: URL) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# serialising writers ---------------------------------------------------------------------


def lock_writers(session: Session, *, is_sqlite: bool) -> None:
    """Queue behind every other writer until this transaction ends: on SQLite ``BEGIN
    IMMEDIATE`` already has, on PostgreSQL an advisory lock does."""
    if not is_sqlite:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITERS_LOCK})


def skip_locked(query: Select[Any], *, is_sqlite: bool) -> Select[Any]:
    """``query`` locking the rows it reads and passing over rows another transaction has
    locked (PostgreSQL), so concurrent takers each get rows of their own; on SQLite, whose
    writers hold the one write lock from ``BEGIN IMMEDIATE``, the query as it is."""
    return query if is_sqlite else query.with_for_update(skip_locked=True)


# SQL spelled differently -------------------------------------------------------------------


@functools.cache
def count_more(*, is_sqlite: bool) -> Any:
    """The upsert adding ``:count`` more to ``decision_counts``' row of (``:month``, ``:kind``,
    ``:level``), made at ``:count`` if it is not there yet: built once per database and run
    with every row's values in one call (both databases spell the upsert alike, but through
    their own dialect's ``insert``)."""
    made = (sqlite_insert if is_sqlite else postgresql_insert)(DecisionCount)
    return made.on_conflict_do_update(
        index_elements=["month", "kind", "level"],
        set_={"count": DecisionCount.count + made.excluded.count},
    )


def utc_month(column: Any, *, is_sqlite: bool) -> ColumnElement[Any]:
    """``YYYY-MM`` of a stored time, in UTC."""
    if is_sqlite:
        # Times are stored as UTC text ("2025-06-15 09:00:00…"): the month is its start.
        month: ColumnElement[Any] = func.substr(column, 1, 7)
        return month
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def request_date(*, is_sqlite: bool) -> ColumnElement[Any]:
    """The ``date`` field of a case's request (JSON kept as text), as text."""
    date: ColumnElement[Any] = (
        func.json_extract(Case.request, "$.date", type_=String)
        if is_sqlite
        else cast(Case.request, JSONB)["date"].astext
    )
    return date


def one_of(column: Any, name: str, *, is_sqlite: bool) -> Any:
    """``column`` is one of the whole numbers bound as ``name``, a list. On PostgreSQL
    ``= ANY`` of one array: every call is then the same statement, which psycopg prepares
    and the server plans once, whatever the list's length (an ``IN`` of one placeholder per
    number is a new statement for every length). SQLite compiles either alike."""
    if is_sqlite:
        return column.in_(bindparam(name, expanding=True))
    return column == any_(bindparam(name, type_=ARRAY(BigInteger)))


def driver_sql(sql: str, *, is_sqlite: bool) -> str:
    """SQL written with ``?`` placeholders (sqlite3's) in the placeholders of the driver."""
    return sql if is_sqlite else sql.replace("?", "%s")


def ledger_rows_sql(*, is_sqlite: bool) -> str:
    """Events ``?``..``?`` as (seq, scheme, type, case_id, prev_hash, hash, body as bytes):
    ``core.chain.Row`` without body_hash. SQLite returns a value in the type it was written
    with: the texts are cast back to text."""
    if is_sqlite:
        return (
            "SELECT seq, scheme, CAST(type AS TEXT), CAST(case_id AS TEXT),"
            " CAST(prev_hash AS TEXT), CAST(hash AS TEXT), CAST(body AS BLOB) FROM ledger"
            " WHERE seq BETWEEN ? AND ? ORDER BY seq"
        )
    return (
        "SELECT seq, scheme, type, case_id, prev_hash, hash, convert_to(body, 'UTF8') FROM ledger"
        " WHERE seq BETWEEN %s AND %s ORDER BY seq"
    )


def ledger_seals_sql(*, is_sqlite: bool) -> str:
    """``(seq, hash, seal)`` of events ``?``..``?``."""
    if is_sqlite:
        return (
            "SELECT seq, CAST(hash AS TEXT), CAST(seal AS TEXT) FROM ledger"
            " WHERE seq BETWEEN ? AND ? ORDER BY seq"
        )
    return "SELECT seq, hash, seal FROM ledger WHERE seq BETWEEN %s AND %s ORDER BY seq"


# the drivers ----------------------------------------------------------------------------


def driver_batches(
    driver: Any, sql: str, params: tuple[int, int], batch: int, *, is_sqlite: bool
) -> Iterator[list[Any]]:
    """The rows of ``sql``, events ``params`` (first, last) in sequence order, in lists of at
    most ``batch``, straight from the driver (verification reads every event).

    SQLite: one plain cursor. PostgreSQL: one query per batch (``LIMIT`` appended to
    ``sql``, whose first column is ``seq``): a server-side cursor's fetches cost the server
    4.2 µs an event against 2.5, which on two cores shared with the verifier made the whole
    check 20% slower (docs/benchmarks.md).

    Each batch starts at the last number read, skipping as many rows of that number as were
    already handed on, rather than at the next number: so a gap of any width (a number
    forged far below 1, which verification reads from on purpose) costs one query, and rows
    an attacker adds where no key forbids them (a copy of an event once the primary key is
    dropped; a number between two events once ``seq`` is no longer whole) are read even
    where a batch ends, for the check to name as before; nothing is computed from a number
    read, so none can overflow or fail to advance."""
    if is_sqlite:
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()
        return
    low, last = params
    seen = 0  # rows numbered ``low`` already handed on
    with driver.cursor(binary=True) as cursor:
        while True:
            rows = cursor.execute(f"{sql} LIMIT %s", (low, last, batch + seen)).fetchall()[seen:]
            if not rows:
                return
            yield rows
            top = rows[-1][0]
            tied = 0
            for row in reversed(rows):
                if row[0] != top:
                    break
                tied += 1
            seen = seen + tied if top == low else tied
            low = top


def as_text(value: Any) -> Any:
    """A text column's value as text: SQLite keeps a value in whatever type it was written with,
    so the same bytes may come back as a BLOB."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def driver_time(value: Any) -> dt.datetime:
    """A time as the driver hands it back: a datetime (psycopg) or ISO text (sqlite3)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return aware(value)
