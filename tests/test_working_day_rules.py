"""The rules of a review clock, stated on the pure code (``core.working_days``).

The service and page tests run clocks on real cases; these state each rule on
its own: which days an office works, how days are counted after the start, when
a case is due and overdue, and how a question to the requester stops the clock.
June 2025: Friday the 13th, the weekend of the 14th and 15th, Monday the 16th;
4 July 2025 (a US public holiday) is a Friday.
"""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from clearance.core.working_days import (
    Calendar,
    Clock,
    DayCount,
    Limit,
    Stop,
    calendar_problem,
    days_between,
    end_of_day,
)

MON, TUE, WED, THU, FRI, SAT, SUN = (dt.date(2025, 6, d) for d in range(9, 16))
NEXT_MON = dt.date(2025, 6, 16)
JULY_4 = dt.date(2025, 7, 4)
PLAIN = Calendar(None)
US = Calendar("US")


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def working(days: int, calendar: Calendar = PLAIN) -> Limit:
    return Limit(days, DayCount.WORKING, calendar)


def test_a_limit_counts_calendar_days_on_no_calendar_unless_told_otherwise() -> None:
    """The defaults: calendar days, no public holidays; the words are the recorded ones."""
    assert Limit(5) == Limit(5, DayCount.CALENDAR, Calendar(None, frozenset()))
    assert [c.value for c in DayCount] == ["calendar_days", "working_days"]


@pytest.mark.parametrize(
    ("day", "works"),
    [(MON, True), (FRI, True), (SAT, False), (SUN, False), (NEXT_MON, True)],
)
def test_an_office_works_monday_to_friday(day: dt.date, works: bool) -> None:
    """Saturday and Sunday are not working days; every other day is, on no calendar."""
    assert PLAIN.is_working(day) is works


def test_a_public_holiday_of_the_office_s_country_is_not_a_working_day() -> None:
    """4 July is not worked in a US office; an office with no country works it."""
    assert not US.is_working(JULY_4)
    assert PLAIN.is_working(JULY_4)
    assert US.is_working(dt.date(2025, 7, 3))


def test_a_subdivision_s_own_holiday_is_kept_only_there() -> None:
    """2 January is a bank holiday in Scotland, not in the rest of the United Kingdom."""
    assert not Calendar("GB-SCT").is_working(dt.date(2025, 1, 2))
    assert Calendar("GB").is_working(dt.date(2025, 1, 2))


def test_a_closure_of_the_pack_is_not_a_working_day() -> None:
    """A day the pack closes is not worked; the days around it are."""
    closed = Calendar(None, frozenset({WED}))
    assert [closed.is_working(d) for d in (TUE, WED, THU)] == [True, False, True]


@pytest.mark.parametrize(
    ("country", "problem"),
    [
        ("US", None),
        ("GB-SCT", None),
        ("XX", "'XX' is not a country with a known public-holiday calendar"),
        ("XX-ABC", "'XX-ABC' is not a country with a known public-holiday calendar"),
        ("GB-ZZZ", "'ZZZ' is not a subdivision of GB with its own holidays"),
    ],
)
def test_a_calendar_the_holidays_data_lacks_is_refused_in_words(
    country: str, problem: str | None
) -> None:
    """A country or subdivision without public-holiday data is named in its words."""
    assert calendar_problem(country) == problem


def test_every_country_the_holidays_package_supports_and_only_those_has_a_calendar() -> None:
    """The countries are read from the package's registry, not by importing each (for
    speed): they are the ones it lists, each subdivision with it, and nothing else."""
    supported = holidays.list_supported_countries()
    assert len(supported) > 200
    for code, subdivisions in supported.items():
        assert calendar_problem(code) is None, code
        for subdivision in subdivisions:
            assert calendar_problem(f"{code}-{subdivision}") is None, (code, subdivision)
    registered = {c for _, *codes in holidays.registry.COUNTRIES.values() for c in codes}
    for name in registered - set(supported):
        assert calendar_problem(name) is not None, name


@pytest.mark.parametrize(
    ("limit", "words"),
    [
        (Limit(1), "1 calendar day"),
        (Limit(2), "2 calendar days"),
        (Limit(0), "0 calendar days"),
        (working(1), "1 working day"),
        (working(10), "10 working days"),
    ],
)
def test_a_limit_is_said_in_days_of_its_kind(limit: Limit, words: str) -> None:
    """Singular for one day, plural otherwise."""
    assert limit.describe() == words


def test_a_calendar_limit_counts_every_day_and_a_working_limit_only_working_ones() -> None:
    """A weekend day counts on a calendar limit, not on a working one."""
    assert Limit(1, DayCount.CALENDAR, US).counts(SAT)
    assert Limit(1, DayCount.CALENDAR, US).counts(JULY_4)
    assert not working(1).counts(SAT)
    assert working(1).counts(FRI)


