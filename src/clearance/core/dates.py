"""The calendar clearance works in: every date a user gives lies from 1900-01-01 to 2199-12-31.

A request's ``date``, ``--as-of``, a term of office or a delegation, a
bundle's ``effective_from``, the dates of a pack's stockpile figures and the
dates asked of the API are all refused outside this range, in one line naming
the field. The ends are chosen so that:

- the range is wide enough for every date a review mechanism meets: the
  history it records (back to 1900) and the planning it judges (requests and
  policy dated up to the end of the 22nd century);
- the longest reach of date arithmetic from any date in it stays well inside
  Python's calendar (years 1 to 9999): a month-by-month stockpile projection
  (at most 240 months) beyond the 600-month horizon of "months to recover",
  a term that ends the day before the next begins, an SLA deadline
  (at most ``MAX_SLA_DAYS`` days), a policy diff's probe a year after the last
  bundle. So no calculation on a date a user gave can fail at the ends.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_SLA_DAYS",
    "RANGE",
    "check_in_range",
    "in_range",
    "in_term",
    "last_day_before",
]

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
RANGE = f"from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
"""The range in words, as every error about it says it."""

MAX_SLA_DAYS = 3650
"""The longest review deadline (ten years) a setting or a bundle may give, in days."""


def in_range(day: dt.date) -> bool:
    return EARLIEST <= day <= LATEST


def check_in_range(day: dt.date) -> dt.date:
    """``day`` if clearance takes it; otherwise ``ValueError`` saying the range, for a field's error."""
    if not in_range(day):
        raise ValueError(f"{day.isoformat()} is outside the dates clearance takes ({RANGE})")
    return day


def in_term(day: dt.date, first: dt.date, last: dt.date | None) -> bool:
    """Whether a term from ``first`` to ``last`` (both included; None: open-ended) covers
    ``day``: the one rule for offices held and delegations given."""
    return first <= day and (last is None or day <= last)


def last_day_before(moment: dt.datetime) -> dt.date:
    """The last (UTC) day wholly before ``moment``: for a deadline that falls at the first
    moment of a day (a case due, an approval lapsing), the day it reads as."""
    return (moment - dt.timedelta(microseconds=1)).astimezone(dt.UTC).date()
