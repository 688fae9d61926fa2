"""Stockpile sufficiency: balances from movements, red / yellow / green, projections.

Pure arithmetic, no I/O. A *position* is one party's stock of one system:
the planning figures (the requirement to keep, production per month,
deliveries expected) come from the scenario pack; the balance (on hand,
committed) is the sum of the *movements* up to a date, so the rating of any
item as of any date can be rebuilt from the ledger of movements.

Ratings compare what is available (on hand − committed) with the requirement,
using thresholds in whole percent that are policy (a holder's bundle carries
them; see ``policy.bundle``). Comparison is exact integer arithmetic, so a
figure exactly at a threshold is rated the better colour.

Its 420-odd lines are one piece: balances, ratings, projections and the months
to recover all read the same position, deliveries and month arithmetic, and
the facts a policy sees are made of all of them.

Nothing here estimates weapon effects or plans use: it counts items.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "STANDARD_THRESHOLDS",
    "Balance",
    "Delivery",
    "Movement",
    "MovementKind",
    "NegativeStock",
    "Position",
    "ProjectionPoint",
    "Rating",
    "StockpileFacts",
    "Thresholds",
    "add_months",
    "assess",
    "balance_of",
    "months_to_recover",
    "project",
]

#: How far ahead ``months_to_recover`` looks before saying "never".
HORIZON_MONTHS = 600


class Rating(StrEnum):
    """Sufficiency, from best to worst. The words go with the colour wherever it is shown."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def meaning(self) -> str:
        return _MEANING[self]


_SEVERITY = {Rating.GREEN: 0, Rating.YELLOW: 1, Rating.RED: 2}
_MEANING = {
    Rating.GREEN: "sufficient",
    Rating.YELLOW: "at the margin",
    Rating.RED: "below requirement",
}


class NegativeStock(ValueError):
    """A movement would take on-hand or committed stock below zero."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Green at or above ``green_percent`` of the requirement, yellow at or above ``yellow_percent``."""

    green_percent: int = 120
    yellow_percent: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.yellow_percent <= self.green_percent:
            raise ValueError(
                f"thresholds out of order: need 0 ≤ yellow ({self.yellow_percent}%)"
                f" ≤ green ({self.green_percent}%)"
            )

    def rate(self, available: int, requirement: int) -> Rating:
        if available * 100 >= self.green_percent * requirement:
            return Rating.GREEN
        if available * 100 >= self.yellow_percent * requirement:
            return Rating.YELLOW
        return Rating.RED

    def green_level(self, requirement: int) -> int:
        """The least available quantity rated green."""
        return -(-self.green_percent * requirement // 100)

    def as_dict(self) -> dict[str, int]:
        return {"green_percent": self.green_percent, "yellow_percent": self.yellow_percent}


STANDARD_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Delivery:
    """Items expected to arrive on a date (a production lot, a purchase)."""

    on: dt.date
    quantity: int


@dataclass(frozen=True, slots=True)
class Position:
    """The planning figures of one party's stock of one system."""

    holder: str
    system: str
    requirement: int = 0
    production_per_month: int = 0
    deliveries: tuple[Delivery, ...] = ()
    illustrative: bool = False


@dataclass(frozen=True, slots=True)
class Balance:
    on_hand: int = 0
    committed: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.committed

    def after(self, on_hand: int, committed: int) -> Balance:
        """The balance after a change; refuses to go below zero."""
        balance = Balance(self.on_hand + on_hand, self.committed + committed)
        if balance.on_hand < 0:
            raise NegativeStock(f"only {self.on_hand} on hand, {-on_hand} needed")
        if balance.committed < 0:
            raise NegativeStock(f"only {self.committed} committed, {-committed} to release")
        return balance


class MovementKind(StrEnum):
    """Why stock moved. Each kind changes on-hand and committed in a fixed direction.

    The pack's opening figures are not movements: a balance starts from them.
    """

    RECEIPT = "receipt"  # production or a delivery arrived
    COMMIT = "commit"  # a transfer was approved: promised, still on hand
    RELEASE = "release"  # a commitment ended: delivered, executed short, or withdrawn
    TRANSFER_OUT = "transfer_out"  # an executed transfer left the giver
    TRANSFER_IN = "transfer_in"  # and reached the receiver
    CONSUME = "consume"  # an executed employment used the items

    def deltas(self, quantity: int) -> tuple[int, int]:
        """(on-hand change, committed change) for ``quantity`` items."""
        on_hand, committed = _DIRECTIONS[self]
        return on_hand * quantity, committed * quantity


_DIRECTIONS = {
    MovementKind.RECEIPT: (1, 0),
    MovementKind.COMMIT: (0, 1),
    MovementKind.RELEASE: (0, -1),
    MovementKind.TRANSFER_OUT: (-1, 0),
    MovementKind.TRANSFER_IN: (1, 0),
    MovementKind.CONSUME: (-1, 0),
}


@dataclass(frozen=True, slots=True)
class Movement:
    """One change to one position, on a date, usually caused by a case."""

    holder: str
    system: str
    kind: MovementKind
    quantity: int
    on: dt.date
    case_id: str | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError("a movement's quantity must be a whole number ≥ 1")

    @property
    def deltas(self) -> tuple[int, int]:
        return self.kind.deltas(self.quantity)


def balance_of(movements: Iterable[Movement], on: dt.date | None = None) -> Balance:
    """The balance from ``movements`` (of one position) dated on or before ``on``."""
    on_hand = committed = 0
    for movement in movements:
        if on is None or movement.on <= on:
            d_hand, d_committed = movement.deltas
            on_hand += d_hand
            committed += d_committed
    return Balance(on_hand, committed)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clipped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _arrivals(position: Position, after: dt.date, until: dt.date) -> int:
    """Production for one month plus the deliveries due in (after, until]."""
    due = sum(d.quantity for d in position.deliveries if after < d.on <= until)
    return position.production_per_month + due


@dataclass(frozen=True, slots=True)
class ProjectionPoint:
    """Month ``month`` after ``start``: what will be available, against the requirement."""

    month: int
    on: dt.date
    available: int
    requirement: int
    green_level: int
    rating: Rating

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "on": self.on.isoformat(),
            "available": self.available,
            "requirement": self.requirement,
            "green_level": self.green_level,
            "rating": self.rating.value,
        }


