"""Stock movements and totals: the store side of stockpile sufficiency.

Reached through ``Transaction.stock``. Every movement is a row; each
position's running total is updated in the same transaction, so the board is
one read of the totals, and the balance of one position on a past day is one
indexed range sum. Quantities are checked in ``core.stockpile`` before they
get here; the totals here are changes from the pack's opening figures, which
are not stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from clearance.core.stockpile import Movement, MovementKind
from clearance.store.models import Case, StockMovement, StockTotal
from clearance.store.pending import READS, Pending
from clearance.store.records import aware

__all__ = ["MovementRow", "StockTables"]


@dataclass(frozen=True, slots=True)
class MovementRow:
    """A stored movement, with who recorded it and when, and the level of the case that
    made it (``core.access.Level``; 0 for a movement of no case)."""

    id: int
    movement: Movement
    at: dt.datetime
    actor: str
    classification: int = 0


def _signed(axis: int) -> ColumnElement[int]:
    """SQL for the sum of quantities signed as ``MovementKind.deltas`` says (0 on hand, 1 committed)."""
    whens = [
        (
            StockMovement.kind == kind.value,
            StockMovement.quantity * kind.deltas(1)[axis],  # pragma: no mutate
        )
        for kind in MovementKind
        if kind.deltas(1)[axis]  # pragma: no mutate
    ]
    return func.coalesce(func.sum(case(*whens, else_=0)), 0)  # pragma: no mutate


_ON_HAND, _COMMITTED = _signed(0), _signed(1)
"""Made once: building the expression costs more than the query it is in (a submission of
a transfer reads both)."""

_POSITION = (StockTotal.holder == bindparam("holder"), StockTotal.system == bindparam("system"))
_LAST_DAY = (
    select(func.max(StockMovement.day))
    .where(StockMovement.holder == StockTotal.holder, StockMovement.system == StockTotal.system)
    .scalar_subquery()
)
_TOTAL_NOW = select(StockTotal.on_hand, StockTotal.committed).where(*_POSITION)
_TOTAL_LATEST = select(StockTotal.on_hand, StockTotal.committed, _LAST_DAY).where(*_POSITION)
"""A position's running total and its last movement's day (the index on position and day
finds that without a scan)."""
_TOTAL_ON = select(func.count(), _ON_HAND, _COMMITTED).where(
    StockMovement.holder == bindparam("holder"),
    StockMovement.system == bindparam("system"),
    StockMovement.day <= bindparam("on"),
)
_BY_CASE = select(_COMMITTED).where(StockMovement.case_id == bindparam("case_id"))
"""The statements a submission sends, built once with parameters: building a statement
cost more than running it."""
_BOARD = "SELECT holder, system, on_hand, committed FROM stock_totals"
"""Every position's running total, read through the driver's cursor (``StockTables.totals``)."""

_MOVEMENTS = frozenset({"stock_movements"})
_TOTALS = frozenset({"stock_totals"})
_BOTH = _MOVEMENTS | _TOTALS
"""What the reads of a submission read, so that the rows it holds back stay held
(``store.pending``)."""


def _movement(row: StockMovement) -> Movement:
    kind = MovementKind(row.kind)
    return Movement(row.holder, row.system, kind, row.quantity, row.day, row.case_id)


class StockTables:
    """Stock queries inside one transaction."""

    def __init__(self, session: Session, pending: Pending) -> None:
        self._session = session
        self._pending = pending

    def add(self, movements: list[Movement], *, at: dt.datetime, actor: str) -> None:
        """Record movements and fold them into their positions' totals."""
        if not movements:
            return
        self._session.execute(
            insert(StockMovement),
            [
                {
                    "holder": m.holder,
                    "system": m.system,
                    "kind": m.kind.value,
                    "quantity": m.quantity,
                    "day": m.on,
                    "at": at,
                    "actor": actor,
                    "case_id": m.case_id,
                }
                for m in movements
            ],
        )
        changes: dict[tuple[str, str], tuple[int, int]] = {}
        for m in movements:
            hand, committed = changes.get((m.holder, m.system), (0, 0))
            d_hand, d_committed = m.deltas
            changes[(m.holder, m.system)] = (hand + d_hand, committed + d_committed)
        for (holder, system), (hand, committed) in changes.items():
            result = self._session.execute(
                update(StockTotal)
                .where(StockTotal.holder == holder, StockTotal.system == system)
                .values(
                    on_hand=StockTotal.on_hand + hand,
                    committed=StockTotal.committed + committed,
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                self._session.add(
                    StockTotal(holder=holder, system=system, on_hand=hand, committed=committed)
                )
        self._session.flush()

    def totals(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(holder, system) → (on-hand change, committed change) of every moved position.

        Read through the driver's cursor: the board reads one row per position
        (20,000 and more), and SQLAlchemy's row objects cost more than the query.
        """
        cursor = self._session.connection().connection.cursor()
        try:
            cursor.execute(_BOARD)
            return {(h, s): (hand, committed) for h, s, hand, committed in cursor.fetchall()}
        finally:
            cursor.close()

    def total(self, holder: str, system: str, on: dt.date | None = None) -> tuple[int, int] | None:
        """A position's (on-hand change, committed change) up to ``on``; None if none moved it yet.

        On or after the position's last movement that is its running total, read with the
        last movement's day in one statement; only a day before it sums the movements up to
        it, which grow with the position's history (a transfer's screening reads its
        giver's balance on the day it names, usually today or later).
        """
        position = {"holder": holder, "system": system}
        if on is None:
            now = self._pending.read(_TOTAL_NOW, _TOTALS, position).first()
            return None if now is None else (int(now[0]), int(now[1]))
        latest = self._pending.read(_TOTAL_LATEST, _BOTH, position).first()
        if latest is None or latest[2] is None:
            return None
        if latest[2] <= on:  # pragma: no mutate
            return (int(latest[0]), int(latest[1]))
        count, hand, committed = self._pending.read(
            _TOTAL_ON, _MOVEMENTS, {**position, "on": on}
        ).one()
        return (int(hand), int(committed)) if count else None

    def committed_by_case(self, case_id: str) -> int:
        """What a case has committed and not yet released (0 when it never committed)."""
        value = self._session.scalar(
            _BY_CASE,
            {"case_id": case_id},
            execution_options={READS: _MOVEMENTS},  # pragma: no mutate
        )
        return int(value or 0)

    def movements(
        self, holder: str, system: str, *, on: dt.date | None = None, limit: int = 50
    ) -> list[MovementRow]:
        """A position's movements, newest first, up to ``on``, with their cases' levels."""
        query = (
            select(StockMovement, Case.classification)
            .outerjoin(Case, Case.id == StockMovement.case_id)  # pragma: no mutate
            .where(StockMovement.holder == holder, StockMovement.system == system)
        )
        if on is not None:
            query = query.where(StockMovement.day <= on)
        rows = self._session.execute(
            query.order_by(
                StockMovement.day.desc(),
                StockMovement.id.desc(),  # pragma: no mutate
            ).limit(limit)
        )
        return [
            MovementRow(r.id, _movement(r), aware(r.at), r.actor, level or 0) for r, level in rows
        ]

    def of_case(self, case_id: str) -> list[Movement]:
        rows = self._session.scalars(
            select(StockMovement)
            .where(StockMovement.case_id == case_id)
            .order_by(StockMovement.id)  # pragma: no mutate
        )
        return [_movement(r) for r in rows]
