"""Stock positions as the API shows them: the board, one position, a projection."""

from __future__ import annotations

from pydantic import Field

from . import Body
from .decisions import RatingWord

__all__ = ["Board", "BoardRow", "PositionBody", "ProjectionBody"]


class Thresholds(Body):
    green_percent: int
    yellow_percent: int


class BoardRow(Body):
    """One position rated on a day."""

    holder: str
    system: str
    rating: RatingWord
    meaning: str
    on_hand: int
    committed: int
    available: int
    requirement: int
    cover_percent: int | None = Field(description="None without a requirement.")
    production_per_month: int
    thresholds: Thresholds
    illustrative: bool


class Board(Body):
    as_of: str
    counts: dict[str, int] = Field(description="Positions of every colour, of the holders asked.")
    total: int
    positions: list[BoardRow]


class Movement(Body):
    """A line of a position's history; ``withheld`` lines sum movements of cases above your
    clearance, per day and kind, with no case, actor or time."""

    day: str
    kind: str
    quantity: int
    on_hand_change: int
    committed_change: int
    case_id: str | None
    actor: str | None
    at: str | None
    withheld: bool


class PositionBody(BoardRow):
    as_of: str
    movements: list[Movement]


class MonthAhead(Body):
    month: int
    on: str
    available: int
    requirement: int
    green_level: int
    rating: RatingWord


class ProjectionBody(Body):
    """A transfer's effect on the giver's stock today, then month by month with production."""

    holder: str
    system: str
    on: str
    quantity: int
    on_hand: int
    committed: int
    available: int
    available_after: int
    requirement: int
    thresholds: Thresholds
    now: RatingWord
    after: RatingWord
    months_to_recover: int | None
    illustrative: bool
    months: list[MonthAhead]
