"""Re-screening: every open case judged again under the policy in force, changes recorded;
and every approved case not yet fully executed judged again, suspended when the policy in
force would no longer permit it.

A change of outcome of an open case is put on the ledger for the case, never
applied silently: the case keeps its state until a person acts on it. An
approved case (approved, cleared, partly executed) is judged as its next draw
would be (``service.execution``): when a bundle that has taken effect would not
permit it with the approvals it holds, it is suspended at once, and waits on
the offices that policy names. It all runs in one writing transaction, so the
stock every transfer is judged on is the stock as it stands then.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from clearance.core.actors import ADMIN
from clearance.core.decision import Decision
from clearance.core.events import CaseRescreened, CaseRescreenFailed
from clearance.core.request import TransferRequest
from clearance.core.stockpile import Balance
from clearance.core.workflow import EXECUTABLE_STATES, OPEN_STATES
from clearance.errors import NotFoundError
from clearance.policy.engine import BalanceLookup, Screener
from clearance.service.bundles_taken_effect import record_taken_effect, taken_effect_unrecorded
from clearance.service.execution import judge_on_day, suspend
from clearance.service.rejudge import CannotJudge, judge_again
from clearance.service.stock_seen import decision_recorded
from clearance.service.stockpile import StockService
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

__all__ = ["Rescreener", "Rescreening"]


@dataclass(frozen=True, slots=True)
class Rescreening:
    """What a re-screening found: the open cases that would now be decided differently
    (``case, was, would_be``), those it could not judge (``case, problem``), and the
    approved cases it suspended (``case, offices``: those it now waits on)."""

    changed: tuple[tuple[CaseRecord, str, str], ...]
    failed: tuple[tuple[CaseRecord, str], ...]
    suspended: tuple[tuple[CaseRecord, tuple[str, ...]], ...] = ()


def _last_finding(tx: Transaction, case_id: str) -> CaseRescreened | CaseRescreenFailed | None:
    """The payload of the case's last re-screening event, if it has one."""
    for event in reversed(tx.ledger.of_case(case_id)):
        payload = event.event.payload
        if isinstance(payload, CaseRescreened | CaseRescreenFailed):
            return payload
    return None


def _already_recorded(tx: Transaction, case_id: str, decision: Decision) -> bool:
    """Whether the case's last re-screening already found this outcome under these bundles."""
    last = _last_finding(tx, case_id)
    return (
        isinstance(last, CaseRescreened)
        and last.would_be == decision.outcome.value
        and last.bundles == decision.bundles
    )


def _already_failed(tx: Transaction, case_id: str, problem: str) -> bool:
    """Whether the case's last re-screening already failed, and for the same reason."""
    return _last_finding(tx, case_id) == CaseRescreenFailed(problem)


class Rescreener:
    """Judges the open cases again with one screener (the pack in force) over one store."""

    def __init__(self, store: Store, screener: Screener, stock: StockService) -> None:
        self.store = store
        self.screener = screener
        self.stock = stock

    def took_effect(self, *, now: dt.datetime) -> bool:
        """Whether a bundle of the pack took effect by its date while this installation kept
        its record (after the ledger's first event) and is not yet on the ledger: the day a
        running server re-screens by itself (web/clock.py). Bundles in force before the
        record began are the policy it started under, not a change it must react to."""
        with self.store.reading() as tx:
            first = tx.ledger.page(max_level=None, before=2, limit=1)
            if not first:
                return False
            began = first[0].event.at.date()
            unrecorded = taken_effect_unrecorded(tx, self.screener.pack, now)
            return any(b.effective_from > began for b in unrecorded)

    def _suspend_approved(
        self,
        tx: Transaction,
        *,
        actor: str,
        now: dt.datetime,
        failed: list[tuple[CaseRecord, str]],
    ) -> list[tuple[CaseRecord, tuple[str, ...]]]:
        """Suspend every approved case not fully executed that the policy in force today
        would not permit with the approvals it holds; those it cannot judge go to
        ``failed`` (recorded as a re-screening failure, once while it stays the same)."""
        suspended = []
        for case in tx.cases.each(states=list(EXECUTABLE_STATES)):
            try:
                judged = judge_on_day(tx, self.screener, case, now.date(), now)
            except CannotJudge as exc:
                failed.append((case, exc.problem))
                if not _already_failed(tx, case.id, exc.problem):
                    tx.append(CaseRescreenFailed(exc.problem), actor=actor, at=now, case_id=case.id)
                continue
            if judged.permits:
                continue
            moved, _ = suspend(
                tx, case, judged, cause="activation", quantity=None, actor=actor, now=now
            )
            suspended.append((moved, judged.offices))
        return suspended

    def _balances_without(self, tx: Transaction, case: CaseRecord) -> BalanceLookup:
        """The balances a case is judged again on: the store's, less what the case itself
        committed (a transfer approved with conditions holds its own quantity; counting it
        against itself would make every such transfer look short of stock)."""

        def lookup(holder: str, system: str, on: dt.date) -> Balance | None:
            balance = self.stock.balance_in(tx, holder, system, on)
            request = case.request
            if (
                balance is None
                or not isinstance(request, TransferRequest)
                or (holder, system) != (request.requester, request.system)
            ):
                return balance
            own = tx.stock.committed_by_case(case.id)
            return Balance(balance.on_hand, balance.committed - own)

        return lookup

    def rescreen(self, *, actor: str, now: dt.datetime) -> Rescreening:
        """Judge every open case again under the policy in force today; record changed outcomes.

        Bundles of the pack that have taken effect and are not yet on the ledger are
        recorded first, by the system (they took effect by date, not by anyone's act).

        Returns every open case that would now be decided differently; a finding
        already on the ledger (same outcome under the same bundles) is not
        recorded twice. A case that cannot be judged (``service.rejudge``) does
        not stop the others: the failure, in words, is recorded for it (once,
        while it stays the same) and returned with the findings. Then the approved
        cases not yet fully executed that the policy in force today would not
        permit are suspended (``_suspend_approved``), and returned too.
        """
        changed: list[tuple[CaseRecord, str, str]] = []
        failed: list[tuple[CaseRecord, str]] = []
        with self.store.transaction() as tx:
            if actor != ADMIN and tx.people.user(actor) is None:
                raise NotFoundError(f"unknown user '{actor}'")
            record_taken_effect(tx, self.screener.pack, now=now)
            for case in tx.cases.each(states=list(OPEN_STATES)):
                try:
                    _, decision = judge_again(
                        case,
                        lambda stored, request: self.screener.decide(
                            request,
                            decision_id=str(uuid.uuid4()),
                            now=now,
                            as_of=max(request.date, now.date()),
                            balances=self._balances_without(tx, stored),
                        ),
                    )
                except CannotJudge as exc:
                    failed.append((case, exc.problem))
                    if not _already_failed(tx, case.id, exc.problem):
                        tx.append(
                            CaseRescreenFailed(exc.problem), actor=actor, at=now, case_id=case.id
                        )
                    continue
                if decision.outcome.value == case.outcome:
                    continue
                changed.append((case, case.outcome, decision.outcome.value))
                if _already_recorded(tx, case.id, decision):
                    continue
                tx.append(
                    CaseRescreened(
                        case.outcome,
                        decision.outcome.value,
                        decision.judged_as_of,
                        decision_recorded(decision),
                        bundles=decision.bundles,
                    ),
                    actor=actor,
                    at=now,
                    case_id=case.id,
                )
            suspended = self._suspend_approved(tx, actor=actor, now=now, failed=failed)
        return Rescreening(tuple(changed), tuple(failed), tuple(suspended))
