"""Opening the database: SQLite (WAL) embedded, or PostgreSQL 15 through psycopg 3.

Writes are serialised by the database itself, never by a lock in this
process, so any number of processes can share one database:

- on SQLite every write transaction starts with ``BEGIN IMMEDIATE``, taking the
  write lock up front (a deferred transaction could read the ledger head,
  then lose the race to upgrade its lock);
- on PostgreSQL a transaction that appends to the ledger first takes a
  transaction-scoped advisory lock (see ``dialect.py``).

SQLite syncs its write-ahead log at every commit (``synchronous=FULL``) unless
told otherwise: with ``NORMAL`` a commit is acknowledged before it is on disk,
and a power failure can lose the last ones (docs/operations.md).

The schema comes only from the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
)

from clearance.errors import InputError, StoreError
from clearance.settings import SQLITE_SYNCHRONOUS
from clearance.store.dialect import READ_ONLY, postgresql_engine, sqlite_engine

__all__ = [
    "NOT_INITIALISED",
    "Database",
    "database_errors",
    "existing_database",
    "not_made",
    "open_database",
    "store_error",
]

_MIGRATIONS = Path(__file__).parent / "migrations"
NOT_INITIALISED = "the database is not initialised; run 'clearance init'"


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision``, the newest by default (a no-op when it is there).

        Alembic is imported here, not with the module: a tenth of a second that only the
        commands and servers that migrate need to pay."""
        from alembic import command
        from alembic.config import Config

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
        engine = sqlite_engine(parsed, synchronous=synchronous)
    elif parsed.get_backend_name() == "postgresql":
        engine = postgresql_engine(parsed)
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


def not_made(url: str) -> bool:
    """Whether ``url`` names a SQLite file that is not there yet, which opening would create
    empty: a command that only uses a database refuses it (``NOT_INITIALISED``) instead of
    leaving an empty file behind that is not a database clearance set up."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).exists()


def existing_database(url: str) -> Database | None:
    """The database at ``url`` if there is one to read, else None; nothing is created.

    For commands that work without a database but should see what one holds.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    if in_memory or not_made(url):
        return None
    try:
        return open_database(url, create_dir=False)
    except StoreError:
        return None


@contextmanager
def database_errors() -> Iterator[None]:
    """A database that cannot answer, or a file that no longer reads as one, is a one-line
    ``StoreError``; a missing schema says what to do; a broken constraint goes up as it is."""
    try:
        yield
    except DataError:
        raise InputError(
            "input", "holds a value the database cannot store (such as a NUL character)"
        ) from None
    except UnicodeEncodeError:
        raise InputError("input", "holds text that is not Unicode (a lone surrogate)") from None
    except (OperationalError, ProgrammingError) as exc:
        raise store_error(str(exc.orig)) from None
    except IntegrityError:
        raise
    except DatabaseError as exc:  # such as a file that no longer reads as a database
        raise store_error(str(exc.orig)) from None


def store_error(text: str) -> StoreError:
    """A database's error as one line; a missing schema says what to do."""
    message = text.strip().splitlines()[0] if text.strip() else "unknown error"
    if "no such table" in message or "does not exist" in message:
        return StoreError(NOT_INITIALISED)
    return StoreError(f"database error: {message}")
