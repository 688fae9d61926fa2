"""Oversight: the report of waiting, per office and per month, for auditors.

For every office that gates a case its reader may see, the report gives:

- ``decided``: the office's answers (approve or deny) dated within the period
  (``first`` to ``last``, both included, days in UTC; None leaves that end open);
- ``median_days`` and ``p90_days``: the time to those answers in the office's
  working days (its party's public holidays and the pack's closures,
  ``ReviewClocks.working_days_of``), counted from the day the case entered
  review to the answer, less the days its clock stood stopped while a question
  waited for the requester. The median is ``statistics.median`` (the mean of
  the two middle values when their number is even); the 90th percentile is
  the nearest rank: the smallest time such that at least 90 in 100 of the
  answers took no longer, ``sorted(times)[ceil(0.9 × n) − 1]``;
- ``longest_waiting``: of its gates still open now (the case in review or
  waiting for an answer, the gate unanswered), the one that has waited the
  most working days, with its case;
- ``overdue``: its open gates of cases in review whose own review clock (the
  limit policy sets, ``ReviewClocks.of_case``) is past due now;
- ``escalated``: the cases with at least one step of its escalation ladder
  recorded within the period.

Per month of the answer's date (within the period) it gives the median, 90th
percentile and number of answers of every office together. The figures of
"now" (longest waiting, overdue) are of the moment the report is made,
whatever the period. Every figure counts only cases the reader may see
(``service.access``), and reading the report needs the auditor role; its
``level`` is the highest classification of any case it looked at, for the
banner of a page that shows it.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from clearance.core.access import Level
from clearance.core.chain import EventType
from clearance.core.events import EscalationReached, PayloadError
from clearance.core.request import iso_date
from clearance.core.workflow import CaseState
from clearance.core.working_days import Clock, Stop
from clearance.errors import InputError
from clearance.service.access import Action, Principal, check, may, principal
from clearance.service.clocks import ReviewClocks, ReviewSpan, review_span
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, LedgerRecord
from clearance.store.repository import Store

__all__ = [
    "MonthFigures",
    "OfficeFigures",
    "WaitingGate",
    "WaitingReport",
    "p90",
    "period",
    "waiting_report",
]

_OPEN = (CaseState.IN_REVIEW, CaseState.AWAITING_ANSWER)


def period(first: str | None, last: str | None) -> tuple[dt.date | None, dt.date | None]:
    """The period asked for as typed (``YYYY-MM-DD``; None or empty leaves that end open),
    refused in one line naming the field (``from``, ``to``)."""
    return _day("from", first), _day("to", last)


def _day(name: str, value: str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        day = iso_date(value)
    except ValueError as exc:
        raise InputError(name, str(exc)) from None
    assert isinstance(day, dt.date)
    return day


def _check_period(first: dt.date | None, last: dt.date | None) -> None:
    for name, day in (("from", first), ("to", last)):
        if day is not None:
            try:
                iso_date(day)
            except ValueError as exc:
                raise InputError(name, str(exc)) from None
    if first is not None and last is not None and first > last:
        raise InputError("from", f"{first} is after the end of the period, {last}")


def p90(values: Iterable[int]) -> int | None:
    """The 90th percentile by nearest rank: the smallest value that at least 90 in 100 of
    ``values`` do not exceed (None for none)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[-(-9 * len(ordered) // 10) - 1]


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


@dataclass(frozen=True, slots=True)
class WaitingGate:
    """An open gate: its case and the office's working days it has waited."""

    case_number: int
    case_id: str
    days: int

    def as_dict(self) -> dict[str, Any]:
        return {"case_number": self.case_number, "case_id": self.case_id, "days": self.days}


@dataclass(frozen=True, slots=True)
class OfficeFigures:
    """One office's figures (module doc)."""

    office: str
    decided: int
    median_days: float | None
    p90_days: int | None
    longest_waiting: WaitingGate | None
    overdue: int
    escalated: int

    def as_dict(self) -> dict[str, Any]:
        longest = self.longest_waiting
        return {
            "office": self.office,
            "decided": self.decided,
            "median_days": self.median_days,
            "p90_days": self.p90_days,
            "longest_waiting": None if longest is None else longest.as_dict(),
            "overdue": self.overdue,
            "escalated": self.escalated,
        }


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """The answers of one month (``YYYY-MM``, UTC) of every office together."""

    month: str
    decided: int
    median_days: float | None
    p90_days: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "decided": self.decided,
            "median_days": self.median_days,
            "p90_days": self.p90_days,
        }


@dataclass(frozen=True, slots=True)
class WaitingReport:
    """The report of waiting (module doc), made at ``at`` for the period ``first`` to
    ``last``; ``months`` run from the first month with an answer to the last, those
    without one included."""

    first: dt.date | None
    last: dt.date | None
    at: dt.datetime
    offices: tuple[OfficeFigures, ...]
    months: tuple[MonthFigures, ...]
    level: Level = Level.UNCLASSIFIED

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": None if self.first is None else self.first.isoformat(),
            "to": None if self.last is None else self.last.isoformat(),
            "at": self.at.isoformat(),
            "classification": self.level.label,
            "offices": [o.as_dict() for o in self.offices],
            "months": [m.as_dict() for m in self.months],
        }


