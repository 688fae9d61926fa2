"""The rules of a legislature's waiting period, stated on the pure code (``core.waiting_periods``).

The service and interface tests wait out and waive real periods; these state
the period's own rules: which days it covers, how it reads in one line, and
its recorded form, written and read back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.core.waiting_periods import WaitingPeriod

NOTIFIED = dt.date(2025, 8, 28)
PERIOD = WaitingPeriod(
    holder="US",
    legislature="us.congress",
    rule="major defense equipment of $14,000,000 or more",
    value_usd=25_000_000,
    threshold_usd=14_000_000,
    days=30,
    notified_on=NOTIFIED,
    waiver="us.president",
)
RECORDED = {
    "holder": "US",
    "legislature": "us.congress",
    "rule": "major defense equipment of $14,000,000 or more",
    "value_usd": 25_000_000,
    "threshold_usd": 14_000_000,
    "days": 30,
    "notified_on": "2025-08-28",
    "ends_on": "2025-09-27",
    "executable_from": "2025-09-28",
    "waiver": "us.president",
}


def test_the_period_counts_calendar_days_after_the_day_of_notification() -> None:
    assert PERIOD.ends_on == dt.date(2025, 9, 27)
    assert PERIOD.executable_from == dt.date(2025, 9, 28)


def test_execution_is_blocked_up_to_and_on_the_last_day_only() -> None:
    assert PERIOD.blocks(NOTIFIED)
    assert PERIOD.blocks(dt.date(2025, 9, 27))
    assert not PERIOD.blocks(dt.date(2025, 9, 28))


def test_the_period_reads_in_one_line_with_its_dates_and_its_waiver() -> None:
    assert PERIOD.describe() == (
        "us.congress notified on 2025-08-28: waiting period of 30 days ends 2025-09-27;"
        " executable from 2025-09-28 unless us.president waives it"
    )


def test_the_recorded_form_holds_every_figure_and_date() -> None:
    assert PERIOD.as_dict() == RECORDED


def test_the_recorded_form_reads_back_as_the_period() -> None:
    assert WaitingPeriod.from_dict(RECORDED) == PERIOD


@pytest.mark.parametrize("field", ["value_usd", "threshold_usd", "days"])
@pytest.mark.parametrize("value", [True, "30", 30.0, None])
def test_a_recorded_figure_that_is_not_a_whole_number_is_refused(field: str, value: Any) -> None:
    with pytest.raises(TypeError, match=r"^value_usd, threshold_usd and days are whole numbers$"):
        WaitingPeriod.from_dict({**RECORDED, field: value})


def test_a_recorded_period_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^a waiting period is a JSON object$"):
        WaitingPeriod.from_dict([RECORDED])


@pytest.mark.parametrize("missing", ["holder", "days", "notified_on", "waiver"])
def test_a_recorded_period_missing_a_field_is_refused(missing: str) -> None:
    recorded = {k: v for k, v in RECORDED.items() if k != missing}
    with pytest.raises(KeyError, match=missing):
        WaitingPeriod.from_dict(recorded)
