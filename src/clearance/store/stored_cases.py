"""Stored cases read in bulk, by the date of their request, for replay under another policy.

Replay reads every case of a period once, in case-number order: a plain
streamed query (a server-side cursor on PostgreSQL) rather than pages of
``Transaction.cases.page``, whose offsets would read the table again for every
page. It first reads each case as a ``KeyedCase``: the columns it groups cases
by (core/case_keys.py) and the recorded outcome, nothing of the request or
decision; a case replay must judge whole is then read again by number
(``whole_reader``) as a ``StoredCase``: the request, and of the decision
only what replay compares (``compared_parts``: decoding whole records was most
of replay's time once). The period is a filter on the ``asked_on`` column, or,
for a case stored without it, on the date in the request's JSON, written in
each database's own dialect (dialect.py). A ``KeyedCase`` is read from the
index ``ix_cases_replay`` alone (migration 0014): its columns sit at the end of
the row, and reading them from the table read the request's and the decision's
texts from disk too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, select, union_all

from clearance.core.decision import RecordedDecision
from clearance.core.events import PayloadError
from clearance.core.request import StoredRequest
from clearance.errors import DamagedRecord
from clearance.store.case_text import stored_state
from clearance.store.compared_parts import ComparedParts, read_compared, read_request_text
from clearance.store.db import database_errors
from clearance.store.dialect import one_of, request_date
from clearance.store.models import Case
from clearance.store.repository import Store

T = TypeVar("T")

__all__ = [
    "KeyedCase",
    "StoredCase",
    "count_stored_cases",
    "keyed_cases",
    "keyed_cases_between",
    "number_span",
    "stored_cases",
    "whole_reader",
]


class StoredCase(NamedTuple):
    """What replay needs of one case, read as ``CaseRecord`` reads them (each worker reads
    its own rows, so nothing here crosses between processes)."""

    id: str
    number: int
    request: StoredRequest
    decision: ComparedParts | RecordedDecision | PayloadError
    """What replay compares of the recorded decision; a whole record, where one is at hand,
    serves as well; for a record that does not read, why (the case is named as not judged)."""
    state: str
    """The state column as stored: a case state, or the case is named as not judged."""


class KeyedCase(NamedTuple):
    """A stored case as replay first reads it: its number, the outcome on record and the
    columns it groups cases by (each None for a case stored without them); ``whole_reader``
    reads it whole."""

    number: int
    outcome: str
    asked_on: str | None
    quantity: int | None
    request_shape: str | None
    stockpile_digest: str | None


def _between(date: Any, first: dt.date | None, last: dt.date | None) -> list[Any]:
    """ISO dates compare as text, so the period needs no date parsing in the database."""
    filters = []
    if first is not None:
        filters.append(date >= first.isoformat())
    if last is not None:
        filters.append(date <= last.isoformat())
    return filters


def _dated(
    store: Store, columns: tuple[Any, ...], first: dt.date | None, last: dt.date | None, *where: Any
) -> Any:
    """``columns`` of the cases dated in the period: by their ``asked_on`` column, and, for
    the few stored without it, by the date in their request's JSON. Two queries joined, not
    one test of either, so that the first is read from an index alone where ``columns``
    are in it (``ix_cases_replay``) and the second walks only the cases without the column
    (``ix_cases_undated``)."""
    if first is None and last is None:
        return select(*columns).where(*where)
    by_column = select(*columns).where(*where, *_between(Case.asked_on, first, last))
    date = request_date(is_sqlite=store.database.is_sqlite)
    undated = select(*columns).where(*where, Case.asked_on.is_(None), *_between(date, first, last))
    return union_all(by_column, undated)


_WHOLE = (Case.id, Case.number, Case.request, Case.decision, Case.state)
"""The five columns of a case read whole (``_row``)."""

_KEYED = (
    Case.number,
    Case.outcome,
    Case.asked_on,
    Case.quantity,
    Case.request_shape,
    Case.stockpile_digest,
)
"""The columns of a ``KeyedCase``, in its order."""


def _select(
    store: Store, columns: tuple[Any, ...], first: dt.date | None, last: dt.date | None, *where: Any
) -> Any:
    """``columns`` of the cases dated in the period, in number order."""
    query = _dated(store, columns, first, last, *where)
    return query.order_by(query.selected_columns.number)


def _number(value: Any) -> int:
    """A case number as stored; ``DamagedRecord`` for one that is no whole number, which only
    SQLite keeps (it keeps a value in the type it was written with) and clearance never
    writes: a case is known by its number, so nothing can be said of it without one."""
    if isinstance(value, int):
        return value
    raise DamagedRecord(  # not the value: it may be of a case the reader may not see
        "the cases table holds a case number not stored as a whole number;"
        " 'clearance audit verify' names every record changed outside clearance"
    )


def _row(r: Any) -> StoredCase:
    case_id, state = str(r[0]), r[4]
    decision: ComparedParts | PayloadError
    if stored_state(state) is None:
        decision = PayloadError(f"case {case_id}'s state column holds no case state")
    else:
        try:
            decision = read_compared(r[3], case_id)
        except PayloadError as exc:
            # Its words alone: the error raised holds, through its traceback, this frame,
            # which holds it, a reference cycle per damaged case that replay, its collector
            # paused, would keep to its end (service/collector.py).
            decision = PayloadError(str(exc))
    return StoredCase(case_id, _number(r[1]), read_request_text(r[2]), decision, str(state))


def _streamed(store: Store, query: Any, make: Callable[[Any], T], batch: int) -> Iterator[list[T]]:
    """The rows of ``query`` made into ``make``'s values, ``batch`` at a time, streamed."""
    with database_errors(), store.database.reader.connect() as connection:
        streamed = connection.execution_options(stream_results=True)  # pragma: no mutate
        result = streamed.execution_options(yield_per=batch).execute(query)
        try:
            for rows in result.partitions():
                yield [make(r) for r in rows]
        finally:
            result.close()