@dataclass
class _Office:
    """What is gathered for one office while the cases are read."""

    times: list[int] = field(default_factory=list)
    longest: tuple[tuple[int, float], WaitingGate] | None = None
    overdue: int = 0
    escalated: int = 0

    def waiting(self, days: int, started: dt.datetime, case: CaseRecord) -> None:
        # The most days; between equals, the case that entered review first.
        rank = (days, -started.timestamp())
        if self.longest is None or rank > self.longest[0]:
            self.longest = (rank, WaitingGate(case.number, case.id, days))

    def figures(self, office: str) -> OfficeFigures:
        longest = None if self.longest is None else self.longest[1]
        return OfficeFigures(
            office,
            len(self.times),
            _median(self.times),
            p90(self.times),
            longest,
            self.overdue,
            self.escalated,
        )


def _utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def _until(span: ReviewSpan, at: dt.datetime) -> tuple[Stop, ...]:
    """The stops of ``span`` before ``at``, each ending by ``at``: a question asked of the
    case after an office answered does not shorten that office's time."""
    return tuple(
        Stop(s.asked, at if s.answered is None or s.answered > at else s.answered)
        for s in span.stops
        if s.asked < at
    )


def _escalated(events: list[LedgerRecord], inside: Callable[[dt.date], bool]) -> set[str]:
    """The offices with an escalation step recorded on a day ``inside`` the period."""
    offices = set()
    for record in events:
        if record.type != EventType.ESCALATION_REACHED.value:
            continue  # read only the escalations' bodies
        try:
            event = record.event
        except PayloadError:
            continue  # changed outside clearance: audit verify names it
        if isinstance(event.payload, EscalationReached) and inside(_utc_day(event.at)):
            offices.add(event.payload.office)
    return offices


class _Gathering:
    """The figures of one report, gathered one case at a time."""

    def __init__(
        self,
        clocks: ReviewClocks,
        now: dt.datetime,
        first: dt.date | None,
        last: dt.date | None,
    ) -> None:
        self.clocks = clocks
        self.now = now
        self.first, self.last = first, last
        self.offices: dict[str, _Office] = defaultdict(_Office)
        self.by_month: dict[str, list[int]] = defaultdict(list)
        self.level = Level.UNCLASSIFIED

    def inside(self, day: dt.date) -> bool:
        return (self.first is None or self.first <= day) and (self.last is None or day <= self.last)

    def add(self, tx: Transaction, case: CaseRecord) -> None:
        gates = case.decision.required_approvals
        if not gates:
            return  # no office gates it (nor ever answers it): nothing to read
        self.level = max(self.level, Level(case.classification))
        approvals = tx.cases.approvals(case.id)
        events = tx.ledger.of_case(case.id)
        span = review_span(case.created_at, events)
        for gate in gates:
            self.offices.setdefault(gate.authority, _Office())  # every gating office has a row
        for answer in approvals:
            if not self.inside(_utc_day(answer.at)):
                continue
            limit = self.clocks.working_days_of(answer.authority)
            days = Clock(span.started, limit, _until(span, answer.at)).elapsed(answer.at)
            self.offices[answer.authority].times.append(days)
            self.by_month[answer.at.astimezone(dt.UTC).strftime("%Y-%m")].append(days)
        for escalated in _escalated(events, self.inside):
            self.offices[escalated].escalated += 1
        if case.state not in _OPEN:
            return
        answered = {a.authority for a in approvals}
        still_open = [g for g in gates if g.authority not in answered]
        for clock in self.clocks.gates(case.decision.bundles, still_open, case.sla_days, span):
            figures = self.offices[clock.office]
            working = Clock(span.started, self.clocks.working_days_of(clock.office), span.stops)
            figures.waiting(working.elapsed(self.now), span.started, case)
            if case.state is CaseState.IN_REVIEW and clock.clock.is_overdue(self.now):
                figures.overdue += 1

    def report(self) -> WaitingReport:
        offices = tuple(self.offices[o].figures(o) for o in sorted(self.offices))
        return WaitingReport(self.first, self.last, self.now, offices, self._months(), self.level)

    def _months(self) -> tuple[MonthFigures, ...]:
        if not self.by_month:
            return ()
        months = []
        year, month = map(int, min(self.by_month).split("-"))
        end = max(self.by_month)
        while (key := f"{year:04d}-{month:02d}") <= end:
            times = self.by_month.get(key, [])
            months.append(MonthFigures(key, len(times), _median(times), p90(times)))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(months)


def waiting_report(
    store: Store,
    clocks: ReviewClocks,
    *,
    actor: str,
    now: dt.datetime,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> WaitingReport:
    """The report of waiting (module doc) as ``actor`` may see it on ``now``'s day, for the
    answers and escalations dated ``first`` to ``last`` (both included; None: open)."""
    _check_period(first, last)
    gathering = _Gathering(clocks, now, first, last)
    with store.reading() as tx:
        reader: Principal = principal(tx, actor, now.date())
        check(reader, Action.REPORT_VIEW)
        for case in tx.cases.each(states=list(CaseState)):
            if may(reader, Action.CASE_VIEW, case):
                gathering.add(tx, case)
    return gathering.report()
