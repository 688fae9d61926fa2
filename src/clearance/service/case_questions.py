"""Questions to the requester, each one transaction: a reviewer, or a holder of an office
still to answer, asks; the case waits in ``awaiting_answer`` with its review clocks
stopped (service.clocks); the requester's answer puts it back in review, due later by
as many counted days as the question waited. Both are ledger events, so the timeline
and every clock read from the record say the same."""

from __future__ import annotations

import datetime as dt

from clearance.core.events import QuestionAnswered, QuestionAsked
from clearance.core.workflow import CaseState
from clearance.core.working_days import Stop
from clearance.errors import InputError
from clearance.service.access import principal
from clearance.service.anchoring import installation_key
from clearance.service.case_moves import check_ask, check_reply, record_move
from clearance.service.case_view import CaseView, find_case, view_in
from clearance.service.clocks import ReviewClocks, ReviewSpan, review_span
from clearance.store.repository import Store

__all__ = ["MAX_SAID", "CaseQuestions"]

MAX_SAID = 4000
"""The longest question or answer, in characters."""


def _said(field: str, text: str) -> str:
    """A question or answer: some words, at most ``MAX_SAID`` characters."""
    text = text.strip()
    if not text:
        raise InputError(field, "must say something")
    if len(text) > MAX_SAID:
        raise InputError(field, f"must be at most {MAX_SAID} characters")
    return text


class CaseQuestions:
    """Asking and answering over one store, by the clocks of the policy in force."""

    def __init__(self, store: Store, clocks: ReviewClocks) -> None:
        self.store = store
        self.clocks = clocks

    def ask(self, case_id: str, *, actor: str, question: str, now: dt.datetime) -> CaseView:
        """A reviewer, or a holder of one of its open gates, asks the requester for
        information: the case waits for the answer, its review clocks stopped."""
        question = _said("question", question)
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_id, acting, lock=True)
            office = check_ask(tx, acting, case, now.date())
            tx.append(QuestionAsked(question, office), actor=actor, at=now, case_id=case.id)
            moved = record_move(
                tx, case, CaseState.AWAITING_ANSWER, actor=actor, now=now, why="question asked"
            )
            return view_in(tx, moved, acting.user, installation_key(self.store), self.clocks)

    def reply(self, case_id: str, *, actor: str, answer: str, now: dt.datetime) -> CaseView:
        """The requester answers the question: the case is back in review, due later by as
        many days as its clocks were stopped."""
        answer = _said("answer", answer)
        with self.store.transaction() as tx:
            acting = principal(tx, actor, now.date())
            case = find_case(tx, case_id, acting, lock=True)
            check_reply(acting, case)
            span = review_span(case.created_at, tx.ledger.of_case(case.id))
            ended = tuple(Stop(s.asked, s.answered or now) for s in span.stops)
            decision = case.decision
            due_at = self.clocks.due_at(
                decision.bundles,
                decision.required_approvals,
                case.sla_days,
                ReviewSpan(span.started, ended),
            )
            tx.append(QuestionAnswered(answer), actor=actor, at=now, case_id=case.id)
            moved = record_move(
                tx,
                case,
                CaseState.IN_REVIEW,
                actor=actor,
                now=now,
                why="question answered",
                due_at=due_at,
            )
            return view_in(tx, moved, acting.user, installation_key(self.store), self.clocks)
