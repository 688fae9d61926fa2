"""The database's own check of its file: every index agrees with its table.

Ordinary SQL keeps an index and its table alike; an edit of the database file,
or of the schema itself (SQLite's ``writable_schema``), can make them differ.
Queries that read an index alone would then see the index's values and not
the table's: replay's first reading of a period reads the outcome and the
columns it classes cases by from ``ix_cases_replay`` alone
(store/stored_cases.py), and the dashboard's summaries read their covering
indexes. ``audit verify`` compares the tables with the ledger by reading the
tables, so it asks the database, too, whether its indexes still match them.

SQLite answers with ``PRAGMA integrity_check``, which reads the whole file
(through the reading connection, so writers are not held up); a file so
damaged that the check cannot finish is itself the answer. PostgreSQL has no
such check in its core (``amcheck`` is an extension that a superuser must
install), so there the answer is that nothing was checked.
"""

from __future__ import annotations

from sqlalchemy.exc import DatabaseError

from clearance.store.db import store_error
from clearance.store.repository import Store

__all__ = ["file_problems"]

MOST_NAMED = 20
"""How many of SQLite's lines a report names; the check stops after 100 by itself."""


def file_problems(store: Store) -> list[str] | None:
    """What the database finds wrong in its file (empty if nothing), or None where it has no
    such check (PostgreSQL)."""
    if not store.database.is_sqlite:
        return None
    try:
        with store.database.reader.connect() as connection:
            rows = connection.exec_driver_sql("PRAGMA integrity_check")
            found = [str(row[0]) for row in rows]
    except DatabaseError as exc:  # the file does not read far enough to be checked
        return [store_error(str(exc.orig)).message]
    if found == ["ok"]:
        return []
    more = len(found) - MOST_NAMED
    return found[:MOST_NAMED] + ([f"and {more} more"] if more > 0 else [])
