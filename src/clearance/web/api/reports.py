"""Reports for oversight through the API: the report of waiting (``service.oversight``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from clearance.service.oversight import period

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.reports import WaitingReportBody
from .params import PREFIX, TEXT

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["reports"])


@router.get("/reports/waiting", response_model=WaitingReportBody)
def waiting(
    viewer: Viewer,
    srv: Srv,
    first: Annotated[
        str | None, Query(alias="from", max_length=40, pattern=TEXT, description="YYYY-MM-DD")
    ] = None,
    last: Annotated[
        str | None, Query(alias="to", max_length=40, pattern=TEXT, description="YYYY-MM-DD")
    ] = None,
) -> dict[str, Any]:
    """How long each office takes to answer (auditors): per office, the answers dated
    ``from`` to ``to`` with the median and 90th-percentile working days they took, the gate
    waiting longest now, the overdue gates now and the cases escalated; per month, the same
    across offices. Only the cases you may see are counted."""
    start, end = period(first, last)
    return srv.waiting_report(actor=viewer.id, first=start, last=end).as_dict()
