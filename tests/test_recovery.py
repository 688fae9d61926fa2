"""Months to recover, worked out by arithmetic, against the month-by-month stepping it replaced.

``months_to_recover`` is in every transfer's stockpile facts, which policy
reads and decisions record: the arithmetic must give what stepping gave for
every input, the 50-year cap and a horizon past year 9999 included. The
stepping version is kept here, as it was, as the reference.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.core.stockpile import (
    HORIZON_MONTHS,
    Delivery,
    Position,
    Thresholds,
    add_months,
    months_to_recover,
)


def stepped(
    position: Position, available: int, thresholds: Thresholds, start: dt.date
) -> int | None:
    """The stepping version: one month at a time, up to the horizon."""
    target = thresholds.green_level(position.requirement)
    for month in range(HORIZON_MONTHS + 1):
        if month:
            after, until = add_months(start, month - 1), add_months(start, month)
            due = sum(d.quantity for d in position.deliveries if after < d.on <= until)
            available += position.production_per_month + due
        if available >= target:
            return month
    return None


def _outcome(
    position: Position, available: int, thresholds: Thresholds, start: dt.date, how: object
) -> object:
    try:
        return how(position, available, thresholds, start)  # type: ignore[operator]
    except ValueError as exc:
        return ("raises", str(exc))


_START = st.one_of(
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    # month ends, where a month later is clipped
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 11, 30)).map(
        lambda d: add_months(d.replace(day=1), 1) - dt.timedelta(days=1)
    ),
    st.dates(dt.date(9940, 1, 1), dt.date(9999, 12, 31)),  # the horizon passes year 9999
)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Position, int, Thresholds, dt.date]:
    start = draw(_START)
    span = st.integers(-400, 7_500).map(lambda days: start + dt.timedelta(days=days))
    deliveries = draw(
        st.lists(
            st.builds(
                Delivery,
                st.one_of(span, st.just(start), st.sampled_from([add_months(start, 3)])).filter(
                    lambda d: d.year < 10_000
                ),
                st.integers(-300, 3_000),
            ),
            max_size=6,
        )
        if start.year < 9_000
        else st.just([])
    )
    position = Position(
        "US",
        "atacms",
        requirement=draw(st.integers(0, 5_000)),
        production_per_month=draw(st.integers(-20, 200)),
        deliveries=tuple(deliveries),
    )
    yellow = draw(st.integers(0, 150))
    thresholds = Thresholds(draw(st.integers(yellow, 200)), yellow)
    return position, draw(st.integers(-2_000, 8_000)), thresholds, start


@settings(max_examples=1_500, deadline=None)
@given(_cases())
def test_months_to_recover_is_what_stepping_month_by_month_gives(
    case: tuple[Position, int, Thresholds, dt.date],
) -> None:
    assert _outcome(*case, months_to_recover) == _outcome(*case, stepped)


def test_the_cap_and_the_month_a_lot_arrives_are_kept() -> None:
    start = dt.date(2025, 1, 31)
    slow = Position("US", "x", requirement=1_000, production_per_month=2)
    # 1,200 needed from 0 at 2 a month: month 600 is the last looked at, 601 is "never"
    assert months_to_recover(slow, 0, Thresholds(), start) == 600
    assert stepped(slow, 0, Thresholds(), start) == 600
    assert months_to_recover(slow, -2, Thresholds(), start) is None
    # a lot due on 28 February 2025 arrives in the first month (31 January → 28 February)
    lot = Position("US", "x", 1_000, 0, (Delivery(dt.date(2025, 2, 28), 1_200),))
    assert months_to_recover(lot, 0, Thresholds(), start) == 1
    late = Position("US", "x", 1_000, 0, (Delivery(dt.date(2025, 3, 1), 1_200),))
    assert months_to_recover(late, 0, Thresholds(), start) == 2


def test_a_horizon_past_the_last_date_fails_as_stepping_did() -> None:
    never = Position("US", "x", requirement=1_000)
    assert _outcome(never, 0, Thresholds(), dt.date(9990, 1, 1), months_to_recover) == (
        "raises",
        "year 10000 is out of range",
    )
    assert months_to_recover(never, 1_200, Thresholds(), dt.date(9990, 1, 1)) == 0
