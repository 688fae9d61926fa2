"""The stockpile pages: the board of ratings, and one position with a transfer's projection.

Each rating is shown in words as well as in colour, and each chart also as a
table. The forms are plain GET forms, so every page works without script; with
htmx the projection is redrawn as the numbers are typed. Who sees which
party's stock, and what of each movement, is the service's to decide: each
page passes the viewer (``service.stockpile``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from clearance.core.access import Level
from clearance.core.dates import RANGE
from clearance.core.request import iso_date
from clearance.core.stockpile import Rating, StockpileFacts
from clearance.errors import InputError, NotFoundError
from clearance.service.stockpile import MAX_MONTHS, PositionView

from ..auth import Srv, Viewer
from ..projection_chart import projection_chart, recovery_words, yellow_level
from ..rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Text = Annotated[str, Query(max_length=40)]
MAX_TRANSFER = 10**12
WORST_FIRST = sorted(Rating, key=lambda r: -r.severity)
"""Red, yellow, green: the order of the board and of its counts."""


def _rating(value: str) -> Rating | None:
    if not value:
        return None
    try:
        return Rating(value)
    except ValueError:
        raise InputError("rating", "choose red, yellow or green") from None


@router.get("/stockpile")
def board_page(
    request: Request, viewer: Viewer, srv: Srv, holder: Text = "", rating: Text = ""
) -> Response:
    stock = srv.cases.stock
    board = stock.board(
        on=srv.now().date(),
        actor=viewer.id,
        holders=frozenset({holder}) if holder else None,
        rating=_rating(rating),
    )
    catalog = srv.pack.catalog
    return render(
        request,
        "stockpile.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title="Stockpile",
        rows=board.rows,
        counts=board.counts,
        holder=holder,
        rating=rating,
        holders=stock.holders(actor=viewer.id),
        ratings=WORST_FIRST,
        parties={p.code: p.name for p in catalog.parties},
        systems={s.id: s.name for s in catalog.systems},
        today=srv.now().date(),
    )


def _whole(value: str, field: str, low: int, high: int) -> int:
    """A whole number typed into a form, within [low, high], or an error naming the field."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InputError(field, f"enter a whole number from {low:,} to {high:,}")
    return int(text)


def _day(value: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        day = iso_date(value.strip())
    except ValueError:
        raise InputError("as_of", f"enter a date as YYYY-MM-DD, {RANGE}") from None
    assert isinstance(day, dt.date)
    return day


def _room(facts: StockpileFacts) -> str:
    """How much could be given before the rating falls: what the page says until a
    transfer is entered, instead of a chart of nothing given."""
    available, green = facts.available, facts.thresholds.green_level(facts.requirement)
    yellow = yellow_level(facts)
    if available >= green:
        return (
            f"Giving up to {available - green:,} keeps it green; up to {available - yellow:,},"
            " yellow; more leaves it red."
        )
    if available >= yellow:
        return f"It is yellow already: giving up to {available - yellow:,} keeps it yellow."
    return "It is red already: any transfer leaves it red."


@router.get("/stockpile/{holder}/{system}")
def position_page(
    holder: str,
    system: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    transfer: Text = "",
    months: Text = "24",
    as_of: Text = "",
) -> Response:
    """The position today; what giving ``transfer`` would do (none given: how much could be
    given before its rating falls); its rating as of ``as_of``.

    A value that cannot be used is shown on the form it came from (422), with the
    rest of the page as it would be without it.
    """
    stock, on = srv.cases.stock, srv.now().date()
    today = stock.position(holder, system, on=on, actor=viewer.id)  # 404 before anything else
    errors: dict[str, str] = {}
    projection = None
    try:
        projection = stock.project(
            holder,
            system,
            transfer=_whole(transfer or "0", "transfer", 0, MAX_TRANSFER),
            months=_whole(months, "months", 1, MAX_MONTHS),
            on=on,
            actor=viewer.id,
        )
    except InputError as exc:
        errors[exc.where] = exc.message
    past: PositionView | None = None
    try:
        day = _day(as_of)
        if day is not None:
            past = stock.position(holder, system, on=on, actor=viewer.id, as_of=day)
    except InputError as exc:
        errors[exc.where] = exc.message
    except NotFoundError as exc:
        errors["as_of"] = f"as of {as_of.strip()}: {exc.message}"
    chart = None
    if projection is not None and projection.facts.quantity:  # no transfer: nothing to draw
        chart = projection_chart(
            projection.facts,
            list(projection.points),
            title=(
                f"{holder} {system}: available over {len(projection.points) - 1} months"
                f" after giving {projection.facts.quantity:,}"
            ),
        )
    party, found = srv.pack.catalog.party(holder), srv.pack.catalog.system(system)
    return render(
        request,
        "stockpile_position.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        status=422 if errors else 200,
        title=f"Stockpile: {holder} {system}",
        view=today,
        past=past,
        projection=projection,
        chart=chart,
        recovery=recovery_words(projection.facts.months_to_recover) if projection else "",
        room=_room(projection.facts) if projection else "",
        errors=errors,
        form={"transfer": transfer, "months": months, "as_of": as_of},
        party=party.name if party is not None else holder,
        system_name=found.name if found is not None else system,
        max_months=MAX_MONTHS,
    )
