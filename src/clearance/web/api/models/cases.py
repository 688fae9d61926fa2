"""Cases as the API shows them: a row of a list, and a whole case (``CaseView.as_dict``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from . import Body, Recorded, RequestData
from .decisions import Decision, WaitingPeriod

__all__ = ["CaseBody", "CaseEvent", "CaseList", "CaseRow"]


class CaseRow(Body):
    """A case as lists show it."""

    number: int
    id: str
    state: str | None = Field(
        description="null: the stored state was changed outside clearance and no longer reads."
    )
    damaged: bool = Field(
        description="Whether the stored state or decision was changed outside clearance and no"
        " longer reads: the case's own page refuses it, and audit verify names the change."
    )
    outcome: str
    classification: str
    request: RequestData
    submitted_by: str
    created_at: str
    age_days: float
    in_state_days: float
    sla_days: int
    due_at: str | None = Field(description="While in review: when its review clocks make it due.")
    overdue: bool
    expires_at: str | None = Field(
        description="While approved and not executed: when the approval lapses (the case then"
        " expires); null when its policy sets no lifetime."
    )


class CaseList(Body):
    total: int = Field(description="How many cases match, of those you may see.")
    page: int
    cases: list[CaseRow]


class Approval(Body):
    """A signed answer to one gate."""

    authority: str
    verdict: str
    actor: str
    on_behalf_of: str | None
    reason: str
    at: str
    statement: str
    signature: str
    public_key: str | None


class Condition(Body):
    text: str
    met: bool
    met_at: str | None
    met_by: str | None
    evidence: str | None


class GateClock(Body):
    """One unanswered gate's review clock (calendar or working days, stopped while a
    question waits for the requester's answer)."""

    office: str
    limit: str = Field(description='In words: "20 working days".')
    count: str = Field(description="calendar_days or working_days")
    elapsed_days: int = Field(description="Days counted so far, less those stopped.")
    due_at: str = Field(description="The first moment the gate is overdue.")
    due_day: str = Field(description="Its last day to answer (UTC), YYYY-MM-DD.")
    overdue: bool
    stopped: bool = Field(description="True while the case waits for an answer.")


class CaseWaitingPeriod(WaitingPeriod):
    """The case's waiting period, and its waiver."""

    waived: bool
    waived_by: str | None = Field(description="Who waived it (the waiver office's holder).")
    waived_at: str | None


class CaseEvent(Recorded):
    """One ledger event of the case: its body's keys, the link that chains it, and what checks
    it. ``body`` is the exact text hashed; for a reader shown less than it holds, the event is
    ``redacted`` and carries the body's digest instead (docs/verifying.md)."""

    actor: str
    at: str
    case_id: str | None
    payload: dict[str, Any] = Field(description="What happened; its keys depend on ``type``.")
    type: str
    seq: int
    hash: str
    prev_hash: str
    scheme: int
    seal: str | None
    body: str | None = Field(default=None, description="Present unless redacted.")
    redacted: bool | None = Field(default=None, description="Present (true) when redacted.")
    body_hash: str | None = Field(default=None, description="Present when redacted.")


class CaseBody(Body):
    """A case: request, decision, signed answers, conditions, timeline, time in each state."""

    id: str
    number: int
    state: str
    outcome: str
    classification: str
    submitted_by: str
    created_at: str
    state_since: str
    age_days: float
    sla_days: int
    due_at: str | None
    overdue: bool
    expires_at: str | None = Field(
        description="While approved and not executed: when the approval lapses."
    )
    clocks: list[GateClock]
    waiting_period: CaseWaitingPeriod | None = Field(
        description="The legislature's waiting period before execution; null when none."
    )
    version: int
    request: RequestData
    request_digest: str
    decision: Decision
    time_in_states_days: dict[str, float]
    approvals: list[Approval]
    conditions: list[Condition]
    events: list[CaseEvent]
    system_public_key: str | None
