"""Who may see which case and which stock, and answering a gate: shared by the API and pages.

A user never reads above their clearance: every case they are shown, and
every count, comes through these helpers (which pass their clearance to the
service layer as ``max_level``), and a case they may not see is "not found"
in the same words as one that does not exist.

Stock positions follow the same idea by party: reviewers, auditors and admins
see every party's stock; anyone else sees their own party's only, and another
party's position is "not found" in the words of a position that is not tracked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearance.core.access import Role
from clearance.core.signing import unlock
from clearance.core.stockpile import Rating
from clearance.errors import NotFoundError, SignatureError
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView
from clearance.service.people import offices_of
from clearance.service.stockpile import BoardRow, PositionView, Projection
from clearance.store.records import CaseRecord

from .context import Server

__all__ = [
    "WORST_FIRST",
    "answer_case",
    "case_scope",
    "sees_all_cases",
    "stock_board",
    "stock_holders",
    "visible_case",
    "visible_overdue",
    "visible_position",
    "visible_projection",
]


def sees_all_cases(srv: Server, viewer: SignedIn) -> bool:
    """Reviewers, auditors, admins and office holders see every case up to their clearance;
    a requester alone sees the cases they submitted."""
    if viewer.has(Role.REVIEWER) or viewer.has(Role.AUDITOR):
        return True
    return bool(offices_of(srv.store, viewer.id, srv.now().date()))


def case_scope(srv: Server, viewer: SignedIn) -> dict[str, Any]:
    """The ``max_level`` and ``submitted_by`` filters of the cases ``viewer`` may see."""
    return {
        "max_level": int(viewer.clearance),
        "submitted_by": None if sees_all_cases(srv, viewer) else viewer.id,
    }


def visible_case(srv: Server, viewer: SignedIn, case_id: str) -> CaseView:
    """A case by id or number, or ``NotFoundError`` if ``viewer`` may not see it."""
    view = srv.cases.view(case_id, max_level=int(viewer.clearance))
    if not sees_all_cases(srv, viewer) and view.case.submitted_by != viewer.id:
        raise NotFoundError(f"no case '{case_id}'")
    return view


def visible_overdue(
    srv: Server, viewer: SignedIn, now: dt.datetime, limit: int | None = None
) -> list[CaseRecord]:
    """Cases waiting on an office past their SLA that ``viewer`` may see, oldest first."""
    return srv.cases.overdue(now, limit=limit, **case_scope(srv, viewer))


def answer_case(
    srv: Server,
    viewer: SignedIn,
    case_id: str,
    *,
    approve: bool,
    reason: str,
    passphrase: str,
    authority: str | None,
) -> CaseRecord:
    """Approve or deny a gate of a case, signed with the viewer's own key."""
    visible_case(srv, viewer, case_id)  # 404 for a case you may not see, before anything else
    try:
        pem = srv.key_path(viewer.id).read_bytes()
    except FileNotFoundError:
        raise SignatureError(
            f"no signing key is registered on this server for {viewer.id}"
        ) from None
    return srv.cases.answer(
        case_id,
        actor=viewer.id,
        approve=approve,
        reason=reason,
        signer=unlock(pem, passphrase),
        now=srv.now(),
        authority=authority,
    )


# stock --------------------------------------------------------------------------

WORST_FIRST = sorted(Rating, key=lambda r: -r.severity)
"""Red, yellow, green: the order of the board and of its counts."""


def stock_holders(viewer: SignedIn) -> frozenset[str] | None:
    """The parties whose stock ``viewer`` may see: None for all (reviewers, auditors, admins).

    Stock figures say what a party could give or must keep, which is its own
    business until a reviewer needs it; so a requester sees their party's only.
    """
    if viewer.has(Role.REVIEWER) or viewer.has(Role.AUDITOR):
        return None
    return frozenset({viewer.user.party})


def stock_board(
    srv: Server, viewer: SignedIn, holders: list[str] | None, rating: Rating | None
) -> tuple[list[BoardRow], dict[str, int]]:
    """The positions ``viewer`` may see (of ``holders`` and of ``rating``, when given), worst
    first; and how many of each colour there are among those holders' positions, so that
    a filter by colour can say what each choice would show."""
    allowed = stock_holders(viewer)
    wanted = frozenset(holders) if holders else None
    if allowed is not None and wanted is not None:
        wanted &= allowed
    rows = srv.cases.stock.board(
        on=srv.now().date(), holders=wanted if wanted is not None else allowed
    )
    counts = {r.value: sum(1 for row in rows if row.rating is r) for r in WORST_FIRST}
    return [row for row in rows if rating is None or row.rating is rating], counts


def _may_see_stock(viewer: SignedIn, holder: str, system: str) -> None:
    allowed = stock_holders(viewer)
    if allowed is not None and holder not in allowed:
        # The words of a position that is not tracked (``StockService``), so that a
        # requester cannot tell another party's tracked position from an untracked one.
        raise NotFoundError(f"{holder}'s stock of '{system}' is not tracked")


def visible_position(
    srv: Server, viewer: SignedIn, holder: str, system: str, as_of: dt.date | None
) -> PositionView:
    """A position as of a date (today when None), or ``NotFoundError`` if ``viewer`` may not see it."""
    _may_see_stock(viewer, holder, system)
    return srv.cases.stock.position(holder, system, on=srv.now().date(), as_of=as_of)


def visible_projection(
    srv: Server, viewer: SignedIn, holder: str, system: str, *, transfer: int, months: int
) -> Projection:
    """What giving ``transfer`` today would do, or ``NotFoundError`` if ``viewer`` may not see it."""
    _may_see_stock(viewer, holder, system)
    return srv.cases.stock.project(
        holder, system, transfer=transfer, months=months, on=srv.now().date()
    )
