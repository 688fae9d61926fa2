"""The ASGI application: API, pages, static assets, health, metrics, headers, logs.

``create_app(server)`` wires one process; ``clearance serve`` runs it under
uvicorn. Every response carries security headers (a CSP that allows no inline
script and no other origin, frame denial, no sniffing, no referrer); every
request is logged as one JSON line and counted for ``/metrics``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearance import __version__
from clearance.errors import ClearanceError
from clearance.service.runtime import Runtime

from . import api, errors, pages
from .auth import oidc_keys
from .clock import ClockCheckpoints, ClockEscalation, ClockExpiry
from .limits import BodyLimit
from .pages.reference import api_reference

__all__ = ["create_app", "json_logging"]

STATIC = Path(__file__).parent / "static"

REQUESTS = Counter(
    "clearance_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "clearance_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

log = logging.getLogger("clearance.web")


class JsonLines(logging.Formatter):
    """One JSON object per log line: time, level, logger, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger("clearance")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_NO_STORE = (b"cache-control", b"no-store")


class Observe:
    """Security headers, metrics and one JSON log line for every request.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would stream
    every response through an extra task and memory channel.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name for name, _ in headers}
                headers += [h for h in _HEADERS if h[0] not in present]
                if b"cache-control" not in present and path.startswith(_PRIVATE):
                    headers.append(_NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                user = getattr(scope.get("state", {}).get("user"), "id", None)
                fields = {"method": method, "path": path, "status": status}
                fields |= {"ms": round(elapsed * 1000, 2), "user": user}
                log.info("request", extra={"fields": fields})


_PRIVATE = ("/api/", "/cases", "/dashboard")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the process serves: checkpoints and escalation by the clock, and a dispatcher of
    notifications (unless CLEARANCE_NOTIFY_POLL_SECONDS is 0), stopped when the server stops."""
    server: Runtime = app.state.server
    clocks = [ClockCheckpoints(server), ClockEscalation(server), ClockExpiry(server)]
    for clock in clocks:
        clock.start()
    dispatcher = server.dispatcher() if server.settings.notify.poll_s > 0 else None
    if dispatcher is not None:
        dispatcher.start()
    try:
        yield
    finally:
        for clock in clocks:
            clock.stop()
        if dispatcher is not None:
            dispatcher.stop()


class Ready(BaseModel):
    """The answer of ``/ready`` when the database answers and is migrated."""

    status: Literal["ready"]


def create_app(server: Runtime) -> FastAPI:
    app = FastAPI(
        title="clearance",
        version=__version__,
        description=(
            "Who must consent to a controlled weapon-system request, by which policy, and why;"
            " cases, signed approvals and a tamper-evident ledger."
        ),
        docs_url=None,  # the stock page loads its script from a CDN: see api_docs below
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    app.state.server = server
    app.state.oidc_keys = oidc_keys(server.settings.oidc)
    errors.install(app)

    app.add_middleware(BodyLimit, limits=server.settings.limits)
    app.add_middleware(Observe)  # added last, so outermost: it sees every answer, 413s too

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok", "version": __version__}

    @app.get(
        "/ready",
        tags=["operations"],
        responses={200: {"model": Ready}, 503: {"model": errors.ErrorBody}},
    )
    def ready() -> Response:
        """The database answers and is migrated."""
        try:
            server.store.ledger_bounds()
        except ClearanceError as exc:
            return errors.error_response(exc)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        """The API reference, rendered here from the OpenAPI document: no script, no CDN."""
        return api_reference(request, app.openapi())

    for router in (*api.ROUTERS, *pages.ROUTERS):  # in order: /policy/proposals is not a holder
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # FastAPI builds an included router's routes when a request first reaches them, in
    # whichever worker thread that is; two first requests at once have raced in pydantic's
    # schema building. Writing the OpenAPI document builds every route, here, in one thread.
    app.openapi()
    return app
