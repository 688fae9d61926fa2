"""A bundle's time limits per gate, and the escalation ladder each may climb.

::

    review_limits:
      us.secdef:                      # an office the bundle's policies gate on
        days: 20
        count: working_days           # or calendar_days (the default)
        calendar: US                  # optional: whose public holidays (default: the office's party)
        escalation:                   # optional: steps in the order they are reached
          - {after: 10, tell: office}        # remind the office itself
          - {after: 20, tell: us.president}  # tell another office
          - {after: 30, tell: oversight}     # tell the auditors

Each step fires once, when the office's clock has counted ``after`` days
(``service.escalation``). Every error names the field, and a ladder whose
steps do not climb is refused: a step that could never come after the one
before it is a mistake in the bundle, not a policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearance.core.catalog import Catalog
from clearance.core.dates import MAX_SLA_DAYS
from clearance.core.working_days import DayCount, calendar_problem
from clearance.errors import PackError

__all__ = ["OFFICE", "OVERSIGHT", "GateRule", "Rung", "read_review_limits"]

FIELD = "review_limits"
OFFICE = "office"
"""A step that tells the gate's own office (a reminder)."""
OVERSIGHT = "oversight"
"""A step that tells oversight: the users with the auditor role."""


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of a ladder: after ``after`` counted days, tell ``tell`` (``office``,
    ``oversight`` or another office's id)."""

    after: int
    tell: str


@dataclass(frozen=True, slots=True)
class GateRule:
    """How long a gate's office has, counted how, on whose holidays, and its ladder."""

    office: str
    days: int
    count: DayCount
    calendar: str | None
    ladder: tuple[Rung, ...] = ()


def _whole(file: str, where: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SLA_DAYS:
        raise PackError(file, where, f"must be a whole number of days from 1 to {MAX_SLA_DAYS}")
    return value


def _ladder(file: str, where: str, value: Any, catalog: Catalog) -> tuple[Rung, ...]:
    if not isinstance(value, list):
        raise PackError(file, where, "must be a list of steps, each {after: DAYS, tell: WHOM}")
    rungs: list[Rung] = []
    for n, step in enumerate(value, start=1):
        at = f"{where}[{n}]"
        if not isinstance(step, dict) or set(step) != {"after", "tell"}:
            raise PackError(file, at, "must be {after: DAYS, tell: WHOM}")
        after = _whole(file, f"{at}.after", step["after"])
        tell = step["tell"]
        if tell not in (OFFICE, OVERSIGHT) and (
            not isinstance(tell, str) or catalog.authority(tell) is None
        ):
            raise PackError(
                file, f"{at}.tell", f"must be office, oversight or an office's id, not {tell!r}"
            )
        if rungs and after <= rungs[-1].after:
            raise PackError(
                file,
                f"{at}.after",
                f"step {n} (after {after} days) must come after step {n - 1}"
                f" (after {rungs[-1].after} days): a ladder climbs in order",
            )
        rungs.append(Rung(after, tell))
    return tuple(rungs)


def _rule(file: str, office: str, value: Any, catalog: Catalog) -> GateRule:
    where = f"{FIELD}.{office}"
    authority = catalog.authority(office)
    if authority is None:
        raise PackError(file, where, f"unknown office '{office}'")
    if not isinstance(value, dict):
        raise PackError(file, where, "must be a mapping of days, count, calendar, escalation")
    extra = sorted(set(value) - {"days", "count", "calendar", "escalation"})
    if extra:
        raise PackError(file, f"{where}.{extra[0]}", "is not a known field")
    days = _whole(file, f"{where}.days", value.get("days"))
    raw_count = value.get("count", DayCount.CALENDAR.value)
    if raw_count not in {c.value for c in DayCount}:
        raise PackError(file, f"{where}.count", "must be calendar_days or working_days")
    count = DayCount(raw_count)
    calendar = value.get("calendar", authority.party if count is DayCount.WORKING else None)
    if calendar is not None:
        if not isinstance(calendar, str):
            raise PackError(file, f"{where}.calendar", "must be a country code such as US")
        if (problem := calendar_problem(calendar)) is not None:
            field = f"{where}.calendar" if "calendar" in value else f"{where}.count"
            raise PackError(file, field, f"no public holidays to count working days: {problem}")
    ladder = _ladder(file, f"{where}.escalation", value.get("escalation", []), catalog)
    return GateRule(office, days, count, calendar, ladder)


def read_review_limits(file: str, value: Any, catalog: Catalog) -> tuple[GateRule, ...]:
    """The ``review_limits`` of a bundle's meta (module doc); () when it sets none."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PackError(file, FIELD, "must be a mapping from an office's id to its limit")
    return tuple(_rule(file, str(office), rule, catalog) for office, rule in value.items())
