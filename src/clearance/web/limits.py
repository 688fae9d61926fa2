"""Request bodies are limited in size, and refused before they are read.

FastAPI reads and parses the whole body of a route before it runs the
dependency that authenticates the request, so without a limit anyone could
make a server hold a body of any size in memory (a tester's 200 MB took one
from 233 to 860 MB) before answering 401. ``BodyLimit`` stands in front:

- a ``Content-Length`` over the limit is answered 413 ``too_large`` at once,
  without reading a byte of the body;
- a body without one (chunked) is counted as it arrives, and refused as soon
  as the count passes the limit, so at most the limit is ever held;
- a body sent to the API with no credential at all (no ``Authorization``
  header, no session cookie) is answered 401 without reading it, as the route
  would answer once it had; signing in (``POST /api/v1/session``) needs none.

The limit is ``CLEARANCE_MAX_BODY_BYTES``; the two routes that upload a
policy proposal's files have ``CLEARANCE_MAX_PROPOSAL_BYTES`` instead.
A plain ASGI middleware, like ``app.Observe``.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearance.errors import AuthenticationError, ClearanceError, TooLarge
from clearance.settings import BodyLimits

from .auth import COOKIE
from .errors import error_response

__all__ = ["PROPOSAL_UPLOADS", "BodyLimit"]

PROPOSAL_UPLOADS = frozenset({("POST", "/api/v1/proposals"), ("POST", "/policy/proposals")})
"""The routes whose body is a whole bundle's files, with a limit of their own."""

_SIGN_IN = ("POST", "/api/v1/session")


class BodyLimit:
    """Refuse a body over its route's limit, or sent to the API without a credential, unread."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        length = connection.headers.get("content-length")
        chunked = "transfer-encoding" in connection.headers
        if not chunked and length in (None, "0"):
            await self.app(scope, receive, send)  # no body: nothing to guard
            return
        route = (scope["method"], scope["path"])
        limit = self.limits.proposal if route in PROPOSAL_UPLOADS else self.limits.body
        refusal: ClearanceError | None = None
        if _anonymous_api(connection, route):
            refusal = AuthenticationError("sign in first (session cookie or Authorization: Bearer)")
        elif length is not None and (
            not length.isdigit() or len(length) > 18 or int(length) > limit
        ):
            refusal = _too_large(limit)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        await _Counted(self.app, limit)(scope, receive, send)


def _anonymous_api(connection: HTTPConnection, route: tuple[str, str]) -> bool:
    return (
        route[1].startswith("/api/")
        and route != _SIGN_IN
        and "authorization" not in connection.headers
        and COOKIE not in connection.cookies
    )


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"the request body is larger than this server reads ({limit:,} bytes)")


class _Counted:
    """One request whose body is counted as it arrives; past the limit the answer is 413.

    Reading stops with ``TooLarge`` raised to whoever reads. FastAPI turns any
    failure to read a body into its own 400, so whatever the application then
    answers is replaced by the 413 (unless it had begun answering before).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.refused: TooLarge | None = None
        self.answering = False  # the application's answer has begun, and goes out as it is
        self.replaced = False  # the 413 went out in place of the application's answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.refused = _too_large(self.limit)
                    raise self.refused
            return message

        async def answer(message: Message) -> None:
            if self.refused is None or self.answering:
                self.answering = self.answering or message["type"] == "http.response.start"
                await send(message)
            elif not self.replaced:
                self.replaced = True
                await error_response(self.refused)(scope, receive, send)

        try:
            await self.app(scope, counted, answer)
        except TooLarge as exc:
            if self.answering:
                raise
            if not self.replaced:
                await error_response(exc)(scope, receive, send)