def project(
    position: Position,
    available: int,
    thresholds: Thresholds,
    start: dt.date,
    months: int,
) -> list[ProjectionPoint]:
    """Month by month from ``start`` (month 0): production and expected deliveries added."""
    points: list[ProjectionPoint] = []
    green = thresholds.green_level(position.requirement)
    for month in range(months + 1):
        on = add_months(start, month)
        if month:
            available += _arrivals(position, add_months(start, month - 1), on)
        rating = thresholds.rate(available, position.requirement)
        points.append(ProjectionPoint(month, on, available, position.requirement, green, rating))
    return points


def months_to_recover(
    position: Position, available: int, thresholds: Thresholds, start: dt.date
) -> int | None:
    """Whole months until ``available`` is green again; 0 if it is; None if not within 50 years.

    What ``project`` would find month by month, worked out without stepping: by the end of
    month ``m`` the stock has grown by ``m`` months of production plus every delivery due
    in (``start``, ``add_months(start, m)``]. Between the months in which deliveries fall
    that growth is a straight line, so each stretch is solved by one division; a
    transfer that never recovers (the usual red case) costs one stretch per delivery month,
    not 600 steps.
    """
    target = thresholds.green_level(position.requirement)
    production = position.production_per_month
    arriving: dict[int, int] = {}
    for delivery in position.deliveries:
        month = _month_due(start, delivery.on)
        if month is not None:
            arriving[month] = arriving.get(month, 0) + delivery.quantity
    found: int | None = None  # pragma: no mutate
    base = available  # stock at month ``first`` less the production of its months
    first = 0
    for last_month, quantity in [
        *sorted(arriving.items()),
        (HORIZON_MONTHS + 1, 0),  # pragma: no mutate
    ]:
        found = _first_month_at(target, base, production, first, last_month - 1)
        if found is not None:
            break
        base += quantity
        first = last_month
    # Stepping failed at the first month past year 9999 if it came before the answer: so does
    # this, with the same error (dates clearance takes end long before; core.dates).
    past_9999 = (10_000 - start.year) * 12 - start.month + 1  # pragma: no mutate
    add_months(start, min(HORIZON_MONTHS if found is None else found, past_9999))
    return found


