"""Signing in through the API: the session, who is signed in, what waits for them, API
tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from clearance.service.accounts import token_row
from clearance.service.people import offices_of

from ..auth import COOKIE, Srv, Viewer, client_address, set_session_cookie
from ..errors import ERROR_RESPONSES
from .models.account import InboxBody, IssuedToken, Me, SessionBody, TokenList
from .params import PREFIX, TEXT

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["sign-in"])


class SignIn(BaseModel):
    user: str = Field(min_length=1, max_length=64, pattern=TEXT)
    password: str = Field(min_length=1, max_length=1000)


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT)
    days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="How many days the token lives; at most, and by default, the server's"
        " token lifetime (CLEARANCE_TOKEN_DAYS).",
    )


@router.post("/session", response_model=SessionBody)
def sign_in(body: SignIn, response: Response, request: Request, srv: Srv) -> dict[str, Any]:
    """Sign in with a password: sets the session cookie; returns the CSRF token to send back."""
    token, signed_in = srv.accounts.sign_in(
        body.user, body.password, client=client_address(request), now=srv.now()
    )
    set_session_cookie(response, request, token)
    return {"user": signed_in.id, "csrf_token": signed_in.csrf_token}


@router.delete("/session", status_code=204)
def sign_out(request: Request, response: Response, viewer: Viewer, srv: Srv) -> Response:
    """End this session (the cookie stops working at once, on every instance)."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        srv.accounts.sign_out(cookie)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def me(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Who is signed in: roles, clearance, the offices held today."""
    return {
        "user": viewer.id,
        "name": viewer.user.name,
        "party": viewer.user.party,
        "roles": list(viewer.user.roles),
        "clearance": viewer.clearance.label,
        "offices": offices_of(srv.store, viewer.id, srv.now().date()),
    }


@router.get("/inbox", response_model=InboxBody, tags=["cases"])
def inbox(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """What waits for you, oldest first: gates of cases for an office you hold or answer for
    today, unmet conditions of your own cases, policy proposals only you may activate."""
    now = srv.now()
    return {"user": viewer.id, "items": [i.as_dict(now) for i in srv.inbox(actor=viewer.id)]}


@router.post("/tokens", status_code=201, response_model=IssuedToken)
def issue_token(body: TokenRequest, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """A new API token acting as you, shown once: keep it; it is stored only hashed.

    It expires after ``days`` (by default the server's token lifetime), and never
    after the API or OIDC token this request was signed in with."""
    token, record = srv.accounts.issue_token(
        viewer.id,
        body.name,
        actor=viewer.id,
        now=srv.now(),
        days=body.days,
        not_after=viewer.credential_expires,
    )
    return {
        "id": record.id,
        "name": record.name,
        "token": token,
        "expires_at": record.expires_at.isoformat(),
    }


@router.get("/tokens", response_model=TokenList)
def list_tokens(
    viewer: Viewer,
    srv: Srv,
    user: Annotated[
        str | None,
        Query(max_length=64, pattern=TEXT, description="Another user's (admin only)."),
    ] = None,
) -> dict[str, Any]:
    """Your API tokens (an admin may ask for anyone's), newest first: revoked and expired
    ones too, with their state; never the tokens themselves."""
    now = srv.now()
    found = srv.accounts.tokens(user or viewer.id, actor=viewer.id)
    return {"tokens": [token_row(t, now) for t in found]}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: Annotated[str, Path(max_length=40, pattern=TEXT)], viewer: Viewer, srv: Srv
) -> Response:
    """Revoke a token of yours (an admin may revoke any): refused from the next request on."""
    srv.accounts.revoke_token(token_id, actor=viewer.id, now=srv.now())
    return Response(status_code=204)
