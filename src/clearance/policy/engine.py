"""The decision engine: a request in, a traceable decision out.

``Screener.decide`` follows docs/policy-authoring.md ("How the engine decides")
step by step: consent holders from the catalog, the bundle in force for each
on the request's date (or ``as_of``),
each holder's judgement (``evaluate.judge``), and the combination. Time and
decision ids are passed in, so the same inputs give the same decision.

A transfer from a tracked stock position also carries the giver's stockpile
facts (rating now and after, months to recover) to every holder's policy.
The balance they start from is the caller's to give (``balances``: the
service reads it from the store); without one, the pack's opening figures
are used, which is what screening with no database means.

A screener remembers what it has worked out (``policy.memo``): each holder's
judgement by its question (``evaluate.question_key``), and each request's
verdict (everything of a decision but its id, time and duration) by the
request, the date judged as of, the approvals and the stockpile facts, which
with the screener's pack (catalog and history, fixed for its life) are all a
verdict depends on; and the stockpile facts of a transfer by the position,
quantity, date and balance they are worked out from. A decision answered from
memory is field for field the one worked out afresh, with its own id, time and
duration.

Replay compares outcomes and records nothing, so it asks for each request's
judgements alone (``Screener.judgements_of``), not for verdicts: making a
verdict (its request as JSON, its RFC 8785 digest, the combination) and
looking it up in a memo that stored cases almost never hit was more than half
of what judging a stored case cost.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance.core.decision import Decision, HolderJudgement, Outcome, RequiredApproval, combine
from clearance.core.digest import canonical_digest
from clearance.core.holders import ConsentHolder, consent_holders
from clearance.core.request import AnyRequest, TransferRequest, check_against
from clearance.core.stockpile import Balance, Position, StockpileFacts, assess
from clearance.core.waiting_periods import WaitingPeriod
from clearance.policy.bundle import PolicyBundle
from clearance.policy.entities import target_zones
from clearance.policy.evaluate import JudgementMemo, Question, judge
from clearance.policy.memo import DEFAULT_CAPACITY, Key, Memo
from clearance.policy.pack import ScenarioPack

__all__ = ["BalanceLookup", "Screener", "Verdict"]


BalanceLookup = Callable[[str, str, dt.date], Balance | None]
"""(holder, system, date) → the balance on that date, or None for an untracked position."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one request needs: questions to Cedar and holders with no bundle in force."""

    questions: tuple[Question, ...]
    unbound: tuple[HolderJudgement, ...]
    as_of: dt.date
    stockpile: StockpileFacts | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a decision says that its request, date, approvals and stockpile facts determine."""

    outcome: Outcome
    request: Mapping[str, Any]
    request_digest: str
    judged_as_of: dt.date
    catalog_revision: str
    judgements: tuple[HolderJudgement, ...]
    required_approvals: tuple[RequiredApproval, ...]
    conditions: tuple[str, ...]
    reasons: tuple[str, ...]
    stockpile: StockpileFacts | None
    waiting_period: WaitingPeriod | None


class Screener:
    """Decides requests against one loaded scenario pack (catalog and bundle history).

    ``judgements`` and ``verdicts`` are its memos (``memo.Memo``), each holding at
    most ``memo_capacity`` entries, with their hit and miss counts.
    """

    def __init__(self, pack: ScenarioPack, *, memo_capacity: int = DEFAULT_CAPACITY) -> None:
        self.pack = pack
        self.catalog = pack.catalog
        self.history = pack.history
        self.judgements: JudgementMemo = Memo(memo_capacity)
        self.verdicts: Memo[Verdict] = Memo(memo_capacity)
        self._facts: Memo[StockpileFacts] = Memo(memo_capacity)

    def holders(self, system_id: str) -> tuple[ConsentHolder, ...]:
        return consent_holders(self.catalog, system_id)

    def pack_balance(self, holder: str, system: str, on: dt.date) -> Balance | None:
        """The balance from the pack's opening figures alone (no recorded movements)."""
        on_hand = self.pack.stock.opening(holder, system, on)
        return None if on_hand is None else Balance(on_hand)

    def stockpile_facts(
        self, request: AnyRequest, on: dt.date, balances: BalanceLookup | None = None
    ) -> StockpileFacts | None:
        """The giver's stockpile facts for a transfer; None for uses and untracked positions."""
        if not isinstance(request, TransferRequest):
            return None
        balance = (balances or self.pack_balance)(request.requester, request.system, on)
        if balance is None:
            return None
        key = Key(request.requester, request.system, request.quantity, on, balance)
        facts = self._facts.get(key)
        if facts is None:
            position = self.pack.stock.position(request.requester, request.system) or Position(
                request.requester, request.system
            )
            thresholds = self.history.thresholds_on(request.requester, on)
            facts = assess(position, balance, thresholds, request.quantity, on)
            self._facts.put(key, facts)
        return facts

    def _plan(
        self,
        request: AnyRequest,
        as_of: dt.date | None,
        approvals: frozenset[str],
        stockpile: StockpileFacts | None,
    ) -> _Plan:
        check_against(request, self.catalog)
        on = as_of or request.date
        questions: list[Question] = []
        unbound: list[HolderJudgement] = []
        zones = target_zones(self.catalog, request, on)
        for holder in self.holders(request.system):
            bundle = self.history.bundle_in_force(holder.party, on)
            if bundle is None:
                note = f"no policy of {holder.party} is in force on {on.isoformat()}"
                unbound.append(
                    HolderJudgement(holder, Outcome.PROHIBITED, None, None, notes=(note,))
                )
            else:
                questions.append(Question(holder, bundle, request, approvals, stockpile, zones))
        return _Plan(tuple(questions), tuple(unbound), on, stockpile)

    def decide(
        self,
        request: AnyRequest,
        *,
        decision_id: str,
        now: dt.datetime,
        as_of: dt.date | None = None,
        approvals: Iterable[str] = (),
        balances: BalanceLookup | None = None,
        stockpile: StockpileFacts | None = None,
    ) -> Decision:
        """Decide one request; ``approvals`` are offices that have already approved.

        ``stockpile`` replays facts recorded earlier instead of working them out.
        """
        return self.decide_many(
            [request],
            decision_ids=[decision_id],
            now=now,
            as_of=as_of,
            approvals=approvals,
            balances=balances,
            stockpile=None if stockpile is None else [stockpile],
        )[0]

    def decide_many(
        self,
        requests: Sequence[AnyRequest],
        *,
        decision_ids: Sequence[str],
        now: dt.datetime,
        as_of: dt.date | None = None,
        approvals: Iterable[str] = (),
        balances: BalanceLookup | None = None,
        stockpile: Sequence[StockpileFacts | None] | None = None,
    ) -> list[Decision]:
        """Decide a batch in one pass per bundle; raises ``RequestError`` for an unknown name.

        Stockpile facts come from ``balances`` (the pack's figures by default),
        or, one per request, from ``stockpile`` when replaying recorded facts.
        ``duration_us`` is the batch's time shared equally among its decisions.
        """
        started = time.perf_counter_ns()
        verdicts = self.verdicts_of(
            requests, as_of=as_of, approvals=approvals, balances=balances, stockpile=stockpile
        )
        elapsed_us = (time.perf_counter_ns() - started) // 1000  # pragma: no mutate
        share = elapsed_us // max(len(requests), 1)  # pragma: no mutate
        return [
            _decision(verdict, decision_id, now, share)
            for verdict, decision_id in zip(verdicts, decision_ids, strict=True)
        ]

    def verdicts_of(
        self,
        requests: Sequence[AnyRequest],
        *,
        as_of: dt.date | None = None,
        approvals: Iterable[str] = (),
        balances: BalanceLookup | None = None,
        stockpile: Sequence[StockpileFacts | None] | None = None,
    ) -> list[Verdict]:
        """What ``decide_many`` decides, without the decisions' ids and times."""
        granted = frozenset(approvals)
        facts = (
            list(stockpile)
            if stockpile is not None
            else [self.stockpile_facts(r, as_of or r.date, balances) for r in requests]
        )
        keys = [Key(r, as_of or r.date, granted, f) for r, f in zip(requests, facts, strict=True)]
        known: dict[Key, Verdict] = {}
        plans: dict[Key, tuple[AnyRequest, _Plan]] = {}
        for key, request, fact in zip(keys, requests, facts, strict=True):  # pragma: no mutate
            if key in known or key in plans:
                self.verdicts.reused()
                continue
            found = self.verdicts.get(key)
            if found is not None:
                known[key] = found
            else:
                plans[key] = request, self._plan(request, as_of, granted, fact)
        judged = self._judged([plan for _, plan in plans.values()])
        planned = zip(plans.items(), judged, strict=True)  # pragma: no mutate
        for (key, (request, plan)), judgements in planned:
            known[key] = verdict = self._verdict(request, plan, judgements)
            self.verdicts.put(key, verdict)
        return [known[key] for key in keys]

    def judgements_of(
        self, requests: Sequence[AnyRequest], *, stockpile: Sequence[StockpileFacts | None]
    ) -> list[list[HolderJudgement]]:
        """Each request's judgements as its verdict holds them (``verdicts_of``), judged on its
        own date with no approvals, and nothing more of the verdict.

        Replay compares outcomes (``core.decision.outcome_of``) and, for the cases that
        change, reads the candidate's reasons. Making the rest of each verdict, and looking
        it up in the verdict memo, which stored cases (each with its own date and quantity)
        almost never hit, was half of what judging a stored case cost. The judgements still
        come from the screener's memo (``judgements``)."""
        plans = [
            self._plan(request, None, frozenset(), facts)
            for request, facts in zip(requests, stockpile, strict=True)  # pragma: no mutate
        ]
        return self._judged(plans)

    def _judged(self, plans: Sequence[_Plan]) -> list[list[HolderJudgement]]:
        """Each plan's judgements in party order: its questions asked in one ``judge`` with
        every other plan's (one Cedar batch per bundle), and its holders with no bundle."""
        answers = iter(judge([q for plan in plans for q in plan.questions], self.judgements))
        return [
            sorted(
                [*(next(answers) for _ in plan.questions), *plan.unbound],
                key=lambda j: j.holder.party,
            )
            for plan in plans
        ]

    def _verdict(
        self, request: AnyRequest, plan: _Plan, judgements: list[HolderJudgement]
    ) -> Verdict:
        outcome, approvals, conditions, reasons = combine(judgements)
        facts = request.model_dump(mode="json", exclude_none=True)
        waiting = None if outcome is Outcome.PROHIBITED else self._waiting(request, plan)
        return Verdict(
            outcome=outcome,
            request=facts,
            request_digest=canonical_digest(facts),
            judged_as_of=plan.as_of,
            catalog_revision=self.catalog.revision,
            judgements=tuple(judgements),
            required_approvals=approvals,
            conditions=conditions,
            reasons=reasons,
            stockpile=plan.stockpile,
            waiting_period=waiting,
        )

    def _waiting(self, request: AnyRequest, plan: _Plan) -> WaitingPeriod | None:
        """The longest legislative waiting period the bundles in force give a transfer."""
        if not isinstance(request, TransferRequest):
            return None
        found = [
            period
            for q in plan.questions
            if q.bundle.legislative_review is not None
            and (period := q.bundle.legislative_review.waiting_period(request, self.catalog))
        ]
        return max(found, key=lambda p: p.ends_on, default=None)  # pragma: no mutate

    def judge_under(
        self,
        request: AnyRequest,
        bundle: PolicyBundle,
        approvals: Iterable[str] = (),
        stockpile: StockpileFacts | None = None,
    ) -> HolderJudgement:
        """How ``bundle``'s holder would judge ``request`` under ``bundle``, whatever the date
        (the target's zones as they stood on the request's date)."""
        holder = next(h for h in self.holders(request.system) if h.party == bundle.holder)
        zones = target_zones(self.catalog, request, request.date)
        question = Question(holder, bundle, request, frozenset(approvals), stockpile, zones)
        return judge([question], self.judgements)[0]


def _decision(verdict: Verdict, decision_id: str, now: dt.datetime, duration_us: int) -> Decision:
    return Decision(
        decision_id=decision_id,
        outcome=verdict.outcome,
        request=verdict.request,
        request_digest=verdict.request_digest,
        judged_as_of=verdict.judged_as_of,
        catalog_revision=verdict.catalog_revision,
        evaluated_at=now,
        judgements=verdict.judgements,
        required_approvals=verdict.required_approvals,
        conditions=verdict.conditions,
        reasons=verdict.reasons,
        stockpile=verdict.stockpile,
        duration_us=duration_us,
        waiting_period=verdict.waiting_period,
    )
