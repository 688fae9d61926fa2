"""The rules of clearance's calendar, stated on the pure code (``core.dates``).

The request, bundle and setting tests refuse real dates out of range; these
state the range itself, its words, the one rule of a term and the day a
deadline at midnight reads as.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator

import pytest

from clearance.core.dates import RANGE, check_in_range, in_range, in_term, last_day_before

FIRST = dt.date(2025, 1, 1)
LAST = dt.date(2025, 12, 31)


def test_the_range_in_words_names_both_ends() -> None:
    """Every error about the range says it the same way."""
    assert RANGE == "from 1900-01-01 to 2199-12-31"


@pytest.mark.parametrize(
    ("day", "taken"),
    [
        (dt.date(1899, 12, 31), False),
        (dt.date(1900, 1, 1), True),
        (dt.date(2025, 6, 15), True),
        (dt.date(2199, 12, 31), True),
        (dt.date(2200, 1, 1), False),
    ],
)
def test_the_range_holds_both_ends_and_nothing_beyond(day: dt.date, taken: bool) -> None:
    """1900-01-01 and 2199-12-31 are in the range; the days either side are not."""
    assert in_range(day) is taken


@pytest.mark.parametrize("day", [dt.date(1900, 1, 1), dt.date(2199, 12, 31)])
def test_a_day_in_range_is_given_back(day: dt.date) -> None:
    """A day clearance takes is handed back as it is."""
    assert check_in_range(day) == day


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (dt.date(1899, 12, 31), "1899-12-31 is outside the dates clearance takes (from 1900-01-01 to 2199-12-31)"),
        (dt.date(2200, 1, 1), "2200-01-01 is outside the dates clearance takes (from 1900-01-01 to 2199-12-31)"),
    ],
)  # fmt: skip
def test_a_day_out_of_range_is_refused_saying_the_day_and_the_range(
    day: dt.date, words: str
) -> None:
    """The refusal names the day and the range, for the field's error."""
    with pytest.raises(ValueError, match=f"^{re.escape(words)}$"):
        check_in_range(day)


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (dt.date(2024, 12, 31), False),
        (FIRST, True),
        (LAST, True),
        (dt.date(2026, 1, 1), False),
    ],
)
def test_a_term_covers_its_first_and_last_day_and_nothing_outside(
    day: dt.date, covered: bool
) -> None:
    """Both ends of a term are in it."""
    assert in_term(day, FIRST, LAST) is covered


@pytest.mark.parametrize(
    ("day", "covered"),
    [(dt.date(2024, 12, 31), False), (FIRST, True), (dt.date(2199, 12, 31), True)],
)
def test_an_open_ended_term_covers_every_day_from_its_first(day: dt.date, covered: bool) -> None:
    """A term without a last day never ends."""
    assert in_term(day, FIRST, None) is covered


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (dt.datetime(2025, 6, 16, tzinfo=dt.UTC), dt.date(2025, 6, 15)),
        (dt.datetime(2025, 6, 16, 0, 0, 0, 1, tzinfo=dt.UTC), dt.date(2025, 6, 16)),
        (dt.datetime(2025, 6, 16, 23, 59, 59, 999999, tzinfo=dt.UTC), dt.date(2025, 6, 16)),
        (dt.datetime(2025, 6, 16, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), dt.date(2025, 6, 15)),
        (dt.datetime(2025, 6, 16, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))), dt.date(2025, 6, 17)),
    ],
)  # fmt: skip
def test_a_deadline_reads_as_the_last_utc_day_wholly_before_it(
    moment: dt.datetime, day: dt.date
) -> None:
    """Due at the first moment of a day reads as the day before; a microsecond later, as that
    day; a moment in another zone is read in UTC."""
    assert last_day_before(moment) == day


@pytest.fixture
def machine_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time zone nine hours ahead of UTC."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("machine_in_tokyo")
def test_a_deadline_reads_in_utc_whatever_the_machine_s_zone() -> None:
    """At 20:00 UTC it is already the next day in Tokyo; the day read is still UTC's."""
    assert last_day_before(dt.datetime(2025, 6, 16, 20, 0, tzinfo=dt.UTC)) == dt.date(2025, 6, 16)
