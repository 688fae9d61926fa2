"""Signing in and out in a browser: the sign-in form, protected by a double-submit cookie."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from clearance.core.access import Level
from clearance.errors import AuthenticationError, PermissionDenied, Throttled

from ..auth import COOKIE, Srv, Viewer, client_address, set_session_cookie
from ..rendering import PageRoute, render, safe_next

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SIGNIN_COOKIE = "clearance_signin_csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def _signin_token(request: Request) -> str:
    token = request.cookies.get(SIGNIN_COOKIE, "")
    return token if _TOKEN.fullmatch(token) else secrets.token_urlsafe(32)


def _sign_in_form(
    request: Request,
    *,
    token: str,
    next_path: str,
    user: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    response = render(
        request,
        "sign_in.html",
        viewer=None,
        level=Level.UNCLASSIFIED,
        status=status,
        title="Sign in",
        signin_csrf=token,
        next=next_path,
        user=user,
        error=error,
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/sign-in",
        max_age=3600,
    )
    return response


@router.get("/sign-in")
def sign_in_page(
    request: Request, srv: Srv, next: Annotated[str, Query(max_length=2000)] = ""
) -> Response:
    cookie = request.cookies.get(COOKIE)
    if cookie and srv.accounts.from_session(cookie, now=srv.now()) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _sign_in_form(request, token=_signin_token(request), next_path=safe_next(next))


@router.post("/sign-in")
def sign_in(
    request: Request,
    srv: Srv,
    user: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    # As bytes: compare_digest refuses text that is not ASCII, and a form can send any.
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        raise PermissionDenied(
            "the sign-in form has expired or did not come from this site; reload it and try again"
        )
    target = safe_next(next)
    try:
        token, _ = srv.accounts.sign_in(
            user.strip(), password, client=client_address(request), now=srv.now()
        )
    except Throttled as exc:
        refused = _sign_in_form(
            request, token=expected, next_path=target, user=user, error=exc.message, status=429
        )
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except AuthenticationError as exc:
        return _sign_in_form(
            request, token=expected, next_path=target, user=user, error=exc.message, status=401
        )
    if previous := request.cookies.get(COOKIE):
        srv.accounts.sign_out(previous)  # one browser, one session
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    response.delete_cookie(SIGNIN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(request: Request, viewer: Viewer, srv: Srv) -> Response:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        srv.accounts.sign_out(cookie)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
