"""The case use cases as one object, for the interfaces: ``Runtime.cases``.

The work is in modules by what it does: ``service.submission`` makes
cases (one or many to a transaction), ``service.case_commands`` changes
them, ``service.case_moves`` says
which changes a reader may make now (by the changes' own checks),
``service.case_queries`` reads them, ``service.rescreening`` judges the open
ones again, ``service.waiting_periods`` waives a legislature's waiting period. The command line and the web reach them all through one object
built for the pack in force (the runtime rebuilds it when the policy
changes), so this facade composes them over one store, one screener and one
view of the stock, and holds no logic of its own.
``CaseView``, ``case_row`` and ``Moves`` are here for the interfaces too.
"""

from __future__ import annotations

from functools import partial

from clearance.policy.engine import Screener
from clearance.service.case_commands import CaseCommands
from clearance.service.case_moves import CaseMoves, Gate, Moves
from clearance.service.case_queries import CaseQueries
from clearance.service.case_questions import MAX_SAID, CaseQuestions
from clearance.service.case_view import CaseView, case_row
from clearance.service.clocks import ReviewClocks
from clearance.service.escalation import escalate, escalated_open
from clearance.service.expiry import expire
from clearance.service.rescreening import Rescreener, Rescreening
from clearance.service.stockpile import StockService
from clearance.service.submission import CaseSubmission
from clearance.service.waiting_periods import WaitingPeriods
from clearance.store.repository import Store

__all__ = ["MAX_SAID", "CaseService", "CaseView", "Gate", "Moves", "Rescreening", "case_row"]


class CaseService:
    """Every case use case over one store and one screener (the scenario pack in force)."""

    def __init__(self, store: Store, screener: Screener, *, default_sla_days: int) -> None:
        self.store = store
        self.screener = screener
        self.stock = StockService(store, screener)
        self.clocks = ReviewClocks(screener.history, screener.pack.closures, screener.catalog)
        submission = CaseSubmission(
            store, screener, self.stock, self.clocks, default_sla_days=default_sla_days
        )
        commands = CaseCommands(store, self.stock, self.clocks, screener)
        queries = CaseQueries(store, screener, self.clocks)
        self.submit = submission.submit
        self.submit_and_show = submission.submit_and_show
        self.prepare = submission.prepare
        self.submit_many = submission.submit_many
        self.refusals = submission.refusals
        self.answer = commands.answer
        self.withdraw = commands.withdraw
        questions = CaseQuestions(store, self.clocks)
        self.ask = questions.ask
        self.reply = questions.reply
        self.condition_met = commands.condition_met
        self.execute = commands.execute
        self.waive = WaitingPeriods(store, self.clocks).waive
        moves = CaseMoves(store)
        self.moves = moves.offered
        self.rehearse = moves.rehearse
        self.view = queries.view
        self.find = queries.find
        self.seen_by = queries.seen_by
        self.page = queries.page
        self.overdue = queries.overdue
        self.waiting_for = queries.waiting_for
        self.count_overdue = queries.count_overdue
        self.open_summary = queries.open_summary
        self.decisions_by_month = queries.decisions_by_month
        rescreener = Rescreener(store, screener, self.stock)
        self.rescreen = rescreener.rescreen
        self.bundle_took_effect = rescreener.took_effect
        self.escalate = partial(escalate, store, self.clocks)
        self.escalated = partial(escalated_open, store)
        self.expire = partial(expire, store, self.stock)
