"""Stockpile sufficiency as users see it: balances, the board, a position's history,
projections.

A position's balance on a day is the pack's opening figure (from the day the
figures open) plus the movements recorded since, up to that day. Positions
the pack lists are tracked from the start; a party becomes tracked for a
system when a tracked transfer delivers it some.

Each question takes who asks (a user id, or ``ADMIN`` for the local operator at
the command line, who sees everything), resolved in the question's own
transaction, and answers with what they may see, by the rules of
``service.stock_seen``. How cases move stock is ``service.stock_moves``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from clearance.core.stockpile import (
    Balance,
    MovementKind,
    Position,
    ProjectionPoint,
    Rating,
    StockpileFacts,
    Thresholds,
    assess,
    project,
)
from clearance.errors import InputError, NotFoundError
from clearance.policy.engine import Screener
from clearance.service.access import principal, today
from clearance.service.collector import collector_paused
from clearance.service.stock_seen import parties_seen, sees_stock_of
from clearance.store.protocol import Transaction
from clearance.store.records import UserRecord
from clearance.store.repository import Store
from clearance.store.stock import MovementRow

__all__ = [
    "Board",
    "BoardRow",
    "MovementLine",
    "PositionView",
    "Projection",
    "StockService",
]

MAX_MONTHS = 240


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One position rated on a day."""

    position: Position
    balance: Balance
    thresholds: Thresholds
    rating: Rating

    @property
    def cover_percent(self) -> int | None:
        """Available as a whole percent of the requirement (None without a requirement)."""
        if not self.position.requirement:
            return None
        return self.balance.available * 100 // self.position.requirement

    def as_dict(self) -> dict[str, Any]:
        p, b = self.position, self.balance
        return {
            "holder": p.holder,
            "system": p.system,
            "rating": self.rating.value,
            "meaning": self.rating.meaning,
            "on_hand": b.on_hand,
            "committed": b.committed,
            "available": b.available,
            "requirement": p.requirement,
            "cover_percent": self.cover_percent,
            "production_per_month": p.production_per_month,
            "thresholds": self.thresholds.as_dict(),
            "illustrative": p.illustrative,
        }


_WORST_LAST = (Rating.GREEN, Rating.YELLOW, Rating.RED)
_NO_REQUIREMENT = float("inf")  # nothing to keep: covered whatever is there


@dataclass(frozen=True, slots=True)
class Board:
    """The positions asked for, worst first, and how many of every colour there are.

    ``counts`` are of every colour among the holders asked for, whatever the
    ``rating`` asked for, so that a filter by colour can say what each choice
    shows; ``total`` is how many match the rating, of which ``rows`` are the
    first ``limit``.
    """

    counts: dict[str, int]
    total: int
    rows: list[BoardRow]


@dataclass(frozen=True, slots=True)
class MovementLine:
    """One line of a position's history, as its reader may see it.

    A movement of a case the reader may see is one line, with its case, who
    made the case's move and when. The movements of cases classified above
    the reader's clearance are ``withheld``: summed into one line per day and
    kind, with no case, actor or time.
    """

    on: dt.date
    kind: MovementKind
    quantity: int
    case_id: str | None = None
    actor: str | None = None
    at: dt.datetime | None = None
    withheld: bool = False

    @property
    def deltas(self) -> tuple[int, int]:
        return self.kind.deltas(self.quantity)

    def as_dict(self) -> dict[str, Any]:
        on_hand, committed = self.deltas
        return {
            "day": self.on.isoformat(),
            "kind": self.kind.value,
            "quantity": self.quantity,
            "on_hand_change": on_hand,
            "committed_change": committed,
            "case_id": self.case_id,
            "actor": self.actor,
            "at": None if self.at is None else self.at.isoformat(),
            "withheld": self.withheld,
        }


