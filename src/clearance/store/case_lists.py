"""Reading many cases at once: pages, counts, overdue cases and the dashboard's figures.

The base of ``CaseTables`` (reached through ``Transaction.cases``): the reads
of lists and reports, which share one set of filters (state, level,
submitter, search), apart from the reads and writes of one case. Every
filter is an indexed lookup, so a page or a count never reads the whole
table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from clearance.core.access import Level
from clearance.core.workflow import OPEN_STATES, CaseState
from clearance.store.case_text import read_request, stored_decision, stored_state
from clearance.store.dialect import utc_month
from clearance.store.models import Approval, Case, CaseTerm, DecisionCount
from clearance.store.records import CaseRecord, aware

__all__ = ["CaseLists", "CaseOrder", "CaseSearch", "case_record"]


def _in_states(states: Sequence[str]) -> Any:
    """The filter for cases in ``states``; exactly the open ones walk the open-cases index."""
    if frozenset(states) == OPEN_STATES:
        return Case.is_open.is_(True)
    return Case.state.in_(list(states))


@dataclass(frozen=True, slots=True)
class CaseSearch:
    """Cases whose system or requester is one of these, whose submitter is ``text``, whose
    number is ``number``, or that are found by one of ``terms`` (``case_terms``: territory,
    region, recipient, office, policy); each an indexed lookup, so a search never reads the
    whole table."""

    systems: tuple[str, ...]
    parties: tuple[str, ...]
    text: str
    terms: tuple[str, ...] = ()
    number: int | None = None


class CaseOrder(StrEnum):
    """What a list of cases may be sorted by."""

    NUMBER = "number"
    DATE = "date"
    """When the case was submitted."""
    STATE = "state"
    """Along the workflow: open states first, as a case moves through them."""
    WAITING = "waiting"
    """How long the case has been in its present state."""


_WORKFLOW = (
    CaseState.SUBMITTED,
    CaseState.IN_REVIEW,
    CaseState.AWAITING_ANSWER,
    CaseState.SUSPENDED,
    CaseState.APPROVED_WITH_CONDITIONS,
    CaseState.APPROVED,
    CaseState.CLEARED,
    CaseState.PARTLY_EXECUTED,
    CaseState.EXECUTED,
    CaseState.DENIED,
    CaseState.WITHDRAWN,
    CaseState.EXPIRED,
)


def _ordered(order: CaseOrder, descending: bool) -> list[Any]:
    """The ORDER BY of a list sorted by ``order``, ties broken by case number."""
    key: Any = {
        CaseOrder.NUMBER: Case.number,
        CaseOrder.DATE: Case.created_at,
        CaseOrder.STATE: case({s.value: i for i, s in enumerate(_WORKFLOW)}, value=Case.state),
        CaseOrder.WAITING: Case.state_since.desc(),  # the longer waited, the earlier it began
    }[order]
    if order is CaseOrder.WAITING:
        key = Case.state_since if descending else key
    elif descending:
        key = key.desc()
    return [key, Case.number.desc() if descending else Case.number]


def _case_filters(
    states: Sequence[str] | None,
    max_level: int | None,
    submitted_by: str | None,
    search: CaseSearch | None = None,
) -> list[Any]:
    filters = []
    if search is not None:
        terms = [Case.submitted_by == search.text]
        if search.systems:
            terms.append(Case.system.in_(search.systems))
        if search.parties:
            terms.append(Case.requester.in_(search.parties))
        if search.terms:
            found = select(CaseTerm.case_id).where(CaseTerm.term.in_(search.terms))
            terms.append(Case.id.in_(found))
        if search.number is not None:
            terms.append(Case.number == search.number)
        filters.append(or_(*terms))
    if states:
        filters.append(_in_states(states))
    if max_level is not None and max_level < max(Level):  # pragma: no mutate
        # "+ 0": a filter, never the index to search by (the planner would pick a
        # classification index and read every row of the table through it).
        filters.append(Case.classification + 0 <= max_level)  # pragma: no mutate
    if submitted_by is not None:
        filters.append(Case.submitted_by == submitted_by)
    return filters


def case_record(row: Case) -> CaseRecord:
    """A case as the service layer sees it."""
    return CaseRecord(
        id=row.id,
        number=row.number,
        idempotency_key=row.idempotency_key,
        submitted_by=row.submitted_by,
        request=read_request(row.request),
        request_digest=row.request_digest,
        stored_decision=stored_decision(row.decision),
        outcome=row.outcome,
        stored_state=stored_state(row.state),
        sla_days=row.sla_days,
        version=row.version,
        created_at=aware(row.created_at),
        state_since=aware(row.state_since),
        classification=row.classification,
        due_at=None if row.due_at is None else aware(row.due_at),
        expires_at=None if row.expires_at is None else aware(row.expires_at),
    )


def _readable(cases: Iterable[CaseRecord]) -> Iterator[CaseRecord]:
    return (c for c in cases if not c.damaged)


class CaseLists:
    """Lists and reports of cases inside one transaction."""

    def __init__(self, session: Session, *, is_sqlite: bool) -> None:
        self._session = session
        self._is_sqlite = is_sqlite

    def page(
        self,
        *,
        states: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
        newest_first: bool = False,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
        order: CaseOrder = CaseOrder.DATE,
    ) -> list[CaseRecord]:
        """A page of cases, oldest first (or by ``order``, reversed by ``newest_first``);
        ``max_level`` leaves out those classified above it."""
        query = select(Case).where(*_case_filters(states, max_level, submitted_by, search))
        query = query.order_by(*_ordered(order, newest_first)).limit(limit).offset(offset)
        return [case_record(r) for r in self._session.scalars(query)]

    def each(
        self,
        *,
        states: Sequence[str],
        batch: int = 500,  # pragma: no mutate
    ) -> Iterator[CaseRecord]:
        """Every case in ``states`` whose decision and state read, oldest first, a page at a
        time.

        The sweeps read cases this way to act on their gates and clocks, which a decision
        or state changed outside clearance no longer tells: such a case is left to
        ``audit verify``, which names it, rather than stopping the sweep for every other case."""
        offset = 0
        while page := self.page(states=states, limit=batch, offset=offset):
            offset += len(page)
            yield from _readable(page)

    def count(
        self,
        *,
        states: Sequence[str] | None = None,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
        at_most: int | None = None,
    ) -> int:
        found = select(Case.id).where(*_case_filters(states, max_level, submitted_by, search))
        if at_most is not None:  # stop counting there: a broad search stays cheap
            found = found.limit(at_most)
        query = select(func.count()).select_from(found.subquery())
        return int(self._session.scalar(query) or 0)

    def answered(self, case_ids: Sequence[str]) -> dict[str, set[str]]:
        """The offices that have answered each of these cases (approved or denied), in one
        query: what a list needs to say whom each case waits for."""
        found: dict[str, set[str]] = {case_id: set() for case_id in case_ids}
        if case_ids:
            rows = self._session.execute(
                select(Approval.case_id, Approval.authority).where(
                    Approval.case_id.in_(list(case_ids))
                )
            )
            for case_id, authority in rows:
                found[case_id].add(authority)
        return found

    def lapsed(
        self,
        *,
        now: dt.datetime,
        limit: int = 500,  # pragma: no mutate
    ) -> list[CaseRecord]:
        """Approved (or cleared) cases whose approval lapsed by ``now``, the earliest first;
        those whose decision and state read (as ``each``: expiring a case moves it by its
        gates), read past any number of those that do not."""
        query = select(Case).where(Case.expires_at <= now).order_by(Case.expires_at, Case.number)
        offset = 0
        while rows := list(self._session.scalars(query.limit(limit).offset(offset))):
            if found := list(_readable(map(case_record, rows))):
                return found
            offset += len(rows)
        return []

    def overdue(
        self,
        *,
        now: dt.datetime,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
        limit: int | None = None,
        offset: int = 0,
        order: tuple[CaseOrder, bool] | None = None,
    ) -> list[CaseRecord]:
        """Cases in review past the time they were due, the longest overdue first (or by
        ``order``: what, and whether descending)."""
        ordered = [Case.due_at, Case.number] if order is None else _ordered(*order)
        query = (
            select(Case)
            .where(
                Case.state == CaseState.IN_REVIEW.value,
                Case.due_at <= now,
                *_case_filters(None, max_level, submitted_by, search),
            )
            .order_by(*ordered)
            .limit(limit)
            .offset(offset)
        )
        return [case_record(r) for r in self._session.scalars(query)]

    def count_overdue(
        self,
        *,
        now: dt.datetime,
        max_level: int | None = None,
        submitted_by: str | None = None,
        search: CaseSearch | None = None,
    ) -> int:
        query = select(func.count()).where(
            Case.state == CaseState.IN_REVIEW.value,
            Case.due_at <= now,
            *_case_filters(None, max_level, submitted_by, search),
        )
        return int(self._session.scalar(query) or 0)

    def open_summary(
        self,
        *,
        now: dt.datetime,
        bucket_days: Sequence[int],
        max_level: int | None = None,
        submitted_by: str | None = None,
    ) -> list[tuple[str | None, int, int, int]]:
        """Open cases as ``(state, age bucket, count, highest level)``: bucket ``i`` holds
        cases younger than ``bucket_days[i]`` days (and older than the bucket before); the
        state None for a state column holding no case state (changed outside clearance)."""
        age = case(
            *[
                (Case.created_at > now - dt.timedelta(days=days), index)
                for index, days in enumerate(bucket_days)
            ],
            else_=len(bucket_days),
        )
        query = (
            select(Case.state, age, func.count(), func.max(Case.classification))
            .where(*_case_filters(sorted(OPEN_STATES), max_level, submitted_by))
            .group_by(Case.state, age)
        )
        return [
            (None if (state := stored_state(a)) is None else state.value, int(b), int(c), int(d))
            for a, b, c, d in self._session.execute(query)
        ]

    def decisions_by_month(
        self,
        *,
        since: dt.datetime,
        max_level: int | None = None,
        submitted_by: str | None = None,
    ) -> list[tuple[str, str, int, int]]:
        """Decisions since a time as ``(YYYY-MM, approved | approved_with_conditions | denied,
        count, highest level)``, months in UTC."""
        if submitted_by is None:  # the counts kept as cases are decided: a few rows
            first = since.astimezone(dt.UTC).strftime("%Y-%m")
            counted = (
                select(
                    DecisionCount.month,
                    DecisionCount.kind,
                    func.sum(DecisionCount.count),
                    func.max(DecisionCount.level),
                )
                .where(DecisionCount.month >= first)
                .group_by(DecisionCount.month, DecisionCount.kind)
            )
            if max_level is not None:
                counted = counted.where(DecisionCount.level <= max_level)
            return [
                (str(a), str(b), int(c), int(d)) for a, b, c, d in self._session.execute(counted)
            ]
        month = utc_month(Case.decided_at, is_sqlite=self._is_sqlite)
        query = (
            select(month, Case.decided_as, func.count(), func.max(Case.classification))
            .where(Case.decided_at >= since, *_case_filters(None, max_level, submitted_by))
            .group_by(month, Case.decided_as)
        )
        return [(str(a), str(b), int(c), int(d)) for a, b, c, d in self._session.execute(query)]
