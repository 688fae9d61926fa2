"""Notifications in the browser: your subscriptions (add, end), and for admins the
notifications given up on, with a button to try each again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from clearance.core.access import Level
from clearance.core.notices import MAX_ADDRESS, Kind
from clearance.errors import ClearanceError, InputError, NotFoundError
from clearance.service.access import Action
from clearance.service.accounts import SignedIn
from clearance.service.runtime import Runtime
from clearance.service.subscriptions import Subscribed

from ..auth import Srv, Viewer
from ..rendering import PageRoute, highest, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

_ID = Path(max_length=40)


def _page(
    request: Request,
    srv: Runtime,
    viewer: SignedIn,
    *,
    status: int = 200,
    error: str | None = None,
    made: Subscribed | None = None,
    form: dict[str, object] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "notifications.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        status=status,
        title="Notifications",
        subscriptions=srv.subscriptions.listed(actor=viewer.id),
        kinds=[(k.value, k.meaning) for k in Kind],
        levels=[level.label for level in Level if level <= viewer.clearance],
        is_admin=srv.may(viewer.id, Action.NOTIFICATIONS_ADMIN),
        error=error,
        made=made,
        form=form or {"kinds": [], "channel": "email", "address": "", "office": ""},
    )


@router.get("/notifications")
def notifications_page(request: Request, viewer: Viewer, srv: Srv) -> Response:
    return _page(request, srv, viewer)


@router.post("/notifications")
def subscribe(
    request: Request,
    viewer: Viewer,
    srv: Srv,
    kinds: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 (FastAPI copies it)
    channel: Annotated[str, Form(max_length=10)] = "email",
    address: Annotated[str, Form(max_length=MAX_ADDRESS)] = "",
    office: Annotated[str, Form(max_length=80)] = "",
    clearance: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Subscribe; the new subscription (and a webhook's signing key, this once) is shown on the page,
    a refusal on the form (nothing is recorded)."""
    form: dict[str, object] = {
        "kinds": kinds,
        "channel": channel,
        "address": address,
        "office": office,
    }
    try:
        if channel not in ("email", "webhook"):
            raise InputError("channel", "choose e-mail or webhook")
        made = srv.subscriptions.subscribe(
            actor=viewer.id,
            kinds=kinds,
            email=address if channel == "email" else None,
            webhook=address if channel == "webhook" else None,
            office=office.strip() or None,
            clearance=clearance.strip() or None if office.strip() else None,
            now=srv.now(),
        )
    except ClearanceError as exc:
        return _page(request, srv, viewer, status=exc.http_status, error=exc.message, form=form)
    return _page(request, srv, viewer, status=201, made=made)


@router.post("/notifications/{subscription_id}/end")
def unsubscribe(subscription_id: Annotated[str, _ID], viewer: Viewer, srv: Srv) -> Response:
    srv.subscriptions.end(subscription_id, actor=viewer.id, now=srv.now())
    return RedirectResponse("/notifications#subscriptions-heading", status_code=303)


@router.get("/notifications/dead")
def dead_letters(request: Request, viewer: Viewer, srv: Srv, retried: str = "") -> Response:
    """The notifications given up on (admins), newest first, none about a case above them."""
    found = srv.subscriptions.dead(actor=viewer.id)
    return render(
        request,
        "notifications_dead.html",
        viewer=viewer,
        level=highest(d.level for d in found if d.level is not None),
        title="Notifications not delivered",
        letters=found,
        retried=retried[:40],
    )


@router.post("/notifications/dead/{delivery_id}/retry")
def retry(delivery_id: Annotated[str, _ID], viewer: Viewer, srv: Srv) -> Response:
    try:
        srv.subscriptions.retry(delivery_id, actor=viewer.id, now=srv.now())
    except NotFoundError:
        raise
    return RedirectResponse(f"/notifications/dead?retried={delivery_id}", status_code=303)
