"""One exception root, one JSON shape: ``{"code", "message", "field"?}`` with the class's status.

``ClearanceError`` subclasses carry their HTTP status (errors.py); FastAPI's own
validation errors are rendered in the same shape (422, ``invalid_request``,
naming the first bad field), so a client handles one kind of error body.
Anything else is a bug: it is logged with its traceback and answered 500
without details.

An address no route answers (404), or a route asked with a method it does not take
(405), is the site's error page, with a way back, when a browser asked for a page (it
accepts HTML, and the path is not the API's); the API and anything else get the JSON
body. Errors of the page routes themselves are pages already (``rendering.PageRoute``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from clearance.errors import ClearanceError, Throttled

from .auth import reader_if_any
from .rendering import error_page

__all__ = ["ERROR_RESPONSES", "ErrorBody", "install"]

log = logging.getLogger("clearance.web")


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (400, "bad input"),
        (401, "not signed in"),
        (403, "not allowed"),
        (404, "not found (or above your clearance)"),
        (409, "a move the workflow does not allow, or a conflict"),
        (413, "a request body larger than the server reads"),
        (422, "a request or field that is wrong"),
        (429, "too many failed sign-ins for this user name from this address"),
        (503, "the database is unavailable"),
    ]
}
ERROR_RESPONSES[429]["headers"] = {
    "Retry-After": {
        "description": "seconds to wait before signing in again from this address",
        "schema": {"type": "integer"},
    }
}


def error_response(error: ClearanceError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
    return JSONResponse(error.as_dict(), status_code=error.http_status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _undecodable(cause: Exception) -> str:
    """Why a JSON body could not be decoded, in the words ``core.json_input`` uses."""
    if isinstance(cause, RecursionError):
        return "not JSON clearance reads: arrays or objects nested too deep"
    if isinstance(cause, UnicodeDecodeError):
        return "not UTF-8 text"
    return "not JSON clearance reads: a whole number of more than 4,300 digits"


_NOT_PAGES = ("/api/", "/openapi.json", "/health", "/ready", "/metrics", "/static/")
"""Paths whose answers are for programs (or files), never a page, whatever the client accepts."""


def wants_page(request: Request) -> bool:
    """Whether the client is a browser asking for a page: HTML accepted, before JSON if both
    are, and not a path of the API (or another answer for programs)."""
    path = request.url.path
    if path.startswith(_NOT_PAGES) or path == "/api":
        return False
    accept = request.headers.get("accept", "").lower()
    html = accept.find("text/html")
    json = accept.find("application/json")
    return html >= 0 and (json < 0 or html < json)


def _page_words(request: Request, status: int) -> str:
    """What an error of routing means, for a person at a browser."""
    if status == 404:
        return f"there is no page at {request.url.path}; it may have moved, or the link is wrong"
    if status == 405:
        return f"{request.url.path} does not answer a {request.method} request"
    return "the request could not be answered"


def install(app: FastAPI) -> None:
    @app.exception_handler(ClearanceError)
    async def clearance_error(request: Request, exc: ClearanceError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        field = _field(tuple(first.get("loc", ())))
        problem = first.get("msg")
        if first.get("type") == "value_error":  # our validators' words, without pydantic's prefix
            problem = str(first.get("ctx", {}).get("error", problem))
        elif first.get("type") == "json_invalid":  # the body as a whole, not its offset
            field, problem = "body", f"not JSON: {first.get('ctx', {}).get('error', problem)}"
        body = {"code": "invalid_request", "message": f"{field}: {problem}", "field": field}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError | ValueError):
            # FastAPI could not decode a JSON body (its own 400 says only that): say why,
            # in the shape of any other body that is not what the route takes.
            problem = _undecodable(exc.__cause__)
            body = {"code": "invalid_request", "message": f"body: {problem}", "field": "body"}
            return JSONResponse(body, status_code=422)
        if exc.status_code in (404, 405) and wants_page(request):
            await reader_if_any(request)
            page = error_page(request, exc.status_code, _page_words(request, exc.status_code))
            page.headers.update(getattr(exc, "headers", None) or {})
            return page
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"code": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"code": "internal_error", "message": "internal error; it has been logged"},
            status_code=500,
        )
