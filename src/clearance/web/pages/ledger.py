"""The ledger page: events, the chain verified, checkpoints signed and kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from clearance.core.access import Level
from clearance.core.chain import EventType
from clearance.core.event_words import words_of
from clearance.errors import InputError, NotFoundError, PermissionDenied
from clearance.service import anchoring, auditing
from clearance.service.access import Action

from ..auth import Srv, Viewer
from ..rendering import PAGE_SIZE, PageRoute, highest, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

_EVENT_TYPES = [t.value for t in EventType]


@router.get("/ledger")
def ledger_page(
    request: Request,
    viewer: Viewer,
    srv: Srv,
    case: Annotated[str, Query(max_length=40)] = "",
    type: Annotated[str, Query(max_length=40)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    signed: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> Response:
    case_id: str | None = None
    if case.strip():  # by number or id, as the viewer may see it: not found if not
        srv.check(viewer.id, Action.LEDGER_READ)  # a reader of the ledger first
        case_id = srv.cases.find(case.strip(), actor=viewer.id).id
    if type and type not in _EVENT_TYPES:
        raise InputError("type", f"'{type}' is not an event type")
    events = auditing.ledger_page(
        srv.store,
        actor=viewer.id,
        case_id=case_id,
        type=type or None,
        before=before,
        limit=PAGE_SIZE,
    )
    numbers: dict[str, int] = {}
    levels: list[int] = []
    for cid in {e["case_id"] for e in events if e["case_id"]}:
        found = srv.cases.find(cid, actor=viewer.id)
        numbers[cid] = found.number
        levels.append(found.classification)
    return render(
        request,
        "ledger.html",
        viewer=viewer,
        level=highest(levels),
        title="Ledger",
        events=[{**e, "summary": words_of(e)} for e in events],
        numbers=numbers,
        case=case.strip(),
        type=type,
        types=_EVENT_TYPES,
        older=events[-1]["seq"] if len(events) == PAGE_SIZE else None,
        before=before,
        checkpoints=auditing.checkpoints(srv.store, actor=viewer.id, limit=5),
        system_key=anchoring.installation_key(srv.store),
        signed=signed,
    )


@router.post("/ledger/checkpoints")
def sign_checkpoint(viewer: Viewer, srv: Srv) -> Response:
    """Sign a checkpoint now (auditors), then show it on the ledger page."""
    made = auditing.sign_checkpoint(srv.store, actor=viewer.id, now=srv.now())
    return RedirectResponse(f"/ledger?signed={made.seq}#checkpoints-heading", status_code=303)


@router.get("/ledger/checkpoint.json")
def latest_checkpoint(viewer: Viewer, srv: Srv) -> Response:
    """The latest checkpoint as a file to keep (``clearance audit verify --checkpoint``)."""
    latest = auditing.checkpoints(srv.store, actor=viewer.id, limit=1)
    if not latest:
        raise NotFoundError("no checkpoint has been signed yet")
    kept = {k: v for k, v in latest[0].items() if k != "reason"}
    return JSONResponse(
        kept,
        headers={"Content-Disposition": f'attachment; filename="checkpoint-{kept["seq"]}.json"'},
    )


@router.get("/ledger/verification")
def ledger_verification(request: Request, viewer: Viewer, srv: Srv) -> Response:
    """The whole chain checked: a fragment for the ledger page, or a page of its own."""
    context: dict[str, Any] = {"report": None, "refused": None}
    try:
        context["report"] = auditing.verify(srv.store, srv.settings.data_dir, actor=viewer.id)
        context["checked_at"] = srv.now()
    except PermissionDenied as exc:
        if not srv.may(viewer.id, Action.LEDGER_READ):
            raise  # not an auditor: refused as a page
        context["refused"] = f"{exc.message[0].upper()}{exc.message[1:]}."
    fragment = bool(request.headers.get("hx-request"))
    return render(
        request,
        "_verification.html" if fragment else "verification.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title="Ledger verification",
        **context,
    )
