"""Review clocks: how long an office has had a case, counted in calendar or working days,
and when it is due. Pure code (the public holidays come from the ``holidays`` package's
data, not from anything this installation stores).

A clock starts when a case enters review and counts the days after that day:
a case that arrives on a Monday has had one working day by Tuesday's end.
Working days are Monday to Friday, less the public holidays of the office's
country and the closures its pack declares. A case is due at the end of its
last counted day, so it is overdue from the first moment of the next day,
working or not. Time the case spends waiting for the requester's answer to a
question is not counted: each stop adds the days it covered to the due date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache

import holidays
import holidays.registry

__all__ = [
    "Calendar",
    "Clock",
    "DayCount",
    "Limit",
    "Stop",
    "calendar_problem",
    "days_between",
    "end_of_day",
]


class DayCount(StrEnum):
    """What a limit counts."""

    CALENDAR = "calendar_days"
    WORKING = "working_days"


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[dt.date]:
    code, _, subdivision = country.partition("-")
    found = holidays.country_holidays(code, subdiv=subdivision or None, years=year)
    return frozenset(found)


_COUNTRY = re.compile(r"[A-Z]{2,3}")
"""A country's code as ``holidays`` takes it (alpha-2 or alpha-3); its registry also names
the classes of some calendars, which are not codes."""


@cache
def _calendar_codes() -> frozenset[str]:
    """The country codes ``holidays`` has a calendar for, from its registry: asking
    ``list_supported_countries`` imports every one of its 250 country modules (0.08 s, paid
    by every command that loads a pack), where the registry names them without importing
    any. tests/test_working_day_rules.py holds the two equal."""
    names = holidays.registry.COUNTRIES.values()
    return frozenset(code for _, *codes in names for code in codes if _COUNTRY.fullmatch(code))


def calendar_problem(country: str) -> str | None:
    """Why ``country`` (``US``, or a subdivision such as ``GB-SCT``) names no public-holiday
    calendar the ``holidays`` package knows, or None when it does."""
    code, _, subdivision = country.partition("-")
    if code not in _calendar_codes():
        return f"'{country}' is not a country with a known public-holiday calendar"
    if subdivision and subdivision not in holidays.list_supported_countries()[code]:
        return f"'{subdivision}' is not a subdivision of {code} with its own holidays"
    return None


@dataclass(frozen=True, slots=True)
class Calendar:
    """The days an office works: weekdays, less ``country``'s public holidays (none when
    ``country`` is None) and the pack's ``closures``."""

    country: str | None
    closures: frozenset[dt.date] = frozenset()

    def is_working(self, day: dt.date) -> bool:
        if day.weekday() >= 5 or day in self.closures:
            return False
        return self.country is None or day not in _holidays(self.country, day.year)


@dataclass(frozen=True, slots=True)
class Limit:
    """An office's time to answer: ``days`` counted as ``count`` on ``calendar``."""

    days: int
    count: DayCount = DayCount.CALENDAR
    calendar: Calendar = field(default_factory=lambda: Calendar(None))

    def counts(self, day: dt.date) -> bool:
        return self.count is DayCount.CALENDAR or self.calendar.is_working(day)

    def describe(self) -> str:
        unit = "calendar day" if self.count is DayCount.CALENDAR else "working day"
        return f"{self.days} {unit}{'' if self.days == 1 else 's'}"


def days_between(limit: Limit, start: dt.date, end: dt.date) -> int:
    """The days ``limit`` counts after ``start``, up to and including ``end`` (0 if none)."""
    if end <= start:  # pragma: no mutate
        return 0
    if limit.count is DayCount.CALENDAR:
        return (end - start).days
    return sum(
        1 for n in range(1, (end - start).days + 1) if limit.counts(start + dt.timedelta(days=n))
    )


def _add(limit: Limit, start: dt.date, days: int) -> dt.date:
    """The day on which ``days`` counted days after ``start`` have passed."""
    if limit.count is DayCount.CALENDAR:
        return start + dt.timedelta(days=days)
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if limit.counts(day):
            left -= 1
    return day


def end_of_day(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` (UTC): when a case due that day becomes overdue."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)


@dataclass(frozen=True, slots=True)
class Stop:
    """The clock stopped from ``asked`` (a question to the requester) until ``answered``
    (None: not yet answered)."""

    asked: dt.datetime
    answered: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    """One office's clock on one case: started when the case entered review."""

    started: dt.datetime
    limit: Limit
    stops: tuple[Stop, ...] = ()

    def _stopped(self, now: dt.datetime | None) -> int:
        """Counted days covered by stops (an open stop runs to ``now``; without ``now``,
        only stops that ended count)."""
        total = 0
        for stop in self.stops:
            end = stop.answered or now
            if end is not None:
                total += days_between(self.limit, stop.asked.date(), end.date())
        return total

    def elapsed(self, now: dt.datetime) -> int:
        """Counted days the office has had the case by ``now``, less the stopped ones."""
        counted = days_between(self.limit, self.started.date(), now.date())
        return max(0, counted - self._stopped(now))

    def due_day(self) -> dt.date:
        """The last day to answer: the limit after the start, moved on by every ended stop."""
        return _add(self.limit, self.started.date(), self.limit.days + self._stopped(None))

    def due_at(self) -> dt.datetime:
        return end_of_day(self.due_day())

    def is_overdue(self, now: dt.datetime) -> bool:
        return now >= self.due_at()
