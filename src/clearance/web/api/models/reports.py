"""Reports for oversight: the report of waiting per office and per month."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from . import Body

__all__ = ["MonthWaiting", "OfficeWaiting", "WaitingGate", "WaitingReportBody"]

_MEDIAN = "Median working days to an answer (a half when their number is even); None: none."
_P90 = "90th percentile by nearest rank, in working days; None: no answer."


class WaitingGate(Body):
    """The open gate that has waited longest now, and its case."""

    case_number: int
    case_id: str
    days: int = Field(description="The office's working days it has waited, less stopped ones.")


class OfficeWaiting(Body):
    office: str
    decided: int = Field(description="Answers (approve or deny) dated within the period.")
    median_days: float | None = Field(description=_MEDIAN)
    p90_days: int | None = Field(description=_P90)
    longest_waiting: WaitingGate | None = Field(description="Now; None when nothing waits.")
    overdue: int = Field(description="Open gates of cases in review past their due time, now.")
    escalated: int = Field(description="Cases with an escalation step recorded in the period.")


class MonthWaiting(Body):
    month: str = Field(description="YYYY-MM, of the answer's date (UTC).")
    decided: int
    median_days: float | None = Field(description=_MEDIAN)
    p90_days: int | None = Field(description=_P90)


class WaitingReportBody(Body):
    """How long each office takes to answer, of the cases the caller may see."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    first: str | None = Field(alias="from", description="The period's first day; None: open.")
    last: str | None = Field(alias="to", description="The period's last day; None: open.")
    at: str = Field(description="When it was made: what waits now is as of then.")
    classification: str = Field(description="The highest level of the cases counted.")
    offices: list[OfficeWaiting]
    months: list[MonthWaiting] = Field(
        description="From the first month with an answer to the last, empty ones included."
    )
