"""Screening as a request is typed: the new-request form's live preview."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from clearance.core.access import Level, parse_level
from clearance.core.request import parse_request
from clearance.errors import InputError, RequestError
from clearance.policy.explain import explain
from clearance.service.accounts import SignedIn
from clearance.service.runtime import Runtime
from clearance.service.stock_seen import stockpile_seen

from ..auth import Srv, Viewer
from ..forms import FIELD_IDS, RequestForm, missing, read_request_form
from ..rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.post("/requests/preview")
async def preview(request: Request, viewer: Viewer, srv: Srv) -> Response:
    """The screening of the form as it stands: a fragment for the page's live region.

    The form is read on the event loop; the screening (the policy in force is looked
    up in the database, then Cedar decides) runs on a worker thread."""
    form = read_request_form(await request.form())
    return await run_in_threadpool(_preview, request, srv, viewer, form)


def _preview(request: Request, srv: Runtime, viewer: SignedIn, form: RequestForm) -> Response:
    level: Level | None = None
    try:
        level = parse_level(form.classification)
    except InputError:
        level = None
    empty = [what for _, what in missing(form)]
    context: dict[str, Any] = {"missing": empty, "decision": None, "error": None, "stock": None}
    if not empty:
        try:
            parsed = parse_request(form.request())
            decision = srv.screener.decide(parsed, decision_id=str(uuid.uuid4()), now=srv.now())
            context["decision"] = decision
            context["explanation"] = explain(srv.screener, parsed, decision)
            context["stock"] = stockpile_seen(
                decision.stockpile.as_dict() if decision.stockpile else None, viewer.user
            )
        except RequestError as exc:
            context["error"] = exc.message
            context["error_field"] = FIELD_IDS.get(exc.field)
    return render(
        request,
        "_preview.html",
        viewer=viewer,
        level=level if level is not None and level <= viewer.clearance else Level.UNCLASSIFIED,
        oob=level is not None,
        **context,
    )
