"""What a policy proposal would change: every stored case replayed under it, and the open
cases judged again from its date, shown only as far as the reader may see them.

Kept apart from ``service.proposals`` (proposing and activating) because it is a
read over every case that shares nothing with the lifecycle but the proposal's
bundle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from clearance.core.access import Level
from clearance.core.workflow import OPEN_STATES
from clearance.policy.bundle import PolicyBundle
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack
from clearance.service.access import Action, may, principal, today
from clearance.service.rejudge import CannotJudge, judge_again
from clearance.service.replay import Change, judged_batches
from clearance.service.replay_judging import Rejudger
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

__all__ = ["Impact", "impact_of"]


@dataclass(frozen=True, slots=True)
class Impact:
    """What a proposal would do: to every stored case (replay) and to the open ones from its
    date; ``unjudged`` are the open cases that cannot be judged again, with why.

    Only the cases its reader may see are listed; ``examined`` (how many stored cases
    were replayed) and ``not_replayed`` (how many of them replay could not judge, their
    records no longer reading) count every case, so they are None for a reader who may not
    count them all (``service.access``)."""

    examined: int | None
    replay: tuple[Change, ...]
    open_cases: tuple[tuple[CaseRecord, str, str], ...]
    unjudged: tuple[tuple[CaseRecord, str], ...] = ()
    level: Level = Level.UNCLASSIFIED
    """The highest classification of the cases listed, for a page's banner."""
    not_replayed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "examined": self.examined,
            "not_replayed": self.not_replayed,
            "replay": [c.as_dict() for c in self.replay],
            "open_cases": [
                {"number": case.number, "case_id": case.id, "was": was, "would_be": would_be}
                for case, was, would_be in self.open_cases
            ],
            "unjudged": [
                {"number": case.number, "case_id": case.id, "problem": problem}
                for case, problem in self.unjudged
            ],
        }


def _seen_impact(
    tx: Transaction,
    actor: str,
    counts: tuple[int, int],
    replay: list[Change],
    open_cases: list[tuple[CaseRecord, str, str]],
    unjudged: list[tuple[CaseRecord, str]],
) -> Impact:
    """The impact without any case ``actor`` may not see (a replayed change names only its
    case, so that case is looked up in ``tx``)."""
    reader = principal(tx, actor, today())
    levels: list[int] = []

    def seen(case: CaseRecord | None) -> bool:
        if case is None or not may(reader, Action.CASE_VIEW, case):
            return False
        levels.append(case.classification)
        return True

    counted = may(reader, Action.CASES_COUNT_ALL)
    return Impact(
        counts[0] if counted else None,
        tuple(c for c in replay if seen(tx.cases.get(c.case_id, lock=False))),
        tuple(row for row in open_cases if seen(row[0])),
        tuple(row for row in unjudged if seen(row[0])),
        Level(max(levels, default=0)),
        counts[1] if counted else None,
    )


def impact_of(
    store: Store,
    pack: ScenarioPack,
    bundle: PolicyBundle,
    effective: dt.date,
    *,
    actor: str,
    now: dt.datetime,
) -> Impact:
    """Replay every stored case under ``bundle``, and judge the open cases from ``effective``.

    Replay puts the bundle in force on every date (what it would have done);
    the open cases are judged as re-screening will judge them once it takes
    effect: by the history with the proposal from its date, as of that date or
    the request's, whichever is later. Of it all, only what ``actor`` may see is
    returned (``Impact``).
    """
    rejudger = Rejudger(pack, bundle)
    examined, not_replayed, changes = 0, 0, []
    for count, changed, skipped in judged_batches(store, rejudger, (None, None)):
        examined += count
        not_replayed += len(skipped)
        changes.extend(changed)
    # An activated proposal is in the history already: judge with it once.
    others = [b for b in pack.history if b.revision != bundle.revision]
    screener = Screener(dataclasses.replace(pack, history=BundleHistory([*others, bundle])))
    changed_open: list[tuple[CaseRecord, str, str]] = []
    unjudged: list[tuple[CaseRecord, str]] = []
    with store.reading() as tx:
        for case in tx.cases.each(states=list(OPEN_STATES)):
            try:
                _, decision = judge_again(
                    case,
                    lambda stored, request: screener.decide(
                        request,
                        decision_id=stored.id,
                        now=now,
                        as_of=max(request.date, effective),
                        stockpile=stored.decision.stockpile,
                    ),
                )
            except CannotJudge as exc:
                unjudged.append((case, exc.problem))
                continue
            if decision.outcome.value != case.outcome:
                changed_open.append((case, case.outcome, decision.outcome.value))
        counted = (examined, not_replayed)
        return _seen_impact(tx, actor, counted, changes, changed_open, unjudged)
