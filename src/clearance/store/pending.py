"""Rows a transaction has made but not yet sent: written many to a statement.

A batch of submissions makes, per case, a case row, its search words, its
conditions, two or three ledger events and one more decision in its month's
count. Sent as made, that is a statement each, and each statement costs the
driver and SQLAlchemy more than the row. So these rows are kept here and sent
as one multi-row INSERT per table (and one upsert of the counts), a table
after those its rows name (a case before its conditions).

Nothing may read around them: they are sent before any statement that writes
(a row of another table may name a pending case), before any read of a table
they are for and before the session's own flush (``Pending.watch``), and
before the transaction commits (the store sends them then). A read that names
the tables it reads in its execution options (``READS``) is checked against
those; any other read's tables are found by walking the statement, which
costs more than a simple query. So a transaction sees its own rows as if each
had been written at once; a row the database refuses is refused when they are
sent, as a ``ConflictError`` saying what its table's rows conflict over.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any, TypeVarTuple

from sqlalchemy import Insert, MetaData, Select, Table, event, insert
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables

from clearance.errors import ConflictError

__all__ = ["Pending"]

READS = "clearance_reads"
"""The execution option naming, as a frozenset, every table a read reads (subqueries too)."""

Row = TypeVarTuple("Row")
"""The columns of the row a read returns, as its statement says."""

Count = tuple[str, str, int]
"""A row of ``decision_counts``: (month, kind, level)."""


class Pending:
    """The rows one session holds back, per table, and the decision counts to add."""

    def __init__(
        self,
        session: Session,
        *,
        conflicts: dict[str, str],
        count_more: Executable,
    ) -> None:
        self._session = session
        self._conflicts = conflicts
        self._count_more = count_more
        self._rows: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
        self._counts: Counter[Count] = Counter()
        self._sending = False

    def watch(self) -> None:
        """Send the rows before any statement or flush of the session that could see them."""
        event.listen(self._session, "do_orm_execute", self._before_statement)
        event.listen(self._session, "before_flush", self._before_flush)

    def add(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Rows for ``table`` (whose conflicts ``conflicts`` names), sent later."""
        if rows:
            self._rows.setdefault(table.name, (table, []))[1].extend(rows)

    def count(self, month: str, kind: str, level: int) -> None:
        """One more first decision in (month, kind, level) of ``decision_counts``."""
        self._counts[(month, kind, level)] += 1

    def send(self) -> None:
        """Every row held: one INSERT per table, and one upsert of every count."""
        if self._sending or not (self._rows or self._counts):
            return
        self._sending = True
        try:
            rows, self._rows = self._rows, {}
            counts, self._counts = self._counts, Counter()
            # Straight to the connection: plain rows of plain tables need none of the ORM.
            connection = self._session.connection()
            for table, made in sorted(rows.values(), key=lambda r: _rank(r[0].metadata)[r[0].name]):
                try:
                    connection.execute(_insert(table), made)
                except IntegrityError:
                    raise ConflictError(self._conflicts[table.name]) from None
            if counts:
                connection.execute(
                    self._count_more,
                    [
                        {"month": month, "kind": kind, "level": level, "count": more}
                        for (month, kind, level), more in sorted(counts.items())
                    ],
                )
        finally:
            self._sending = False

    def read(
        self, statement: Select[*Row], reads: frozenset[str], params: dict[str, Any] | None = None
    ) -> Result[*Row]:
        """``statement`` (with ``params``), a read of the tables ``reads``, run straight on the
        connection as the session would run it: the session's own changes flushed and the
        rows held for those tables sent first. For the reads each submission makes, whose
        cost was mostly the ORM's handling of a statement that needs none of it."""
        self._session.flush()
        if not self._held().isdisjoint(reads):
            self.send()
        return self._session.connection().execute(statement, params)

    def _before_statement(self, state: ORMExecuteState) -> None:
        if self._sending or not (self._rows or self._counts):
            return
        if state.is_select and not self._reads_pending(state):
            return  # a read of other tables (stock, users): nothing held can change it
        self.send()

    def _held(self) -> set[str]:
        """The tables whose rows are held back (``decision_counts`` for the counts)."""
        return set(self._rows) | ({"decision_counts"} if self._counts else set())

    def _reads_pending(self, state: ORMExecuteState) -> bool:
        held = self._held()
        named = state.execution_options.get(READS)
        if named is not None:
            return not held.isdisjoint(named)
        statement = state.statement
        if not isinstance(statement, ClauseElement):
            return True
        found = find_tables(statement, include_joins=True, include_selects=True)
        return any(getattr(t, "name", None) in held for t in found)

    def _before_flush(self, *_: object) -> None:
        self.send()


@cache
def _insert(table: Table) -> Insert:
    """The INSERT of ``table``'s rows, built once."""
    return insert(table)


@cache
def _rank(metadata: MetaData) -> dict[str, int]:
    """Each table's place in an order where a table comes after those its rows name."""
    return {t.name: i for i, t in enumerate(metadata.sorted_tables)}
