"""The dashboard: the landing page, what waits for the viewer, what waits on whom, and the
decisions of the last year (from its first month with one)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from clearance.core.access import Level

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
    months = board.months
    chart = (
        decisions_chart(
            months, title=f"Decisions per month, {months[0].month} to {months[-1].month}"
        )
        if months
        else None
    )
    now = srv.now()
    waiting = srv.inbox(actor=viewer.id)
    escalated = srv.cases.escalated(actor=viewer.id, now=now)
    shown = [item.case.classification for item in waiting if item.case is not None]
    shown += [e.case.classification for e in escalated]
    return render(
        request,
        "dashboard.html",
        viewer=viewer,
        level=max(board.level, Level(max(shown, default=0))),
        waiting=[item.as_dict(now) for item in waiting],
        inbox_count=len(waiting),  # the navigation's count: the list below, not asked again
        title="Dashboard",
        board=board,
        buckets=[label for _, _, label in AGE_BUCKETS],
        chart=chart,
        now=now,
        oldest=board.oldest.as_dict(now) if board.oldest else None,
        escalated=escalated,
    )
