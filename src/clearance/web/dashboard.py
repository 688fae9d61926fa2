"""What the dashboard shows, gathered only from what its viewer may see.

Open cases by state and age, and decisions per month, are each one grouped
query in the store, filtered by the viewer's scope (clearance and, for a
requester, their own cases), so no count includes a case above it and the
page costs the same with a hundred cases or a hundred thousand. The page's
banner level is the highest level of any case counted anywhere on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from clearance.core.access import Level
from clearance.core.workflow import CaseState
from clearance.errors import DamagedRecord
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView
from clearance.service.runtime import CaseRecord, Runtime

from .charts import MonthCounts

__all__ = ["AGE_BUCKETS", "Dashboard", "build_dashboard", "decisions_by_month", "waiting_on"]

AGE_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 7, "under 7 days"),
    (7, 30, "7 to 30 days"),
    (30, 90, "30 to 90 days"),
    (90, 365, "90 days to a year"),
    (365, None, "over a year"),
)
OPEN_ORDER = (
    CaseState.SUBMITTED.value,
    CaseState.IN_REVIEW.value,
    CaseState.AWAITING_ANSWER.value,
    CaseState.APPROVED_WITH_CONDITIONS.value,
)


@dataclass
class Dashboard:
    open_by_state: dict[str | None, list[int]]  # None: states that no longer read
    open_total: int
    overdue: list[CaseRecord]  # the ten longest waiting
    overdue_total: int
    oldest: CaseView | None
    oldest_waits_on: list[dict[str, Any]]
    oldest_damaged: tuple[int, str] | None  # the oldest's number and why it cannot be shown
    months: list[MonthCounts]
    levels: set[int] = field(default_factory=set)

    @property
    def level(self) -> Level:
        return Level(max(self.levels, default=0))


def waiting_on(view: CaseView) -> list[dict[str, Any]]:
    """The offices whose answer a case in review still waits for."""
    answered = {a.authority for a in view.approvals}
    return [a for a in view.decision["required_approvals"] if a["authority"] not in answered]


def _month_keys(now: dt.datetime, months: int) -> list[str]:
    year, month = now.year, now.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def decisions_by_month(
    srv: Runtime, viewer: SignedIn, now: dt.datetime, months: int = 12
) -> tuple[list[MonthCounts], set[int]]:
    """Cases approved, approved with conditions or denied per month, counting only cases the
    viewer may see; also the levels of the cases counted.

    The months run from the first of the last ``months`` with a decision to the current
    one: a chart of empty months before anything happened says nothing. None at all when
    nothing was decided."""
    keys = _month_keys(now, months)
    since = dt.datetime.fromisoformat(f"{keys[0]}-01T00:00:00+00:00")
    counts = {key: MonthCounts(key) for key in keys}
    levels: set[int] = set()
    for month, kind, number, level in srv.cases.decisions_by_month(actor=viewer.id, since=since):
        if month in counts:
            counts[month].counts[kind] = number
            levels.add(level)
    shown = list(counts.values())
    while shown and not shown[0].total:
        shown.pop(0)
    return shown, levels


def build_dashboard(srv: Runtime, viewer: SignedIn) -> Dashboard:
    now = srv.now()
    by_state: dict[str | None, list[int]] = {state: [0] * len(AGE_BUCKETS) for state in OPEN_ORDER}
    levels: set[int] = set()
    total = 0
    limits = tuple(high for _, high, _ in AGE_BUCKETS if high is not None)
    for state, bucket, number, level in srv.cases.open_summary(
        actor=viewer.id, now=now, bucket_days=limits
    ):
        by_state.setdefault(state, [0] * len(AGE_BUCKETS))[bucket] += number
        levels.add(level)
        total += number
    overdue = srv.cases.overdue(now, actor=viewer.id, limit=10)
    overdue_total = srv.cases.count_overdue(now, actor=viewer.id)
    levels.update(c.classification for c in overdue)
    oldest_page, _ = srv.cases.page(
        actor=viewer.id, states=[CaseState.IN_REVIEW.value], limit=1, offset=0, count_at_most=1
    )
    oldest, oldest_damaged = None, None
    if oldest_page:
        levels.add(oldest_page[0].classification)
        try:
            oldest = srv.cases.view(oldest_page[0].id, actor=viewer.id)
        except DamagedRecord as exc:  # the rest of the dashboard still shows
            oldest_damaged = (oldest_page[0].number, exc.message)
    months, chart_levels = decisions_by_month(srv, viewer, now)
    levels |= chart_levels
    return Dashboard(
        open_by_state=by_state,
        open_total=total,
        overdue=overdue,
        overdue_total=overdue_total,
        oldest=oldest,
        oldest_waits_on=waiting_on(oldest) if oldest is not None else [],
        oldest_damaged=oldest_damaged,
        months=months,
        levels=levels,
    )
