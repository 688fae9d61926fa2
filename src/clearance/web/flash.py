"""One-time messages after a change ("The request was submitted and screened."), carried by a
cookie, never by the URL.

A change made through a form redirects to the page it changed (post, redirect, get); the
message saying what was done rides along in a short-lived cookie for that page's path
alone, and the first view of the page takes it and deletes it. So a reload, a bookmark or
a link sent to someone else shows no message, and nobody can make a page announce a change
by writing it into a link. The cookie holds only the name of one of the page's own
messages: what it says is the page's words, not the cookie's.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

__all__ = ["FLASH_COOKIE", "forget", "redirect_with", "take"]

FLASH_COOKIE = "clearance_done"
_LIFETIME_S = 60
"""Long enough for the browser to follow the redirect; a message not shown by then is moot."""


def redirect_with(path: str, message: str, request: Request) -> RedirectResponse:
    """A redirect to ``path`` that tells its next view ``message`` (a name, not words)."""
    response = RedirectResponse(path, status_code=303)
    response.set_cookie(
        FLASH_COOKIE,
        message,
        max_age=_LIFETIME_S,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def take(request: Request, messages: Mapping[str, str]) -> str | None:
    """The words of the message waiting for this page, if any (``forget`` deletes it)."""
    return messages.get(request.cookies.get(FLASH_COOKIE, ""))


def forget(request: Request, response: Response) -> None:
    """Delete the message this page showed (or would have), so it is shown once."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(
            FLASH_COOKIE,
            path=request.url.path,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
