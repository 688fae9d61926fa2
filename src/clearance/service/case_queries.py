"""Reading cases, each in one reading transaction: one case, pages, counts and summaries.

Every answer holds only what the reader may see (``service.access``): a case
they may not see is not found, and a list or a count never includes one, so
a total never tells them it exists. A search's words are turned here into what
the store looks cases up by (systems, parties, regions, offices, a number, the
words themselves), so it is found only among those cases too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from clearance.core.regions import region_names
from clearance.core.workflow import CaseState
from clearance.errors import InputError
from clearance.policy.engine import Screener
from clearance.service.access import Action, CaseScope, may, principal, today
from clearance.service.anchoring import installation_key
from clearance.service.case_view import CaseView, find_case, view_in
from clearance.service.clocks import ReviewClocks
from clearance.store.case_lists import CaseOrder, CaseSearch
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

__all__ = ["SORTS", "CaseQueries", "Turn", "sort_of"]

SORTS = tuple(o.value for o in CaseOrder)
"""The names a list of cases may be sorted by; ``-name`` sorts the other way."""


def sort_of(text: str) -> tuple[CaseOrder, bool]:
    """``date`` → by date, ascending; ``-waiting`` → by days waiting, descending; anything
    else is refused, naming the ``sort`` field."""
    name = text.removeprefix("-")
    if name not in SORTS:
        raise InputError("sort", f"'{text}' is not a sort: one of {', '.join(SORTS)}, or -name")
    return CaseOrder(name), text.startswith("-")


_REGION_SEARCH_FROM = 3
"""Regions are found by name from three letters typed: fewer would name hundreds."""


@dataclass(frozen=True, slots=True)
class Turn:
    """Whom an open case waits for: the offices yet to answer, or the requester (their
    answer to a question, a condition to meet, a transfer to carry out). Neither for a
    closed case, nor for one whose stored decision (which names the offices) or state no
    longer reads (``unreadable``): it waits for whoever mends the record."""

    offices: tuple[str, ...] = ()
    requester: bool = False
    unreadable: bool = False


_REQUESTERS_TURN = frozenset(
    {
        CaseState.AWAITING_ANSWER,
        CaseState.APPROVED,
        CaseState.APPROVED_WITH_CONDITIONS,
        CaseState.CLEARED,
        CaseState.PARTLY_EXECUTED,
    }
)
_OFFICES_TURN = frozenset({CaseState.SUBMITTED, CaseState.IN_REVIEW, CaseState.SUSPENDED})


class CaseQueries:
    """What a reader may see of the cases, over one store; the screener's catalog turns a
    search's words into the systems and parties it names."""

    def __init__(self, store: Store, screener: Screener, clocks: ReviewClocks) -> None:
        self.store = store
        self.screener = screener
        self.clocks = clocks

    def view(self, case_ref: str, *, actor: str) -> CaseView:
        """A case with its approvals, conditions and events, as ``actor`` (a user id, or
        ``ADMIN`` for the local operator) may see it: not found if they may not."""
        with self.store.reading() as tx:
            reader = principal(tx, actor, today())
            case = find_case(tx, case_ref, reader, lock=False)
            return view_in(tx, case, reader.user, installation_key(self.store), self.clocks)

    def find(self, case_ref: str, *, actor: str) -> CaseRecord:
        """The case alone, by id or number, for ``actor`` who may see it (not found if they
        may not): what a page that only names a case needs, whose decision need not read."""
        with self.store.reading() as tx:
            return find_case(tx, case_ref, principal(tx, actor, today()), lock=False)

    def seen_by(self, actor: str, cases: list[CaseRecord]) -> set[str]:
        """The ids of those of ``cases`` (already read) that ``actor`` may see."""
        with self.store.reading() as tx:
            return {case.id for case in _visible(tx, actor, cases)}

    @staticmethod
    def _scope(tx: Transaction, actor: str) -> CaseScope:
        return CaseScope.of(principal(tx, actor, today()))

    def page(
        self,
        *,
        actor: str,
        states: Sequence[str] | None,
        limit: int,
        offset: int,
        query: str = "",
        count_at_most: int | None = None,
        sort: str = CaseOrder.DATE.value,
    ) -> tuple[list[CaseRecord], int]:
        """A page of cases, oldest first (or by ``sort``, ``sort_of``), and how many there
        are: both only of what ``actor`` may see, so a total never counts a case they may not.

        ``query`` finds cases by system, requester, target territory or region, or
        recipient (id or name, e.g. "storm", "ukraine", "belgorod"), by an office that
        must approve or a deciding policy (e.g. "us.secdef", "us-review-mechanism"), by
        submitter, or by number ("7", "#7"); ``count_at_most`` stops the total there."""
        search = self._search(query)
        order, descending = sort_of(sort)
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            found = tx.cases.page(
                states=states,
                limit=limit,
                offset=offset,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=search,
                order=order,
                newest_first=descending,
            )
            total = tx.cases.count(
                states=states,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=search,
                at_most=count_at_most,
            )
            return found, total

    def _search(self, query: str) -> CaseSearch | None:
        text = query.strip().lower()
        if not text:
            return None
        catalog = self.screener.catalog
        systems = tuple(
            s.id for s in catalog.systems if text in s.id.lower() or text in s.name.lower()
        )
        parties = tuple(
            p.code for p in catalog.parties if text in p.code.lower() or text in p.name.lower()
        )
        offices = tuple(
            a.id for a in catalog.authorities if text in a.id.lower() or text in a.title.lower()
        )
        regions = tuple(
            code
            for code, name in region_names().items()
            if len(text) >= _REGION_SEARCH_FROM and text in name.lower()
        )
        terms = {text, *(t.lower() for t in (*parties, *offices, *regions))}
        number = text.removeprefix("case").strip().removeprefix("#")
        return CaseSearch(
            systems,
            parties,
            text,
            terms=tuple(sorted(terms)),
            number=int(number)
            if number.isascii() and number.isdigit() and len(number) < 16
            else None,
        )

    def waiting_for(self, cases: Sequence[CaseRecord], *, actor: str) -> dict[str, Turn]:
        """Whom each of ``cases`` that ``actor`` may see waits for, by case id: the offices
        its decision names that have not answered, or its requester. Which offices have
        answered is the case's to tell, so a case ``actor`` may not see is left out, however
        the caller came by it."""
        with self.store.reading() as tx:
            seen = _visible(tx, actor, cases)
            offices_turn = [c.id for c in seen if not c.damaged and c.state in _OFFICES_TURN]
            answered = tx.cases.answered(offices_turn)
        turns = {}
        for case in seen:
            if case.damaged:
                turns[case.id] = Turn(unreadable=True)
            elif case.state in _OFFICES_TURN:
                done = answered.get(case.id, set())
                needed = case.decision.required_approvals
                turns[case.id] = Turn(tuple(a.authority for a in needed if a.authority not in done))
            else:
                turns[case.id] = Turn(requester=case.state in _REQUESTERS_TURN)
        return turns

    def open_summary(
        self, *, actor: str, now: dt.datetime, bucket_days: tuple[int, ...]
    ) -> list[tuple[str | None, int, int, int]]:
        """Open cases ``actor`` may see by state and age bucket:
        ``(state, bucket, count, highest level)``, the state None where it no longer reads."""
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.open_summary(
                now=now,
                bucket_days=bucket_days,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
            )

    def decisions_by_month(
        self, *, actor: str, since: dt.datetime
    ) -> list[tuple[str, str, int, int]]:
        """Decisions of cases ``actor`` may see, per month and kind:
        ``(YYYY-MM, kind, count, highest level)``."""
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.decisions_by_month(
                since=since, max_level=scope.max_level, submitted_by=scope.submitted_by
            )

    def overdue(
        self,
        now: dt.datetime,
        *,
        actor: str,
        query: str = "",
        limit: int | None = None,
        offset: int = 0,
        sort: str | None = None,
    ) -> list[CaseRecord]:
        """Cases ``actor`` may see waiting on a gate past their SLA, longest waiting first
        (one index range), or by ``sort``; ``query`` finds them as ``page`` does."""
        order = None if sort is None else sort_of(sort)
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.overdue(
                now=now,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=self._search(query),
                limit=limit,
                offset=offset,
                order=order,
            )

    def count_overdue(self, now: dt.datetime, *, actor: str, query: str = "") -> int:
        """How many cases ``overdue`` would list, all pages together."""
        with self.store.reading() as tx:
            scope = self._scope(tx, actor)
            return tx.cases.count_overdue(
                now=now,
                max_level=scope.max_level,
                submitted_by=scope.submitted_by,
                search=self._search(query),
            )


def _visible(tx: Transaction, actor: str, cases: Sequence[CaseRecord]) -> list[CaseRecord]:
    """Those of ``cases`` (already read) that ``actor`` may see today, through the door."""
    reader = principal(tx, actor, today())
    return [case for case in cases if may(reader, Action.CASE_VIEW, case)]