def stored_cases(store: Store, *, batch: int) -> Iterator[list[StoredCase]]:
    """Every stored case read whole, in number order, ``batch`` at a time."""
    in_order = select(*_WHOLE).order_by(Case.number)  # pragma: no mutate
    return _streamed(store, in_order, _row, batch)


def keyed_cases(
    store: Store, *, first: dt.date | None, last: dt.date | None, batch: int
) -> Iterator[list[KeyedCase]]:
    """Cases whose request is dated in the period, in number order, ``batch`` at a time.

    SQLite orders a value of text or bytes after every number, so a case number stored
    so ends the stream: the last number of each batch is checked (``_number``), not each."""
    for rows in _streamed(store, _select(store, _KEYED, first, last), KeyedCase._make, batch):
        _number(rows[-1].number)
        yield rows


def keyed_cases_between(
    store: Store, low: int, high: int, *, first: dt.date | None, last: dt.date | None
) -> list[KeyedCase]:
    """The cases numbered ``low``..``high`` dated in the period (one worker's share)."""
    query = _select(store, _KEYED, first, last, Case.number.between(low, high))
    with database_errors(), store.database.reader.connect() as connection:
        return [KeyedCase._make(r) for r in connection.execute(query)]


WholeCases = Callable[[Collection[int]], dict[int, StoredCase]]
"""Reads the cases of some numbers whole, by number (``whole_reader``)."""


@contextmanager
def whole_reader(store: Store) -> Iterator[WholeCases]:
    """Reads cases whole by number, one query a call, all on one connection held until the
    block ends: replay asks a few hundred times, and on PostgreSQL a connection taken from
    the pool for each (and checked on the way) cost more than the rows did."""
    numbered = one_of(Case.number, "numbers", is_sqlite=store.database.is_sqlite)
    query = select(*_WHOLE).where(numbered)
    with database_errors(), store.database.reader.connect() as connection:

        def read(numbers: Collection[int]) -> dict[int, StoredCase]:
            if not numbers:
                return {}
            found = connection.execute(query, {"numbers": list(numbers)})
            return {case.number: case for case in map(_row, found)}

        yield read


def number_span(
    store: Store, *, first: dt.date | None, last: dt.date | None
) -> tuple[int, int, int] | None:
    """The lowest and the highest number of the cases dated in the period, and how many there
    are (None for none): how work is split among workers, in one query."""
    dated = _dated(store, (Case.number,), first, last).subquery()
    query = select(func.min(dated.c.number), func.max(dated.c.number), func.count())
    with database_errors(), store.database.reader.connect() as connection:
        low, high, count = connection.execute(query).one()
    return (_number(low), _number(high), int(count)) if count else None


def count_stored_cases(store: Store, *, first: dt.date | None, last: dt.date | None) -> int:
    """How many cases have a request dated in the period (for a progress bar)."""
    span = number_span(store, first=first, last=last)
    return 0 if span is None else span[2]
