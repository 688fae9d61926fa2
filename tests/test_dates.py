"""The dates clearance takes: one range, refused outside in the user's words, safe at its ends.

Every date a user gives (a request's ``date``, ``--as-of``, a term or a
delegation, a bundle's ``effective_from``, a pack's stock dates, the API's
``as_of``) is refused outside ``core.dates``'s range, naming the field; and
every calculation clearance makes from a date in the range (months to
recover, projections, the day before a term, an SLA deadline) stays inside
Python's calendar, which the poisoned dates of a tester's report did not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clearance.core.dates import EARLIEST, LATEST, MAX_SLA_DAYS, RANGE
from clearance.core.request import parse_request
from clearance.core.stockpile import (
    HORIZON_MONTHS,
    Balance,
    Position,
    Thresholds,
    add_months,
    project,
)
from clearance.errors import InputError, PackError, RequestError
from clearance.policy.engine import Screener
from clearance.policy.pack import bundle_from_texts, load_pack
from clearance.service.stockpile import MAX_MONTHS
from clearance.settings import load_settings

from .test_proposals import candidate
from .worlds import G2, G5, T0

BEFORE, AFTER = EARLIEST - dt.timedelta(days=1), LATEST + dt.timedelta(days=1)
# Far more eram than the seed pack's stock: red after, and at 100 a month never green again
# within the horizon, so months to recover searches the whole of it.
DRAINING = {**G5, "funding": None, "quantity": 10**15}


def _request(data: dict[str, Any], day: dt.date) -> dict[str, Any]:
    return {k: v for k, v in {**data, "date": day.isoformat()}.items() if v is not None}


@pytest.mark.parametrize("day", [EARLIEST, LATEST])
def test_a_request_dated_at_either_end_is_taken(day: dt.date) -> None:
    assert parse_request(_request(G2, day)).date == day


@pytest.mark.parametrize("day", [BEFORE, AFTER, dt.date.min, dt.date.max])
def test_a_request_dated_outside_the_range_is_refused_naming_the_date(day: dt.date) -> None:
    with pytest.raises(RequestError) as refused:
        parse_request(_request(G2, day))
    assert refused.value.field == "date"
    assert RANGE in refused.value.message
    assert day.isoformat() in refused.value.message


def test_a_week_date_is_not_a_date_written_yyyy_mm_dd() -> None:
    with pytest.raises(RequestError, match="'2025-W24-1' is not a date of the calendar"):
        parse_request({**G2, "date": "2025-W24-1"})


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=EARLIEST, max_value=LATEST))
@example(day=EARLIEST)
@example(day=LATEST)
@example(day=dt.date(2199, 12, 1))
def test_no_date_calculation_leaves_the_calendar_from_any_date_in_range(day: dt.date) -> None:
    """Each calculation at its longest reach: none raises, from either end or between."""
    position = Position("US", "eram", requirement=1_000, production_per_month=1)
    points = project(position, -(10**9), Thresholds(), day, MAX_MONTHS)
    assert points[-1].on == add_months(day, MAX_MONTHS)
    assert add_months(day, MAX_MONTHS + HORIZON_MONTHS) > day
    assert day - dt.timedelta(days=1) < day  # a term ends the day before the next begins
    since = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
    assert since + dt.timedelta(days=MAX_SLA_DAYS) > since  # the latest SLA deadline
    assert day + dt.timedelta(days=365) > day  # the probe a policy diff adds after a bundle


@pytest.fixture(scope="module")
def seed_screener() -> Screener:
    return Screener(load_pack())


@pytest.mark.parametrize("day", [EARLIEST, LATEST])
def test_a_draining_transfer_is_screened_at_either_end(
    seed_screener: Screener, day: dt.date
) -> None:
    """The tester's poison: a transfer that leaves tracked stock red, dated at the end of the
    calendar, made months to recover run past year 9999. At the range's ends it is decided."""
    request = parse_request(_request(DRAINING, day))
    # The pack's figures open in 2022; a balance given for any day makes the position tracked.
    decision = seed_screener.decide(
        request, decision_id="x", now=T0, balances=lambda *_: Balance(5_000)
    )
    assert decision.stockpile is not None
    assert decision.stockpile.after.value == "red"
    assert decision.stockpile.months_to_recover is None  # searched the whole horizon


@pytest.mark.parametrize("effective", [BEFORE.isoformat(), AFTER.isoformat(), "9999-12-31"])
def test_a_bundle_effective_outside_the_range_is_refused_naming_effective_from(
    effective: str,
) -> None:
    with pytest.raises(PackError) as refused:
        bundle_from_texts(candidate(effective), load_pack(), "proposal")
    assert refused.value.where == "effective_from"
    assert RANGE in refused.value.message


def test_a_bundle_review_time_beyond_the_longest_is_refused() -> None:
    texts = candidate("2099-01-01")
    texts["bundle.yaml"] += f"review_sla_days: {MAX_SLA_DAYS + 1}\n"
    with pytest.raises(PackError, match="review_sla_days"):
        bundle_from_texts(texts, load_pack(), "proposal")


@pytest.mark.parametrize("days", [str(MAX_SLA_DAYS + 1), "9" * 5000, "0", "²"])
def test_a_review_time_setting_outside_its_range_is_refused_naming_it(days: str) -> None:
    with pytest.raises(InputError, match="CLEARANCE_SLA_DAYS"):
        load_settings({"CLEARANCE_SLA_DAYS": days})
