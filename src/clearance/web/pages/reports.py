"""Reports for oversight: the report of waiting (``/reports/waiting``), for auditors.

A plain GET form chooses the period (``from``, ``to``); a period that cannot be
used is shown on the form with the field named, and nothing counted. Every
figure is of the cases the viewer may see (``service.oversight``), and the
banner carries the highest level of any case counted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from clearance.core.access import Level
from clearance.errors import InputError
from clearance.service.access import Action
from clearance.service.oversight import period

from ..auth import Srv, Viewer
from ..charts import waiting_chart
from ..rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/reports/waiting")
def waiting_page(
    request: Request,
    viewer: Viewer,
    srv: Srv,
    first: Annotated[str, Query(alias="from", max_length=40)] = "",
    last: Annotated[str, Query(alias="to", max_length=40)] = "",
) -> Response:
    form = {"from": first.strip(), "to": last.strip()}
    try:
        start, end = period(form["from"], form["to"])
        report = srv.waiting_report(actor=viewer.id, first=start, last=end)
    except InputError as exc:
        if exc.where not in form:
            raise
        srv.check(viewer.id, Action.REPORT_VIEW)  # only an auditor is shown the form
        return render(
            request,
            "report_waiting.html",
            viewer=viewer,
            level=Level.UNCLASSIFIED,
            status=400,
            title="Time to decision",
            form=form,
            error=exc,
            report=None,
            chart=None,
        )
    chart = waiting_chart(report.months, title="Working days to an answer, per month")
    return render(
        request,
        "report_waiting.html",
        viewer=viewer,
        level=report.level,
        title="Time to decision",
        form=form,
        error=None,
        report=report,
        chart=chart,
    )
