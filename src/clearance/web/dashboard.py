"""What the dashboard shows, gathered only from what its viewer may see.

Open cases come from the service's case pages with the viewer's scope
(clearance and, for a requester, their own cases); decisions over time come
from the ledger's state changes of the last twelve months, read with the
viewer's clearance, so no count includes a case above it. The page's banner
level is the highest level of any case counted anywhere on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from clearance.core.access import Level, parse_level
from clearance.core.chain import EventType
from clearance.core.workflow import OPEN_STATES, CaseState
from clearance.errors import NotFoundError
from clearance.service import audit
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView
from clearance.store.records import CaseRecord

from .access import case_scope, visible_case, visible_overdue
from .charts import SERIES, MonthCounts
from .context import Server

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
    CaseState.APPROVED_WITH_CONDITIONS.value,
)
_BATCH = 500
_MAX_EVENTS = 50_000
"""The chart reads at most this many state changes (newest first); it says so if it stopped."""


@dataclass
class Dashboard:
    open_by_state: dict[str, list[int]]
    open_total: int
    overdue: list[CaseRecord]
    oldest: CaseView | None
    oldest_waits_on: list[dict[str, Any]]
    months: list[MonthCounts]
    chart_truncated: bool
    levels: set[int] = field(default_factory=set)

    @property
    def level(self) -> Level:
        return Level(max(self.levels, default=0))


def _bucket(age_days: float) -> int:
    for index, (low, high, _) in enumerate(AGE_BUCKETS):
        if age_days >= low and (high is None or age_days < high):
            return index
    return len(AGE_BUCKETS) - 1


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


def _scan(
    srv: Server, viewer: SignedIn, type: EventType, since: dt.datetime
) -> tuple[list[dict[str, Any]], bool]:
    """Events of one type at or after ``since``, newest first, of cases up to the clearance."""
    found: list[dict[str, Any]] = []
    before: int | None = None
    while len(found) < _MAX_EVENTS:
        batch = audit.ledger_page(
            srv.store,
            max_level=int(viewer.clearance),
            type=type.value,
            before=before,
            limit=_BATCH,
        )
        for event in batch:
            if dt.datetime.fromisoformat(event["at"]) < since:
                return found, False
            found.append(event)
        if len(batch) < _BATCH:
            return found, False
        before = batch[-1]["seq"]
    return found, True


def decisions_by_month(
    srv: Server, viewer: SignedIn, now: dt.datetime, months: int = 12
) -> tuple[list[MonthCounts], set[int], bool]:
    """Cases approved, approved with conditions or denied per month (the last ``months``),
    counting only cases the viewer may see; also the levels of the cases counted, and
    whether the ledger was too long to read whole."""
    keys = _month_keys(now, months)
    since = dt.datetime.fromisoformat(f"{keys[0]}-01T00:00:00+00:00")
    changes, truncated = _scan(srv, viewer, EventType.CASE_STATE_CHANGED, since)
    decided = [
        e for e in changes if e["payload"]["to"] in {key for key, _ in SERIES} and e["case_id"]
    ]
    # Whose case and how classified: from the submissions in the same window, and for a
    # case submitted before it, from the case itself (a few at most).
    submitted, _ = _scan(srv, viewer, EventType.CASE_SUBMITTED, since)
    known: dict[str, tuple[str, int]] = {
        e["case_id"]: (e["actor"], int(parse_level(e["payload"]["classification"])))
        for e in submitted
        if e["case_id"]
    }
    scope = case_scope(srv, viewer)
    counts = {key: MonthCounts(key) for key in keys}
    levels: set[int] = set()
    for event in decided:
        case_id = event["case_id"]
        if case_id not in known:
            try:
                view = visible_case(srv, viewer, case_id)
            except NotFoundError:
                known[case_id] = ("", -1)
            else:
                known[case_id] = (view.case.submitted_by, view.case.classification)
        submitter, level = known[case_id]
        if level < 0 or (scope["submitted_by"] is not None and submitter != viewer.id):
            continue
        month = counts.get(event["at"][:7])
        if month is None:
            continue
        to = event["payload"]["to"]
        month.counts[to] = month.counts.get(to, 0) + 1
        levels.add(level)
    return list(counts.values()), levels, truncated


def build_dashboard(srv: Server, viewer: SignedIn) -> Dashboard:
    now = srv.now()
    scope = case_scope(srv, viewer)
    by_state = {state: [0] * len(AGE_BUCKETS) for state in OPEN_ORDER}
    levels: set[int] = set()
    offset, total = 0, 0
    while True:
        batch, _ = srv.cases.page(states=sorted(OPEN_STATES), limit=_BATCH, offset=offset, **scope)
        for case in batch:
            age = (now - case.created_at).total_seconds() / 86400
            by_state.setdefault(case.state, [0] * len(AGE_BUCKETS))[_bucket(age)] += 1
            levels.add(case.classification)
        total += len(batch)
        offset += len(batch)
        if len(batch) < _BATCH:
            break
    overdue = visible_overdue(srv, viewer, now)
    levels.update(c.classification for c in overdue)
    oldest_page, _ = srv.cases.page(states=[CaseState.IN_REVIEW.value], limit=1, offset=0, **scope)
    oldest = visible_case(srv, viewer, oldest_page[0].id) if oldest_page else None
    if oldest is not None:
        levels.add(oldest.case.classification)
    months, chart_levels, truncated = decisions_by_month(srv, viewer, now)
    levels |= chart_levels
    return Dashboard(
        open_by_state=by_state,
        open_total=total,
        overdue=overdue,
        oldest=oldest,
        oldest_waits_on=waiting_on(oldest) if oldest is not None else [],
        months=months,
        chart_truncated=truncated,
        levels=levels,
    )
