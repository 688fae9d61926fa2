"""Rendering the web pages: the Jinja2 environment, the banner level, errors as pages.

Every page is rendered through ``render``, which needs the highest
classification level of what the page shows: it is written in the banner at
the top and the bottom of the page, as text (its colour is only a second
signal). A signed-in page's navigation also says how many things wait for
its viewer (``Runtime.inbox_count``), asked once, and only by a page that
shows the navigation (a fragment never does). ``PageRoute`` turns errors into pages: "sign in first" into a
redirect to the sign-in form, any other ``ClearanceError`` into a page with
the error's status (a case above the reader's clearance is a 404 page, in
the same words as a case that does not exist).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from clearance import __version__
from clearance.core.access import Level, Role
from clearance.core.dates import last_day_before
from clearance.core.event_words import outcome_words, state_words
from clearance.core.regions import region_name
from clearance.core.request import brief_request, describe_request
from clearance.core.stockpile import Rating
from clearance.errors import AuthenticationError, ClearanceError, InputError, Throttled
from clearance.service.accounts import SignedIn

from .charts import recovery_words

__all__ = ["PAGE_SIZE", "PageRoute", "describe_request", "highest", "render", "safe_next"]

log = logging.getLogger("clearance.web")

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
"""Rows on one page of a list (cases, the ledger)."""

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def highest(levels: Iterable[int | Level]) -> Level:
    """The highest of some levels; UNCLASSIFIED when there are none."""
    return Level(max((int(level) for level in levels), default=int(Level.UNCLASSIFIED)))


def _when(value: str | dt.datetime | None) -> str:
    """A moment as people read it, in UTC: ``2025-06-15 09:00 UTC``."""
    if value is None:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _due(value: str | dt.datetime | None) -> str:
    """A due time (the first moment a case is overdue) as its last day: ``the end of
    2026-12-31 (UTC)``, which reads as the deadline it is."""
    if value is None:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    last = last_day_before(moment)
    return f"the end of {last.isoformat()} (UTC)"


def _days(value: float) -> str:
    """``0 days``, ``1 day``, ``45 days``: whole days waited, rounded down."""
    whole = int(value)
    return f"{whole} day" if whole == 1 else f"{whole} days"


def _short(digest: str | None, length: int = 12) -> str:
    if not digest:
        return "—"
    _, _, hexdigits = digest.partition(":")
    return (hexdigits or digest)[:length]


def _words(value: str) -> str:
    """``approved_with_conditions`` → ``approved with conditions``."""
    return value.replace("_", " ")


def _level(value: int | str) -> str:
    return Level(int(value)).label


_env.filters.update(
    when=_when,
    due=_due,
    days=_days,
    short=_short,
    words=_words,
    outcome_words=outcome_words,
    state_words=state_words,
    describe=describe_request,
    brief=brief_request,
    level=_level,
    recovery=recovery_words,
    region_name=region_name,
)
_env.globals.update(
    version=__version__, Role=Role, rating_meaning={r.value: r.meaning for r in Rating}
)


def _inbox_count(request: Request, viewer: SignedIn | None) -> Callable[[], int] | None:
    """How many things wait for the viewer, asked when the navigation is written."""
    if viewer is None:
        return None
    srv = request.app.state.server
    return functools.partial(srv.inbox_count, actor=viewer.id)


def render(
    request: Request,
    template: str,
    *,
    viewer: SignedIn | None,
    level: Level,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page: the template with the viewer, the CSRF token and the banner level.

    ``inbox_count`` in ``context`` overrides the navigation's count: a number the page
    has already (the dashboard), or None to leave it out (an error page)."""
    page = {
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer is not None and viewer.csrf_token else "",
        "level": level,
        "path": request.url.path,
        "inbox_count": _inbox_count(request, viewer),
        **context,
    }
    # Pages show classified case data: never kept by a browser or proxy cache.
    headers = {"Cache-Control": "no-store", **(headers or {})}
    return templates.TemplateResponse(request, template, page, status_code=status, headers=headers)


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (another site) goes to the dashboard."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return "/dashboard"
    return target


def _sign_in_first(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/sign-in" if request.method != "GET" else f"/sign-in?next={quote(here, safe='/')}"
    if request.headers.get("hx-request"):
        # htmx would put the sign-in page inside the fragment; send the whole page there.
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


_TITLES = {
    400: "That cannot be done as asked",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Not asked for this way",
    409: "That cannot be done now",
    422: "Something in the request is wrong",
    429: "Too many attempts",
    503: "The database is unavailable",
}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The error as a page, or as a fragment where htmx asked for one (it swaps it in place)."""
    fragment = bool(request.headers.get("hx-request"))
    return render(
        request,
        "_error.html" if fragment else "error.html",
        viewer=getattr(request.state, "user", None),
        level=Level.UNCLASSIFIED,
        status=status,
        title=_TITLES.get(status, "Error"),
        message=message,
        status_code=status,
        inbox_count=None,  # rendered on the event loop, which must not wait for the database
    )


async def _refuse_nul(request: Request) -> None:
    """Text with a NUL character can be neither stored nor looked up (PostgreSQL refuses it)."""
    values = [request.scope.get("path", ""), *request.query_params.values()]
    if request.method == "POST" and "form" in request.headers.get("content-type", ""):
        form = await request.form()  # kept by the request: the handler reads it again for free
        values += [v for v in form.values() if isinstance(v, str)]
    if any("\x00" in value for value in values):
        raise InputError("request", "text may not contain a NUL character")


class PageRoute(APIRoute):
    """A page route: errors become pages, and a visitor who is not signed in is sent to sign in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                await _refuse_nul(request)
                return await handler(request)
            except Throttled as exc:
                page = error_page(request, exc.http_status, exc.message)
                page.headers["Retry-After"] = str(exc.retry_after)
                return page
            except AuthenticationError:
                return _sign_in_first(request)
            except ClearanceError as exc:
                return error_page(request, exc.http_status, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
                field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
                return error_page(request, 422, f"{field}: {first.get('msg')}")
            finally:
                # A form read by hand (the CSRF check, an upload) keeps its files' temporary
                # copies open until closed; FastAPI closes only the forms it parsed itself.
                await request.close()

        return page