def _lines(rows: list[MovementRow], clearance: int | None) -> tuple[MovementLine, ...]:
    """``rows`` (newest first) as a reader cleared to ``clearance`` sees them (None: all)."""
    lines: list[MovementLine] = []
    withheld: dict[tuple[dt.date, MovementKind], int] = {}  # (day, kind) → index in lines
    for row in rows:
        m = row.movement
        if clearance is None or row.classification <= clearance:
            lines.append(MovementLine(m.on, m.kind, m.quantity, m.case_id, row.actor, row.at))
            continue
        index = withheld.get((m.on, m.kind))
        if index is None:
            withheld[(m.on, m.kind)] = len(lines)
            lines.append(MovementLine(m.on, m.kind, m.quantity, withheld=True))
        else:
            total = lines[index]
            lines[index] = MovementLine(m.on, m.kind, total.quantity + m.quantity, withheld=True)
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position on a day: its rating and the movements that made its balance."""

    row: BoardRow
    on: dt.date
    movements: tuple[MovementLine, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.row.as_dict(),
            "as_of": self.on.isoformat(),
            "movements": [m.as_dict() for m in self.movements],
        }


@dataclass(frozen=True, slots=True)
class Projection:
    """A proposed transfer's effect: rating now, after, and month by month with production."""

    facts: StockpileFacts
    points: tuple[ProjectionPoint, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**self.facts.as_dict(), "months": [p.as_dict() for p in self.points]}