def _month_due(start: dt.date, on: dt.date) -> int | None:
    """The month ``m`` ≥ 1 whose (``add_months(start, m - 1)``, ``add_months(start, m)``]
    holds ``on``; None if ``on`` is not after ``start`` or lies beyond the horizon."""
    if on <= start:
        return None
    months = (on.year - start.year) * 12 + on.month - start.month
    if on.day > min(start.day, calendar.monthrange(on.year, on.month)[1]):
        months += 1  # later in its month than the month-end of ``start`` falls there
    return months if months <= HORIZON_MONTHS else None


def _first_month_at(target: int, base: int, production: int, first: int, last: int) -> int | None:
    """The least ``m`` in ``first``..``last`` with ``base + m × production ≥ target``."""
    if first > last:
        return None
    if base + first * production >= target:
        return first
    if production <= 0:
        return None  # the stretch never rises above its first month
    month = -(-(target - base) // production)
    return month if month <= last else None


@dataclass(frozen=True, slots=True)
class StockpileFacts:
    """What a transfer does to the giver's stock of the item: the facts policy sees.

    In Cedar they are ``context.stockpile``: ``now`` and ``after`` are the
    rating words, ``available`` and ``available_after`` counts,
    ``requirement`` the quantity to keep, and ``months_to_recover`` (absent
    when production would never make it green again) the months until the
    giver is green again at its production rate.
    """

    holder: str
    system: str
    on: dt.date
    quantity: int
    on_hand: int
    committed: int
    requirement: int
    thresholds: Thresholds
    now: Rating
    after: Rating
    months_to_recover: int | None
    illustrative: bool = field(default=False, compare=False)

    @property
    def available(self) -> int:
        return self.on_hand - self.committed

    @property
    def available_after(self) -> int:
        return self.available - self.quantity

    def cedar(self) -> dict[str, Any]:
        context: dict[str, Any] = {
            "now": self.now.value,
            "after": self.after.value,
            "available": self.available,
            "available_after": self.available_after,
            "requirement": self.requirement,
        }
        if self.months_to_recover is not None:
            context["months_to_recover"] = self.months_to_recover
        return context

    def as_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "system": self.system,
            "on": self.on.isoformat(),
            "quantity": self.quantity,
            "on_hand": self.on_hand,
            "committed": self.committed,
            "available": self.available,
            "available_after": self.available_after,
            "requirement": self.requirement,
            "thresholds": self.thresholds.as_dict(),
            "now": self.now.value,
            "after": self.after.value,
            "months_to_recover": self.months_to_recover,
            "illustrative": self.illustrative,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StockpileFacts:
        """The facts recorded in a decision, as they were (for replaying it)."""
        return cls(
            holder=data["holder"],
            system=data["system"],
            on=dt.date.fromisoformat(data["on"]),
            quantity=int(data["quantity"]),
            on_hand=int(data["on_hand"]),
            committed=int(data["committed"]),
            requirement=int(data["requirement"]),
            thresholds=Thresholds(**data["thresholds"]),
            now=Rating(data["now"]),
            after=Rating(data["after"]),
            months_to_recover=data["months_to_recover"],
            illustrative=bool(data.get("illustrative", False)),  # pragma: no mutate
        )


def assess(
    position: Position,
    balance: Balance,
    thresholds: Thresholds,
    quantity: int,
    on: dt.date,
) -> StockpileFacts:
    """The giver's rating now and after giving ``quantity``, and months to recover."""
    after = balance.available - quantity
    return StockpileFacts(
        holder=position.holder,
        system=position.system,
        on=on,
        quantity=quantity,
        on_hand=balance.on_hand,
        committed=balance.committed,
        requirement=position.requirement,
        thresholds=thresholds,
        now=thresholds.rate(balance.available, position.requirement),
        after=thresholds.rate(after, position.requirement),
        months_to_recover=months_to_recover(position, after, thresholds, on),
        illustrative=position.illustrative,
    )
