"""A pack's stockpile figures (``stockpile.yaml``): where each tracked position starts.

::

    illustrative: true          # the figures are invented; say so wherever shown
    opened_on: 2022-02-24       # the date of the opening figures
    positions:
      - holder: US
        system: atacms
        on_hand: 1000           # on hand on opened_on
        requirement: 700        # the quantity to keep for the holder's own plans
        production_per_month: 20
        deliveries: [{date: 2026-03-01, quantity: 50}]

A position the file lists is *tracked*: transfers from it and uses of it
move stock, and transfers from it carry ``context.stockpile`` to policy. Its
movements after the opening come from cases (see ``service.stockpile``).
The thresholds that turn figures into colours are policy, carried by the
holder's bundle (``stockpile_thresholds`` in ``bundle.yaml``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearance.core.catalog import Catalog
from clearance.core.request import IsoDate
from clearance.core.stockpile import Delivery, Position
from clearance.errors import PackError
from clearance.policy.locations import pydantic_location

__all__ = ["FILE", "StockFigures", "load_stock_figures"]

FILE = "stockpile.yaml"

Count = Annotated[int, Field(ge=0, le=10**12)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class _Delivery(_Strict):
    date: IsoDate
    quantity: Annotated[int, Field(ge=1, le=10**12)]


class _Position(_Strict):
    holder: str
    system: str
    on_hand: Count
    requirement: Count = 0
    production_per_month: Count = 0
    deliveries: list[_Delivery] = []


class _File(_Strict):
    illustrative: bool = False
    note: str = ""
    opened_on: IsoDate
    positions: list[_Position]


@dataclass(frozen=True, slots=True)
class StockFigures:
    """Opening balances and planning figures of every tracked position."""

    opened_on: dt.date | None = None
    positions: tuple[Position, ...] = ()
    on_hand: dict[tuple[str, str], int] = field(default_factory=dict)
    illustrative: bool = False
    _index: dict[tuple[str, str], Position] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexed once: the board asks for every position's figures.
        object.__setattr__(self, "_index", {(p.holder, p.system): p for p in self.positions})

    def position(self, holder: str, system: str) -> Position | None:
        return self._index.get((holder, system))

    def opening(self, holder: str, system: str, on: dt.date) -> int | None:
        """The opening on-hand figure of a listed position on ``on``; None if not listed then."""
        if self.opened_on is None or on < self.opened_on:
            return None
        if (holder, system) not in self._index:
            return None
        return self.on_hand.get((holder, system), 0)


def _problem(error: object) -> str:
    assert isinstance(error, dict)
    kind = error["type"]
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "missing":
        return "is required"
    if kind == "int_type":  # strict: a text or a fraction is refused as of the wrong type
        return "must be a whole number"
    if kind == "greater_than_equal":
        return f"must be ≥ {error['ctx']['ge']}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    message: str = error["msg"]
    return message[0].lower() + message[1:]


def load_stock_figures(data: object, catalog: Catalog) -> StockFigures:
    """Validate ``stockpile.yaml``'s content; every error names the place in the file."""
    if data is None:
        return StockFigures()
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PackError(
            FILE, pydantic_location(error["loc"]) or "(top level)", _problem(error)
        ) from None
    positions: list[Position] = []
    on_hand: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(parsed.positions):
        where = f"positions[{i}]"
        if catalog.party(entry.holder) is None:
            raise PackError(FILE, f"{where}.holder", f"unknown party '{entry.holder}'")
        if catalog.system(entry.system) is None:
            raise PackError(FILE, f"{where}.system", f"unknown system '{entry.system}'")
        if (entry.holder, entry.system) in on_hand:
            raise PackError(
                FILE, where, f"{entry.holder} already has a position for '{entry.system}'"
            )
        on_hand[(entry.holder, entry.system)] = entry.on_hand
        positions.append(
            Position(
                holder=entry.holder,
                system=entry.system,
                requirement=entry.requirement,
                production_per_month=entry.production_per_month,
                deliveries=tuple(Delivery(d.date, d.quantity) for d in entry.deliveries),
                illustrative=parsed.illustrative,
            )
        )
    return StockFigures(parsed.opened_on, tuple(positions), on_hand, parsed.illustrative)
