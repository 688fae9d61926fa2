"""Stored cases read in bulk, by the date of their request, for replay under another policy.

Replay reads every case of a period once, in case-number order, and needs
only five columns of each, and of the decision only what it compares
(``compared_parts``: most of replay's time went on decoding whole records):
a plain streamed query (a server-side cursor on
PostgreSQL) rather than pages of ``Transaction.cases.page``, whose offsets would
read the table again for every page. The request's date lives in the
request's JSON, so the period is a filter on that JSON, written in each
database's own dialect (dialect.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import func, select

from clearance.core.decision import RecordedDecision
from clearance.core.request import StoredRequest
from clearance.core.workflow import CaseState
from clearance.store.compared_parts import ComparedParts, read_compared, read_request_text
from clearance.store.db import database_errors
from clearance.store.dialect import request_date
from clearance.store.models import Case
from clearance.store.repository import Store

__all__ = [
    "StoredCase",
    "case_numbers",
    "count_stored_cases",
    "stored_cases",
    "stored_cases_between",
]


class StoredCase(NamedTuple):
    """What replay needs of one case, read as ``CaseRecord`` reads them (each worker reads
    its own rows, so nothing here crosses between processes)."""

    id: str
    number: int
    request: StoredRequest
    decision: ComparedParts | RecordedDecision
    """What replay compares of the recorded decision; a whole record, where one is at hand,
    serves as well."""
    state: CaseState


def _in_period(store: Store, first: dt.date | None, last: dt.date | None) -> list[Any]:
    """ISO dates compare as text, so the period needs no date parsing in the database."""
    date = request_date(is_sqlite=store.database.is_sqlite)
    filters = []
    if first is not None:
        filters.append(date >= first.isoformat())
    if last is not None:
        filters.append(date <= last.isoformat())
    return filters


def count_stored_cases(store: Store, *, first: dt.date | None, last: dt.date | None) -> int:
    """How many cases have a request dated in the period (for a progress bar)."""
    query = select(func.count()).select_from(Case).where(*_in_period(store, first, last))
    with database_errors(), store.database.reader.connect() as connection:
        return int(connection.scalar(query) or 0)


def _select(store: Store, first: dt.date | None, last: dt.date | None, *where: Any) -> Any:
    """The five columns replay reads, of the cases dated in the period, in number order."""
    return (
        select(Case.id, Case.number, Case.request, Case.decision, Case.state)
        .where(*where, *_in_period(store, first, last))
        .order_by(Case.number)
    )


def _row(r: Any) -> StoredCase:
    case_id = str(r[0])
    return StoredCase(
        case_id, int(r[1]), read_request_text(r[2]), read_compared(r[3], case_id), CaseState(r[4])
    )


def stored_cases(
    store: Store, *, first: dt.date | None, last: dt.date | None, batch: int = 500
) -> Iterator[list[StoredCase]]:
    """Cases whose request is dated in the period, in number order, ``batch`` at a time."""
    query = _select(store, first, last)
    with database_errors(), store.database.reader.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=batch).execute(query)
        try:
            for rows in result.partitions():
                yield [_row(r) for r in rows]
        finally:
            result.close()


def case_numbers(store: Store, *, first: dt.date | None, last: dt.date | None) -> list[int]:
    """The numbers of the cases dated in the period, in order: how work is split among workers."""
    query = select(Case.number).where(*_in_period(store, first, last)).order_by(Case.number)
    with database_errors(), store.database.reader.connect() as connection:
        return [int(n) for n in connection.scalars(query)]


def stored_cases_between(
    store: Store, low: int, high: int, *, first: dt.date | None, last: dt.date | None
) -> list[StoredCase]:
    """The cases numbered ``low``..``high`` dated in the period (one worker's share)."""
    query = _select(store, first, last, Case.number.between(low, high))
    with database_errors(), store.database.reader.connect() as connection:
        return [_row(r) for r in connection.execute(query)]
