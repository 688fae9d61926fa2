"""The dashboard: the landing page, what waits on whom and the decisions of the last year."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ..auth import Srv, Viewer
from ..charts import decisions_chart
from ..dashboard import AGE_BUCKETS, build_dashboard
from ..rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/dashboard")
def dashboard(request: Request, viewer: Viewer, srv: Srv) -> Response:
    board = build_dashboard(srv, viewer)
    chart = decisions_chart(board.months, title="Decisions per month, last twelve months")
    return render(
        request,
        "dashboard.html",
        viewer=viewer,
        level=board.level,
        title="Dashboard",
        board=board,
        buckets=[label for _, _, label in AGE_BUCKETS],
        chart=chart,
        now=srv.now(),
        oldest=board.oldest.as_dict(srv.now()) if board.oldest else None,
    )
