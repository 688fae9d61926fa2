"""Who is asking: a session cookie (browsers), an API token or an OIDC bearer token.

Browsers sign in with a password and get a session cookie (HttpOnly,
SameSite=Strict, Secure when served over TLS); every state-changing request
made with a cookie must carry the session's CSRF token, in the
``X-CSRF-Token`` header (htmx and scripts) or a ``csrf_token`` form field.
Machines send ``Authorization: Bearer clr_…`` (an API token) or, when OIDC is
configured, a JWT from the identity provider, whose user claim must name an
existing user (web/oidc.py). Requests with a bearer token carry no cookie, so
they need no CSRF token.

Looking the caller up (the database; for OIDC, perhaps the provider's key set)
runs on a worker thread, never on the event loop, so a slow database or
provider holds up only the requests waiting for it.

A sign-in's client address, which failed sign-ins are counted by, is the peer
address, or, when ``CLEARANCE_TRUSTED_PROXY_HEADER`` names a header, the last
entry of that header: the one the proxy in front wrote itself (entries before
it were sent by the client, who may write anything there).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from clearance.errors import AuthenticationError, PermissionDenied
from clearance.service.accounts import SignedIn
from clearance.service.runtime import Runtime
from clearance.settings import Oidc

from .oidc import ProviderKeys, read_access_token

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "Srv",
    "Viewer",
    "client_address",
    "current",
    "oidc_keys",
    "reader_if_any",
    "server",
    "set_session_cookie",
]

COOKIE = "clearance_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """HttpOnly, SameSite=Strict, and Secure whenever the request came over TLS."""
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def server(request: Request) -> Runtime:
    return request.app.state.server  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    """Where a request came from: the peer, or the trusted proxy's header (module doc)."""
    header = server(request).settings.trusted_proxy_header
    if header:
        entries = ",".join(request.headers.getlist(header)).split(",")
        try:
            return str(ipaddress.ip_address(entries[-1].strip()))
        except ValueError:
            pass  # no header (a request that did not come through the proxy), or not an address
    return request.client.host if request.client else "unknown"


def _from_oidc(srv: Runtime, request: Request, token: str) -> SignedIn:
    oidc = srv.settings.oidc
    if oidc is None:
        raise AuthenticationError("unknown API token")
    user_id, expires = read_access_token(oidc, request.app.state.oidc_keys, token)
    signed_in = srv.accounts.user(user_id)
    if signed_in is None:
        raise AuthenticationError(f"the bearer token names no user of clearance ('{user_id}')")
    return SignedIn(signed_in.user, credential_expires=expires)


def _identify(request: Request) -> SignedIn | None:
    srv = server(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        if token.startswith("clr_"):
            signed_in = srv.accounts.from_token(token, now=srv.now())
            if signed_in is None:
                raise AuthenticationError("the API token is not valid, has expired or was revoked")
            return signed_in
        return _from_oidc(srv, request, token)
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    signed_in = srv.accounts.from_session(cookie, now=srv.now())
    if signed_in is None:
        return None
    if request.method not in _SAFE:
        sent = request.headers.get(CSRF_HEADER) or getattr(request.state, "csrf_form", None)
        expected = (signed_in.csrf_token or "").encode()
        # Compared as bytes: text that is not ASCII is simply not the token.
        if not sent or not hmac.compare_digest(str(sent).encode("utf-8", "replace"), expected):
            raise PermissionDenied("missing or wrong CSRF token; reload the page and try again")
    return signed_in


async def current(request: Request) -> SignedIn:
    """The signed-in user, or 401."""
    if request.method not in _SAFE and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        request.state.csrf_form = form.get("csrf_token")
    signed_in = await run_in_threadpool(_identify, request)
    if signed_in is None:
        raise AuthenticationError("sign in first (session cookie or Authorization: Bearer)")
    request.state.user = signed_in
    return signed_in


async def reader_if_any(request: Request) -> SignedIn | None:
    """The signed-in reader of a page no route answers (a 404 or 405), so that the error page
    keeps its header and way back; None for anyone not signed in, or whose credential fails."""
    try:
        signed_in = await run_in_threadpool(_identify, request)
    except (AuthenticationError, PermissionDenied):
        return None
    request.state.user = signed_in
    return signed_in


Viewer = Annotated[SignedIn, Depends(current)]
Srv = Annotated[Runtime, Depends(server)]
"""The process's runtime, for a route to call the use cases through."""


def oidc_keys(oidc: Oidc | None) -> ProviderKeys | None:
    return None if oidc is None else ProviderKeys(oidc)
