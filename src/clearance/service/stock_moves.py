"""How cases move stock, in the transaction that moves the case (``case_movements``).

- a transfer approved (at screening, or by its last approval) commits the
  quantity from the giver's stock;
- a transfer drawn on delivers what was done from giver to receiver and
  releases as much of the commitment (the draw that executes it, all that is
  left); a withdrawn or denied one (a suspended case can be denied) releases it;
- an employment drawn on consumes what was used from the user's stock.

A delivery or use beyond what is on hand is refused, naming the quantity.
"""

from __future__ import annotations

import datetime as dt

from clearance.core.events import StockMove, StockMoved
from clearance.core.request import EmployRequest, TransferRequest
from clearance.core.stockpile import Balance, Movement, MovementKind, NegativeStock
from clearance.core.workflow import CaseState
from clearance.errors import InputError
from clearance.service.stockpile import StockService
from clearance.store.protocol import Transaction
from clearance.store.records import LedgerRecord

__all__ = ["case_movements"]


def _check(tx: Transaction, service: StockService, moves: list[Movement]) -> None:
    """Refuse movements that would take any position's on-hand or committed below zero."""
    balances: dict[tuple[str, str], Balance] = {}
    for move in moves:
        key = (move.holder, move.system)  # pragma: no mutate
        if key not in balances:
            balances[key] = service.balance_in(tx, move.holder, move.system, None) or Balance()
        try:
            balances[key] = balances[key].after(*move.deltas)
        except NegativeStock:
            have = balances[key].on_hand
            raise InputError(
                "quantity",
                f"{move.holder} has {have} '{move.system}' on hand; cannot"
                f" {'deliver' if move.kind is MovementKind.TRANSFER_OUT else 'use'} {move.quantity}",
            ) from None


_MOVING_STATES = frozenset(
    {
        CaseState.APPROVED,
        CaseState.APPROVED_WITH_CONDITIONS,
        CaseState.EXECUTED,
        CaseState.PARTLY_EXECUTED,
        CaseState.WITHDRAWN,
        CaseState.EXPIRED,
        CaseState.DENIED,
    }
)
_DRAWN_STATES = frozenset({CaseState.EXECUTED, CaseState.PARTLY_EXECUTED})
_ENDED_STATES = frozenset(
    {CaseState.EXECUTED, CaseState.WITHDRAWN, CaseState.DENIED, CaseState.EXPIRED}
)
"""States after which nothing stays committed for the case."""


def _made_moves(
    request: EmployRequest | TransferRequest,
    state: CaseState,
    done: int | None,
    day: dt.date,
    case_id: str,
) -> list[Movement]:
    """What a case's move to ``state`` moves of a tracked position, besides a release."""
    giver, system = request.requester, request.system
    if isinstance(request, TransferRequest):
        if state in (CaseState.APPROVED, CaseState.APPROVED_WITH_CONDITIONS):
            return [Movement(giver, system, MovementKind.COMMIT, request.quantity, day, case_id)]
        if state in _DRAWN_STATES and done:
            return [
                Movement(giver, system, MovementKind.TRANSFER_OUT, done, day, case_id),
                Movement(request.recipient, system, MovementKind.TRANSFER_IN, done, day, case_id),
            ]
    elif state in _DRAWN_STATES and done:
        return [Movement(giver, system, MovementKind.CONSUME, done, day, case_id)]
    return []


def case_movements(
    tx: Transaction,
    service: StockService,
    request: EmployRequest | TransferRequest,
    *,
    case_id: str,
    state: CaseState,
    done: int | None,
    now: dt.datetime,
    actor: str,
    submitted: bool = False,
) -> LedgerRecord | None:
    """Record the stock a case's move to ``state`` moves; returns the ledger event that says
    so (None when nothing moves).

    ``done`` is the quantity drawn (for ``executed`` and ``partly_executed``). Untracked positions
    do not move; whether a position is tracked is read only when the move
    would move it. ``submitted``: the case is being submitted in this move, so it has
    committed nothing that could be released (a denied submission reads nothing here).
    """
    if state not in _MOVING_STATES:
        return None  # in review, cleared, suspended: nothing is promised or moved
    day = now.date()
    giver = request.requester
    moves: list[Movement] = []
    if not submitted and (state in _ENDED_STATES or (state is CaseState.PARTLY_EXECUTED and done)):
        committed = tx.stock.committed_by_case(case_id)
        if state is CaseState.PARTLY_EXECUTED:
            committed = min(committed, done or 0)  # pragma: no mutate
        if committed:
            moves.append(
                Movement(giver, request.system, MovementKind.RELEASE, committed, day, case_id)
            )
    made = _made_moves(request, state, done, day, case_id)
    if made and service.balance_in(tx, giver, request.system, None) is not None:
        moves += made  # an untracked position does not move
    if not moves:
        return None
    _check(tx, service, moves)
    tx.stock.add(moves, at=now, actor=actor)
    return tx.append(
        StockMoved(tuple(StockMove(m.holder, m.system, m.kind, m.quantity, m.on) for m in moves)),
        actor=actor,
        at=now,
        case_id=case_id,
    )