@pytest.mark.parametrize(
    ("limit", "start", "end", "days"),
    [
        (Limit(5), MON, MON, 0),
        (Limit(5), TUE, MON, 0),
        (Limit(5), MON, TUE, 1),
        (Limit(5), MON, NEXT_MON, 7),
        (working(5), MON, MON, 0),
        (working(5), TUE, MON, 0),
        (working(5), MON, TUE, 1),
        (working(5), MON, FRI, 4),
        (working(5), FRI, SUN, 0),
        (working(5), FRI, NEXT_MON, 1),
        (working(5), SAT, NEXT_MON, 1),
        (working(5, US), dt.date(2025, 7, 3), dt.date(2025, 7, 7), 1),
    ],
)
def test_days_are_counted_after_the_start_up_to_and_including_the_end(
    limit: Limit, start: dt.date, end: dt.date, days: int
) -> None:
    """The start day never counts, the end day does when the limit counts it; none when the
    end is not after the start."""
    assert days_between(limit, start, end) == days


@pytest.mark.parametrize(
    ("limit", "start", "due"),
    [
        (Limit(1), FRI, SAT),
        (Limit(3), FRI, NEXT_MON),
        (working(1), MON, TUE),
        (working(1), FRI, NEXT_MON),
        (working(1), SAT, NEXT_MON),
        (working(5), MON, NEXT_MON),
        (working(0), SAT, SAT),
        (Limit(0), SAT, SAT),
        (working(1, US), dt.date(2025, 7, 3), dt.date(2025, 7, 7)),
    ],
)
def test_a_case_is_due_on_the_day_its_limit_has_passed(
    limit: Limit, start: dt.date, due: dt.date
) -> None:
    """Counted from the day after the start: a Friday case with one working day is due on
    Monday; a limit of none is due on the day it started."""
    clock = Clock(at(start), limit)
    assert clock.due_day() == due
    assert clock.due_at() == dt.datetime.combine(due + dt.timedelta(days=1), dt.time(), dt.UTC)


def test_the_end_of_a_day_is_the_first_moment_of_the_next_in_utc() -> None:
    """A case due on a day becomes overdue at midnight UTC after it."""
    assert end_of_day(FRI) == dt.datetime(2025, 6, 14, tzinfo=dt.UTC)


def test_a_case_is_overdue_from_the_first_moment_after_its_due_day() -> None:
    """Up to the last microsecond of the due day it is not overdue; at midnight it is."""
    clock = Clock(at(MON), working(1))
    assert not clock.is_overdue(dt.datetime(2025, 6, 10, 23, 59, 59, 999999, tzinfo=dt.UTC))
    assert clock.is_overdue(dt.datetime(2025, 6, 11, tzinfo=dt.UTC))


def test_the_days_an_office_has_had_a_case_are_those_counted_after_the_start() -> None:
    """None on the day it arrives, one by the next working day's end, none for a weekend."""
    clock = Clock(at(FRI), working(5))
    assert clock.elapsed(at(FRI, 23)) == 0
    assert clock.elapsed(at(SUN)) == 0
    assert clock.elapsed(at(NEXT_MON)) == 1


def test_a_question_answered_stops_the_clock_for_the_days_it_covered() -> None:
    """Asked on Tuesday, answered on Thursday: two working days are not counted, and the due
    day moves on by two."""
    stop = Stop(at(TUE), at(THU))
    clock = Clock(at(MON), working(2), (stop,))
    assert clock.elapsed(at(FRI)) == 2
    assert clock.due_day() == dt.date(2025, 6, 13)
    assert Clock(at(MON), working(2)).due_day() == WED


def test_several_questions_each_stop_the_clock() -> None:
    """Two answered stops of one day each add up."""
    stops = (Stop(at(MON), at(TUE)), Stop(at(WED), at(THU)))
    clock = Clock(at(MON), working(1), stops)
    assert clock.due_day() == THU
    assert clock.elapsed(at(FRI)) == 2


def test_an_open_question_stops_the_clock_until_now_but_does_not_move_the_due_day() -> None:
    """Not yet answered: the days up to now are not counted; the due day moves only when
    the answer comes."""
    clock = Clock(at(MON), working(2), (Stop(at(TUE)),))
    assert clock.elapsed(at(THU)) == 1
    assert clock.due_day() == WED


def test_the_days_had_never_fall_below_none() -> None:
    """A stop that covered more days than the clock has run leaves it at zero, not below."""
    clock = Clock(at(WED), working(2), (Stop(at(MON), at(FRI)),))
    assert clock.elapsed(at(THU)) == 0
