"""Who may see which case, and answering a gate: shared by the REST API and the web pages.

A user never reads above their clearance: every case they are shown, and
every count, comes through these helpers (which pass their clearance to the
service layer as ``max_level``), and a case they may not see is "not found"
in the same words as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearance.core.access import Role
from clearance.core.signing import unlock
from clearance.errors import NotFoundError, SignatureError
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView
from clearance.service.people import offices_of
from clearance.store.records import CaseRecord

from .context import Server

__all__ = [
    "answer_case",
    "case_scope",
    "sees_all_cases",
    "visible_case",
    "visible_overdue",
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
