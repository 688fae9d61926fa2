"""The stockpile through the API: the board of ratings, one position, a transfer's projection."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator

from clearance.core.dates import RANGE
from clearance.core.request import iso_date
from clearance.core.stockpile import Rating
from clearance.service.stockpile import MAX_MONTHS

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.stockpile import Board, PositionBody, ProjectionBody
from .params import PREFIX, TEXT

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["stockpile"])

Party = Annotated[str, Path(max_length=40, pattern=TEXT, description="A party's code, e.g. US.")]
SystemId = Annotated[str, Path(max_length=80, pattern=TEXT, description="A system id.")]


@router.get("/stockpile", response_model=Board)
def stockpile_board(
    viewer: Viewer,
    srv: Srv,
    holder: Annotated[list[str] | None, Query(max_length=50)] = None,
    rating: Rating | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Every stock position you may see, rated today, worst first; ``counts`` per colour
    are of the holders asked for, whatever ``rating`` says."""
    board = srv.cases.stock.board(
        on=srv.now().date(),
        actor=viewer.id,
        holders=frozenset(holder) if holder else None,
        rating=rating,
        limit=limit,
    )
    return {
        "as_of": srv.now().date().isoformat(),
        "counts": board.counts,
        "total": board.total,
        "positions": [row.as_dict() for row in board.rows],
    }


@router.get("/stockpile/{holder}/{system}", response_model=PositionBody)
def stockpile_position(
    holder: Party,
    system: SystemId,
    viewer: Viewer,
    srv: Srv,
    as_of: Annotated[
        dt.date | None,
        BeforeValidator(iso_date),
        Query(description=f"YYYY-MM-DD, {RANGE}; today if absent."),
    ] = None,
) -> dict[str, Any]:
    """One position's rating as of a date, rebuilt from its movements, and those movements."""
    return srv.cases.stock.position(
        holder, system, on=srv.now().date(), actor=viewer.id, as_of=as_of
    ).as_dict()


@router.get("/stockpile/{holder}/{system}/projection", response_model=ProjectionBody)
def stockpile_projection(
    holder: Party,
    system: SystemId,
    viewer: Viewer,
    srv: Srv,
    transfer: Annotated[int, Query(ge=0, le=10**12)] = 0,
    months: Annotated[int, Query(ge=1, le=MAX_MONTHS)] = 24,
) -> dict[str, Any]:
    """The rating now and after giving ``transfer`` today, and month by month with production."""
    return srv.cases.stock.project(
        holder, system, transfer=transfer, months=months, on=srv.now().date(), actor=viewer.id
    ).as_dict()
