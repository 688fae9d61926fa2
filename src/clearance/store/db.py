"""Opening the database: SQLite (WAL) embedded, or PostgreSQL 15 through psycopg 3.

Writes are serialised by the database itself, never by a lock in this
process, so any number of processes can share one database:

- on SQLite every write transaction starts with ``BEGIN IMMEDIATE``, taking the
  write lock up front (a deferred transaction could read the ledger head,
  then lose the race to upgrade its lock);
- on PostgreSQL a transaction that appends to the ledger first takes a
  transaction-scoped advisory lock (see ``ledger.py``).

SQLite syncs its write-ahead log at every commit (``synchronous=FULL``) unless
told otherwise: with ``NORMAL`` a commit is acknowledged before it is on disk,
and a power failure can lose the last ones (docs/operations.md).

The schema comes only from the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from clearance.errors import InputError, StoreError
from clearance.settings import SQLITE_SYNCHRONOUS

__all__ = ["Database", "open_database"]

_MIGRATIONS = Path(__file__).parent / "migrations"

READ_ONLY = "clearance_read_only"
"""Execution option of a transaction that only reads (``Database.reader``)."""


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision``, the newest by default (a no-op when it is there)."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    reader: Engine
    """The same engine and pool, for transactions that only read: on SQLite they do not
    take the write lock, so reads never queue behind each other or behind a writer."""

    def dispose(self) -> None:
        self.engine.dispose()


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


def open_database(url: str, *, create_dir: bool = True, synchronous: str = "FULL") -> Database:
    """An engine for ``url``; a SQLite file's folder is created on first use.

    ``synchronous`` (FULL or NORMAL) is SQLite's; PostgreSQL syncs every commit.
    """
    if synchronous not in SQLITE_SYNCHRONOUS:  # it goes into a PRAGMA: only the known words
        raise InputError(
            "CLEARANCE_SQLITE_SYNCHRONOUS", f"must be FULL or NORMAL, not '{synchronous}'"
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError("CLEARANCE_DATABASE_URL", f"'{url}' is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and create_dir:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, synchronous=synchronous))
        event.listen(engine, "begin", _sqlite_begin)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
    else:
        raise InputError("CLEARANCE_DATABASE_URL", "only sqlite and postgresql are supported")
    database = Database(engine, engine.execution_options(**{READ_ONLY: True}))
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise StoreError(
            f"cannot open the database: {str(exc.orig).strip().splitlines()[0]}"
        ) from None
    return database


def existing_database(url: str) -> Database | None:
    """The database at ``url`` if there is one to read, else None; nothing is created.

    For commands that work without a database but should see what one holds.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return None
        if not Path(parsed.database).exists():
            return None
    try:
        return open_database(url, create_dir=False)
    except StoreError:
        return None
