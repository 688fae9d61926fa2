"""Expiry: approved cases not executed within their approval's lifetime become ``expired``.

An approval's lapse is fixed on the ledger when it is given
(service/lifetimes.py). ``expire`` finds every approved, conditionally
approved or cleared case whose time has passed and moves it to ``expired``
as the system, with why, releasing the stock a transfer had committed: one
transaction, holding the ledger lock, so two servers (or a server and
``clearance cases expire``) running it at once expire each case once between
them, and a run that finds nothing writes nothing. Executing a lapsed
approval is refused (service/case_moves.py), so a case that waits for the
next run cannot be carried out on an approval that no longer holds.
"""

from __future__ import annotations

import datetime as dt

from clearance.core.actors import ADMIN, SYSTEM
from clearance.core.dates import last_day_before
from clearance.core.request import UnreadableRequest
from clearance.core.workflow import CaseState
from clearance.errors import NotFoundError
from clearance.service.case_moves import record_move
from clearance.service.stock_moves import case_movements
from clearance.service.stockpile import StockService
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

__all__ = ["expire", "lapse_words"]


def lapse_words(expires_at: dt.datetime) -> str:
    """The last day an approval held, as the ledger and the pages say it."""
    last = last_day_before(expires_at).isoformat()
    return f"the approval held to the end of {last} (UTC) and was not executed"


def expire(store: Store, stock: StockService, *, actor: str, now: dt.datetime) -> list[CaseRecord]:
    """Expire every case whose approval lapsed by ``now`` (module doc); the cases as expired,
    the earliest lapse first."""
    expired: list[CaseRecord] = []
    with store.transaction() as tx:
        if actor != ADMIN and tx.people.user(actor) is None:
            raise NotFoundError(f"unknown user '{actor}'")
        tx.serialise()  # one run at a time: each case expires once
        while lapsed := tx.cases.lapsed(now=now):
            for case in lapsed:
                assert case.expires_at is not None
                moved = record_move(
                    tx,
                    case,
                    CaseState.EXPIRED,
                    actor=SYSTEM,
                    now=now,
                    why=lapse_words(case.expires_at),
                )
                if not isinstance(case.request, UnreadableRequest):
                    case_movements(
                        tx,
                        stock,
                        case.request,
                        case_id=case.id,
                        state=CaseState.EXPIRED,
                        done=None,
                        now=now,
                        actor=SYSTEM,
                    )
                expired.append(moved)
    return expired
