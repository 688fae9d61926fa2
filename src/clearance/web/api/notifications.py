"""Notifications through the API: your subscriptions; for admins, the notifications given up on
(dead letters) and their retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from clearance.core.notices import MAX_ADDRESS
from clearance.service.subscriptions import delivery_row, subscription_row

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.notifications import DeadLetters, Delivery, NewSubscription, SubscriptionList
from .params import PREFIX, TEXT

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["notifications"])

_ID = Path(max_length=40, pattern=TEXT)


class SubscriptionRequest(BaseModel):
    kinds: list[Annotated[str, Field(max_length=40, pattern=TEXT)]] = Field(
        min_length=1,
        max_length=20,
        description="waiting, decided, condition_due, question, escalation, policy_activated.",
    )
    email: str | None = Field(default=None, max_length=254, pattern=TEXT)
    webhook: str | None = Field(
        default=None,
        max_length=MAX_ADDRESS,
        pattern=TEXT,
        description="https:// (http:// only to the server's own machine); it must accept a"
        " connection now.",
    )
    office: str | None = Field(
        default=None,
        max_length=80,
        pattern=TEXT,
        description="Subscribe an office's shared address instead of yourself (admins).",
    )
    clearance: str | None = Field(
        default=None,
        max_length=40,
        pattern=TEXT,
        description="With office: the highest level of case its address may be told of.",
    )


@router.get("/subscriptions", response_model=SubscriptionList)
def subscriptions(
    viewer: Viewer,
    srv: Srv,
    ended: Annotated[bool, Query(description="Ended ones too.")] = False,
) -> dict[str, Any]:
    """Your subscriptions (an admin's: everyone's and every office's), oldest first."""
    found = srv.subscriptions.listed(actor=viewer.id, ended=ended)
    return {"subscriptions": [subscription_row(r) for r in found]}


@router.post("/subscriptions", status_code=201, response_model=NewSubscription)
def subscribe(body: SubscriptionRequest, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Subscribe yourself (or, as an admin, an office) to kinds of event, by e-mail or webhook.
    A webhook's signing key is in the answer, this once."""
    made = srv.subscriptions.subscribe(
        actor=viewer.id,
        kinds=body.kinds,
        email=body.email,
        webhook=body.webhook,
        office=body.office,
        clearance=body.clearance,
        now=srv.now(),
    )
    return {**subscription_row(made.subscription), "signing_key": made.signing_key}


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: Annotated[str, _ID], viewer: Viewer, srv: Srv) -> Response:
    """End a subscription of yours (an admin: any); nothing queued for it is sent."""
    srv.subscriptions.end(subscription_id, actor=viewer.id, now=srv.now())
    return Response(status_code=204)


@router.get("/notifications/dead", response_model=DeadLetters)
def dead_letters(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Notifications given up on, newest first (admins): none about a case above you."""
    found = srv.subscriptions.dead(actor=viewer.id)
    return {"notifications": [delivery_row(d.record, d.level) for d in found]}


@router.post("/notifications/{delivery_id}/retry", response_model=Delivery)
def retry(delivery_id: Annotated[str, _ID], viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Make a dead notification due again (admins); the dispatcher sends it next."""
    retried = srv.subscriptions.retry(delivery_id, actor=viewer.id, now=srv.now())
    return delivery_row(retried.record, retried.level)
