"""Each gate's review clock on a case, as policy sets it.

A gate's limit comes from the bundle that judged the case for the office's
holder (``review_limits`` in its bundle.yaml, policy/review_limits.py):
calendar or working days, on the office's country's public holidays and the
pack's closures. A gate no bundle sets a limit for has the case's
``sla_days`` in calendar days (the smallest ``review_sla_days`` of the
bundles that judged it, or ``CLEARANCE_SLA_DAYS``).

A clock starts when the case enters review and stops while the case waits
for its requester's answer (``awaiting_answer``); both are read from the
case's own ledger events, so every reader of the same record computes the
same clock. The case's ``due_at`` (what overdue lists sort on) is its
earliest gate's due time, fixed in the event that moves it into review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from clearance.core.catalog import Catalog
from clearance.core.decision import RequiredApproval
from clearance.core.events import CaseStateChanged, PayloadError
from clearance.core.workflow import CaseState
from clearance.core.working_days import Calendar, Clock, DayCount, Limit, Stop, calendar_problem
from clearance.policy.history import BundleHistory
from clearance.policy.review_limits import GateRule, Rung
from clearance.store.records import CaseRecord, LedgerRecord

__all__ = ["GateClock", "ReviewClocks", "ReviewSpan", "earliest_due", "review_span"]


@dataclass(frozen=True, slots=True)
class ReviewSpan:
    """When a case entered review, and the stops while it waited for an answer."""

    started: dt.datetime
    stops: tuple[Stop, ...] = ()


def review_span(created_at: dt.datetime, events: Iterable[LedgerRecord]) -> ReviewSpan:
    """A case's review span from its events: entered review at its first move into
    ``in_review`` (its submission time if none is found), stopped at each move into
    ``awaiting_answer`` until the move out of it."""
    started: dt.datetime | None = None
    stops: list[Stop] = []
    asked: dt.datetime | None = None
    for record in events:
        try:
            event = record.event
        except PayloadError:
            continue  # a garbled event: audit verify names it; the clock reads the rest
        p = event.payload
        if not isinstance(p, CaseStateChanged):
            continue
        if p.to_state == CaseState.IN_REVIEW and started is None:
            started = event.at
        if p.to_state == CaseState.AWAITING_ANSWER:
            asked = event.at
        elif p.from_state == CaseState.AWAITING_ANSWER and asked is not None:
            stops.append(Stop(asked, event.at))
            asked = None
    if asked is not None:
        stops.append(Stop(asked))
    return ReviewSpan(started or created_at, tuple(stops))


@dataclass(frozen=True, slots=True)
class GateClock:
    """One gate's clock on one case, and the ladder it climbs."""

    office: str
    clock: Clock
    ladder: tuple[Rung, ...]

    @property
    def limit(self) -> Limit:
        return self.clock.limit


class ReviewClocks:
    """The clocks of the policy in force: ``history`` (pack and activated proposals), the
    pack's ``closures`` per calendar, and its ``catalog`` (whose office is whose)."""

    def __init__(
        self,
        history: BundleHistory,
        closures: Mapping[str, frozenset[dt.date]],
        catalog: Catalog,
    ) -> None:
        self.history = history
        self.closures = closures
        self.catalog = catalog

    def working_days_of(self, office: str) -> Limit:
        """A count of ``office``'s working days, whatever its limit counts: its party's
        public holidays and the pack's closures (weekdays alone for a party no holiday
        calendar knows). For reports that compare offices in working days."""
        authority = self.catalog.authority(office)
        country = None if authority is None else authority.party
        if country is not None and calendar_problem(country) is not None:
            country = None
        closures = self.closures.get(country or "", frozenset())
        return Limit(1, DayCount.WORKING, Calendar(country, closures))

    def rule(self, bundles: Mapping[str, str | None], office: str) -> GateRule | None:
        """The limit the bundles that judged a case (holder → revision) set for ``office``."""
        for revision in bundles.values():
            bundle = None if revision is None else self.history.by_revision(revision)
            if bundle is not None and (rule := bundle.review_limit(office)) is not None:
                return rule
        return None

    def limit(self, rule: GateRule | None, sla_days: int) -> Limit:
        if rule is None:
            return Limit(sla_days)
        calendar = Calendar(rule.calendar, self.closures.get(rule.calendar or "", frozenset()))
        return Limit(rule.days, rule.count, calendar)

    def gates(
        self,
        bundles: Mapping[str, str | None],
        gates: Sequence[RequiredApproval],
        sla_days: int,
        span: ReviewSpan,
    ) -> list[GateClock]:
        """The clock of each gate, in the decision's order."""
        clocks = []
        for gate in gates:
            rule = self.rule(bundles, gate.authority)
            clock = Clock(span.started, self.limit(rule, sla_days), span.stops)
            clocks.append(GateClock(gate.authority, clock, () if rule is None else rule.ladder))
        return clocks

    def of_case(self, case: CaseRecord, events: Iterable[LedgerRecord]) -> list[GateClock]:
        """Every gate's clock on ``case``, read from its events."""
        span = review_span(case.created_at, events)
        decision = case.decision
        return self.gates(decision.bundles, decision.required_approvals, case.sla_days, span)

    def due_at(
        self,
        bundles: Mapping[str, str | None],
        gates: Sequence[RequiredApproval],
        sla_days: int,
        span: ReviewSpan,
    ) -> dt.datetime:
        """When a case in review is due: its earliest gate's due time (the case's own
        ``sla_days`` from its start, when it needs no named approval)."""
        return earliest_due(self.gates(bundles, gates, sla_days, span), sla_days, span)


def earliest_due(clocks: Sequence[GateClock], sla_days: int, span: ReviewSpan) -> dt.datetime:
    """The due time of a case whose gates have ``clocks``: the earliest of theirs (the case's
    own ``sla_days`` from its start, when it needs no named approval)."""
    if not clocks:
        return Clock(span.started, Limit(sla_days), span.stops).due_at()
    return min(c.clock.due_at() for c in clocks)