class StockService:
    """Stock positions over one store and the pack in force."""

    def __init__(self, store: Store, screener: Screener) -> None:
        self.store = store
        self.screener = screener
        self.figures = screener.pack.stock
        self._listed = [(p.holder, p.system, p) for p in self.figures.positions]

    # balances -------------------------------------------------------------------

    def balance_in(
        self, tx: Transaction, holder: str, system: str, on: dt.date | None
    ) -> Balance | None:
        """A position's balance on ``on`` (today's totals when None); None if untracked."""
        opening = self.screener.pack_balance(holder, system, on or dt.date.max)
        moved = tx.stock.total(holder, system, on)
        if moved is None:
            return opening
        base = opening or Balance()
        return Balance(base.on_hand + moved[0], base.committed + moved[1])

    def balance(self, holder: str, system: str, on: dt.date) -> Balance | None:
        """``BalanceLookup`` for the screener: the balance a new request is judged on."""
        with self.store.reading() as tx:
            return self.balance_in(tx, holder, system, on)

    def _row(self, holder: str, system: str, balance: Balance, on: dt.date) -> BoardRow:
        position = self.figures.position(holder, system) or Position(holder, system)
        thresholds = self.screener.history.thresholds_on(holder, on)
        return BoardRow(
            position,
            balance,
            thresholds,
            thresholds.rate(balance.available, position.requirement),
        )

    # what users ask -------------------------------------------------------------

    def board(
        self,
        *,
        on: dt.date,
        actor: str,
        holders: frozenset[str] | None = None,
        rating: Rating | None = None,
        limit: int | None = None,
    ) -> Board:
        """Every tracked position ``actor`` may see, rated on ``on``, worst first;
        ``holders`` limits whose (among those ``actor`` may see).

        One read of the running totals, then arithmetic on plain tuples; rows
        are made only for the ``limit`` positions shown (all when None).
        """
        with self.store.reading() as tx:
            allowed = parties_seen(_reader(tx, actor))
            totals = tx.stock.totals()
        if allowed is not None:
            holders = allowed if holders is None else holders & allowed
        with collector_paused():  # 337 ms with its passes, 134 without (20,000 positions)
            return self._rank(totals, on, holders, rating, limit)

    def _rank(
        self,
        totals: dict[tuple[str, str], tuple[int, int]],
        on: dt.date,
        holders: frozenset[str] | None,
        rating: Rating | None,
        limit: int | None,
    ) -> Board:
        figures = self.figures
        listed = self._listed + [
            (h, s, Position(h, s)) for h, s in totals.keys() - figures.on_hand.keys()
        ]
        opening = figures.on_hand if figures.opened_on and on >= figures.opened_on else {}
        wanted = None if rating is None else _WORST_LAST.index(rating)
        rules: dict[str, Thresholds] = {}
        counts = [0, 0, 0]
        ranked: list[tuple[int, float, str, str, int, int, Position, Thresholds]] = []
        for holder, system, position in listed:
            if holders is not None and holder not in holders:
                continue
            rule = rules.get(holder)
            if rule is None:
                rule = rules[holder] = self.screener.history.thresholds_on(holder, on)
            key = (holder, system)
            hand, committed = totals.get(key, (0, 0))
            hand += opening.get(key, 0)
            available, requirement = hand - committed, position.requirement
            # The comparisons of Thresholds.rate, inline: tens of thousands of rows.
            if available * 100 >= rule.green_percent * requirement:
                severity = 0
            elif available * 100 >= rule.yellow_percent * requirement:
                severity = 1
            else:
                severity = 2
            counts[severity] += 1
            if wanted is not None and severity != wanted:
                continue
            cover = available / requirement if requirement else _NO_REQUIREMENT
            ranked.append((-severity, cover, holder, system, hand, committed, position, rule))
        # Worst first: red, then yellow, then green; within a colour the least covered first.
        # (holder, system) is unique, so the comparison never reaches the objects after it.
        ranked.sort()
        shown = ranked if limit is None else ranked[:limit]
        return Board(
            counts={r.value: counts[_WORST_LAST.index(r)] for r in reversed(_WORST_LAST)},
            total=len(ranked),
            rows=[
                BoardRow(position, Balance(hand, committed), rule, _WORST_LAST[-severity])
                for severity, _, _, _, hand, committed, position, rule in shown
            ],
        )

    def holders(self, *, actor: str) -> list[str]:
        """The parties with a tracked position that ``actor`` may see, in order (for
        choosing whose board to see)."""
        with self.store.reading() as tx:
            reader = _reader(tx, actor)
            moved = tx.stock.totals()
        tracked = {p.holder for p in self.figures.positions} | {h for h, _ in moved}
        return sorted(h for h in tracked if sees_stock_of(reader, h))

    def _tracked(
        self,
        tx: Transaction,
        holder: str,
        system: str,
        on: dt.date | None,
        reader: UserRecord | None,
    ) -> Balance:
        if not sees_stock_of(reader, holder):
            # The words of a position that is not tracked (below), so that another
            # party's tracked position cannot be told from an untracked one.
            raise NotFoundError(f"{holder}'s stock of '{system}' is not tracked")
        if self.screener.catalog.party(holder) is None:
            raise NotFoundError(f"unknown party '{holder}'")
        if self.screener.catalog.system(system) is None:
            raise NotFoundError(f"unknown system '{system}'")
        balance = self.balance_in(tx, holder, system, on)
        if balance is None:
            raise NotFoundError(f"{holder}'s stock of '{system}' is not tracked")
        return balance

    def position(
        self,
        holder: str,
        system: str,
        *,
        on: dt.date,
        actor: str,
        as_of: dt.date | None = None,
    ) -> PositionView:
        """A position as of ``as_of`` (today, ``on``, when None), with its recent movements,
        as ``actor`` may see it (``MovementLine``)."""
        day = as_of or on
        with self.store.reading() as tx:
            reader = _reader(tx, actor)
            balance = self._tracked(tx, holder, system, as_of, reader)
            rows = tx.stock.movements(holder, system, on=as_of)
        clearance = None if reader is None else reader.clearance
        return PositionView(self._row(holder, system, balance, day), day, _lines(rows, clearance))

    def project(
        self,
        holder: str,
        system: str,
        *,
        transfer: int,
        months: int,
        on: dt.date,
        actor: str,
    ) -> Projection:
        """What giving ``transfer`` items today would do, and the months after."""
        if transfer < 0:
            raise InputError("transfer", "must be a whole number ≥ 0")
        if not 1 <= months <= MAX_MONTHS:
            raise InputError("months", f"must be between 1 and {MAX_MONTHS}")
        with self.store.reading() as tx:
            balance = self._tracked(tx, holder, system, None, _reader(tx, actor))
        row = self._row(holder, system, balance, on)
        facts = assess(row.position, balance, row.thresholds, transfer, on)
        points = project(row.position, facts.available_after, row.thresholds, on, months)
        return Projection(facts, tuple(points))


def _reader(tx: Transaction, actor: str) -> UserRecord | None:
    """``actor`` as they stand in ``tx`` (None: the local operator): whose stock they may see
    is the door's rule, ``Action.STOCK_VIEW``, which offices do not widen."""
    return principal(tx, actor, today()).user
