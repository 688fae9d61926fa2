"""Review clocks: working days across a US public holiday and a weekend, exactly at the limit
and one day past it; closures; a stopped clock moves the due date by exactly the days it
was stopped; and a bundle's limits and ladders refuse what cannot be meant."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.core.working_days import (
    Calendar,
    Clock,
    DayCount,
    Limit,
    Stop,
    days_between,
    end_of_day,
)
from clearance.errors import PackError
from clearance.policy.pack import default_pack_path, load_pack

US = Calendar("US")
THREE_WORKING = Limit(3, DayCount.WORKING, US)


def _at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), dt.UTC)


def test_working_days_skip_a_us_public_holiday_and_a_weekend() -> None:
    # Thursday 3 July 2025; Friday 4 July is Independence Day; then a weekend.
    clock = Clock(_at("2025-07-03"), THREE_WORKING)
    assert clock.due_day() == dt.date(2025, 7, 9)  # Mon 7, Tue 8, Wed 9
    assert clock.elapsed(_at("2025-07-06", 23)) == 0  # holiday and weekend count nothing
    assert clock.elapsed(_at("2025-07-07")) == 1


def test_exactly_at_the_limit_is_not_overdue_and_one_day_past_it_is() -> None:
    clock = Clock(_at("2025-07-03"), THREE_WORKING)
    last_moment = dt.datetime(2025, 7, 9, 23, 59, 59, tzinfo=dt.UTC)
    assert clock.elapsed(last_moment) == 3
    assert not clock.is_overdue(last_moment)
    assert clock.is_overdue(dt.datetime(2025, 7, 10, 0, 0, tzinfo=dt.UTC))
    assert clock.due_at() == dt.datetime(2025, 7, 10, tzinfo=dt.UTC)


def test_calendar_days_count_weekends_and_holidays() -> None:
    clock = Clock(_at("2025-07-03"), Limit(3))
    assert clock.due_day() == dt.date(2025, 7, 6)
    assert clock.is_overdue(_at("2025-07-07", 0))


def test_a_closure_of_the_pack_is_not_a_working_day() -> None:
    closed = Calendar("US", frozenset({dt.date(2025, 12, 24), dt.date(2025, 12, 26)}))
    # From Tuesday 23 December 2025: 24 closed, 25 Christmas, 26 closed, then a weekend.
    clock = Clock(_at("2025-12-23"), Limit(1, DayCount.WORKING, closed))
    assert clock.due_day() == dt.date(2025, 12, 29)
    assert Clock(_at("2025-12-23"), Limit(1, DayCount.WORKING, US)).due_day() == dt.date(
        2025, 12, 24
    )


def test_the_seed_pack_closes_us_offices_on_the_reported_days() -> None:
    pack = load_pack()
    assert dt.date(2025, 12, 24) in pack.closures["US"]
    bundle = pack.history.bundle_in_force("US", dt.date(2025, 6, 15))
    assert bundle is not None
    rule = bundle.review_limit("us.secdef")
    assert rule is not None
    assert (rule.days, rule.count, rule.calendar) == (20, DayCount.WORKING, "US")
    assert [(r.after, r.tell) for r in rule.ladder] == [
        (10, "office"),
        (20, "us.president"),
        (30, "oversight"),
    ]


def test_a_question_on_working_day_3_answered_5_working_days_later_moves_the_due_day_by_5() -> None:
    started = _at("2025-06-16")  # Monday
    limit = Limit(20, DayCount.WORKING, US)
    plain = Clock(started, limit)
    # Tue 17, Wed 18, Fri 20 (Thursday 19 is Juneteenth): working day 3 is Friday 20 June;
    # five working days later (23, 24, 25, 26, 27) is Friday 27 June.
    asked, answered = _at("2025-06-20"), _at("2025-06-27")
    assert plain.elapsed(asked) == 3
    assert days_between(limit, asked.date(), answered.date()) == 5
    stopped = Clock(started, limit, (Stop(asked, answered),))
    later = plain.due_day()
    for _ in range(5):
        later += dt.timedelta(days=1)
        while not US.is_working(later):
            later += dt.timedelta(days=1)
    assert stopped.due_day() == later
    assert days_between(limit, plain.due_day(), stopped.due_day()) == 5
    # While stopped, the clock does not climb.
    assert Clock(started, limit, (Stop(asked),)).elapsed(answered) == 3


DAYS = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@given(
    start=DAYS,
    days=st.integers(1, 60),
    working=st.booleans(),
    gap=st.integers(0, 40),
    length=st.integers(0, 40),
)
def test_a_stop_moves_the_due_day_by_the_days_it_covered(
    start: dt.date, days: int, working: bool, gap: int, length: int
) -> None:
    limit = Limit(days, DayCount.WORKING if working else DayCount.CALENDAR, US)
    started = dt.datetime.combine(start, dt.time(9), dt.UTC)
    asked = started + dt.timedelta(days=gap)
    answered = asked + dt.timedelta(days=length)
    plain, stopped = Clock(started, limit), Clock(started, limit, (Stop(asked, answered),))
    covered = days_between(limit, asked.date(), answered.date())
    assert days_between(limit, plain.due_day(), stopped.due_day()) == covered
    last_moment = end_of_day(plain.due_day()) - dt.timedelta(microseconds=1)
    assert plain.elapsed(last_moment) == days
    assert not plain.is_overdue(last_moment)
    assert plain.is_overdue(end_of_day(plain.due_day()))
    assert limit.counts(plain.due_day())


def _pack_with(tmp_path: Path, bundle_text: str, *, pack_extra: str = "") -> Path:
    root = tmp_path / "pack"
    shutil.copytree(default_pack_path(), root)
    bundle = root / "bundles" / "US" / "2025-05-01" / "bundle.yaml"
    text = bundle.read_text(encoding="utf-8")
    bundle.write_text(text[: text.index("review_limits:")] + bundle_text, encoding="utf-8")
    if pack_extra:
        meta = root / "pack.yaml"
        meta.write_text(meta.read_text(encoding="utf-8") + pack_extra, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("limits", "where", "words"),
    [
        (
            "review_limits:\n  us.secdef:\n    days: 20\n    escalation:\n"
            "      - {after: 20, tell: office}\n      - {after: 10, tell: oversight}\n",
            "review_limits.us.secdef.escalation[2].after",
            "must come after step 1",
        ),
        (
            "review_limits:\n  us.secdef:\n    days: 20\n    count: working_days\n"
            "    calendar: XX\n",
            "review_limits.us.secdef.calendar",
            "'XX' is not a country with a known public-holiday calendar",
        ),
        (
            "review_limits:\n  us.nobody:\n    days: 20\n",
            "review_limits.us.nobody",
            "unknown office",
        ),
        (
            "review_limits:\n  us.secdef:\n    days: 0\n",
            "review_limits.us.secdef.days",
            "whole number of days",
        ),
        (
            "review_limits:\n  us.secdef:\n    days: 5\n    count: fortnights\n",
            "review_limits.us.secdef.count",
            "calendar_days or working_days",
        ),
        (
            "review_limits:\n  us.secdef:\n    days: 5\n    escalation:\n"
            "      - {after: 2, tell: us.mystery}\n",
            "review_limits.us.secdef.escalation[1].tell",
            "office, oversight or an office's id",
        ),
    ],
)
def test_a_bundle_with_a_limit_that_cannot_be_meant_is_refused_naming_the_field(
    tmp_path: Path, limits: str, where: str, words: str
) -> None:
    with pytest.raises(PackError) as caught:
        load_pack(_pack_with(tmp_path, limits))
    message = str(caught.value)
    assert where in message
    assert words in message
    assert "\n" not in message


def test_a_closure_on_an_unknown_calendar_is_refused(tmp_path: Path) -> None:
    root = _pack_with(
        tmp_path,
        "review_limits:\n  us.secdef:\n    days: 20\n",
        pack_extra="  - {calendar: QQ, day: 2025-01-02, reason: made up}\n",
    )
    with pytest.raises(PackError, match=r"closures\[4\]\.calendar: 'QQ' is not a country"):
        load_pack(root)
