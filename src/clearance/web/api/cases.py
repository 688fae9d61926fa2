"""Cases through the API: submit, list, show, answer, ask and reply, withdraw, meet
conditions, waive a waiting period, execute."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, Field

from clearance.core.access import parse_level
from clearance.core.request import MAX_QUANTITY
from clearance.core.workflow import OPEN_STATES, CaseState
from clearance.errors import InputError, OutcomeUnknown
from clearance.service.accounts import SignedIn
from clearance.service.cases import MAX_SAID, case_row
from clearance.service.runtime import Runtime

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.cases import CaseBody, CaseList, CaseRow
from .params import PREFIX, TEXT, JsonObject

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["cases"])

CaseRef = Annotated[
    str,
    Path(
        pattern=r"^(?:[0-9]{1,18}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
        description="A case's id (a UUID) or its number.",
    ),
]


class Answer(BaseModel):
    """An approval or denial: the passphrase unlocks the actor's own signing key."""

    reason: str = Field(default="", max_length=4000, pattern=TEXT)
    authority: str | None = Field(default=None, max_length=80, pattern=TEXT)
    passphrase: str = Field(min_length=1, max_length=1000)


class ConditionMet(BaseModel):
    condition: str = Field(min_length=1, max_length=4000, pattern=TEXT)
    evidence: str = Field(min_length=1, max_length=4000, pattern=TEXT)


class Execution(BaseModel):
    quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)


class Waiver(BaseModel):
    """An emergency waiver of a waiting period: the passphrase unlocks the actor's key."""

    reason: str = Field(min_length=1, max_length=4000, pattern=TEXT)
    passphrase: str = Field(min_length=1, max_length=1000)


class Withdrawal(BaseModel):
    reason: str = Field(default="", max_length=4000, pattern=TEXT)


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_SAID, pattern=TEXT)


class Reply(BaseModel):
    answer: str = Field(min_length=1, max_length=MAX_SAID, pattern=TEXT)


_RETRY = (
    "send the same request again with the same Idempotency-Key: if the case was recorded,"
    " that answers it (200); if not, it submits it now (201)"
)
_LOOK = (
    "look for the case (GET /api/v1/cases) before sending the request again; with an"
    " Idempotency-Key, a retry would be safe"
)


_CASE: dict[str, Any] = {"response_model": CaseBody, "response_model_exclude_unset": True}
"""A whole case: keys a decision or an event of an older case lacks stay absent."""


def _view(srv: Runtime, viewer: SignedIn, case_id: str) -> dict[str, Any]:
    return srv.cases.view(case_id, actor=viewer.id).as_dict(srv.now())


@router.get("/cases", response_model=CaseList)
def list_cases(
    viewer: Viewer,
    srv: Srv,
    state: Annotated[list[str] | None, Query(max_length=10)] = None,
    all_states: Annotated[bool, Query(alias="all")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    sort: Annotated[
        str,
        Query(
            max_length=20,
            description="number, date, state or waiting (days in the present state);"
            " -name sorts the other way",
        ),
    ] = "date",
) -> dict[str, Any]:
    """Cases you may see, oldest first (or by ``sort``): open ones unless ``state`` or ``all``
    says otherwise."""
    known = {s.value for s in CaseState}
    for value in state or []:
        if value not in known:
            raise InputError(
                "state", f"'{value}' is not a state (one of {', '.join(sorted(known))})"
            )
    states = state or (None if all_states else sorted(OPEN_STATES))
    found, total = srv.cases.page(
        actor=viewer.id, states=states, limit=limit, offset=(page - 1) * limit, sort=sort
    )
    now = srv.now()
    return {"total": total, "page": page, "cases": [case_row(c, now) for c in found]}


@router.post(
    "/cases",
    status_code=201,
    responses={
        200: {
            "model": CaseBody,
            "description": "A retry: the case first made with this Idempotency-Key",
        }
    },
    **_CASE,
)
def submit_case(
    body: JsonObject,
    viewer: Viewer,
    srv: Srv,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    classification: Annotated[str, Query(max_length=20)] = "UNCLASSIFIED",
) -> dict[str, Any]:
    """Submit a request as a case, screened at once. A retry with the same
    ``Idempotency-Key`` returns the first case (200) instead of making another (201).

    A 503 ``store_unavailable`` means nothing was recorded; a 503 ``outcome_unknown``
    means the database failed while committing, and a retry with the same key tells."""
    level = parse_level(classification)
    try:
        view, created = srv.cases.submit_and_show(
            body,
            actor=viewer.id,
            now=srv.now(),
            idempotency_key=idempotency_key,
            classification=int(level),
        )
    except OutcomeUnknown as exc:
        raise OutcomeUnknown(f"{exc.message}: {_RETRY if idempotency_key else _LOOK}") from None
    if not created:
        response.status_code = 200
        return _view(srv, viewer, view.case.id)  # as a first look would show it: nothing new
    # Shown as the submitting transaction read it: the case is recorded, and no read
    # after the commit may turn that into an error.
    return view.as_dict(srv.now())


@router.get("/cases/{case_id}", **_CASE)
def show_case(case_id: CaseRef, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """A case: request, decision, signed answers, conditions, timeline, time in each state."""
    return _view(srv, viewer, case_id)


def _answer(
    srv: Runtime, viewer: SignedIn, case_id: str, body: Answer, approve: bool
) -> dict[str, Any]:
    view = srv.cases.answer(
        case_id,
        actor=viewer.id,
        approve=approve,
        reason=body.reason,
        signer=srv.signer(viewer.id, body.passphrase),
        now=srv.now(),
        authority=body.authority,
    )
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/approve", **_CASE)
def approve(case_id: CaseRef, body: Answer, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Approve a gate you hold (or are the delegate for), signed with your key."""
    return _answer(srv, viewer, case_id, body, True)


@router.post("/cases/{case_id}/deny", **_CASE)
def deny(case_id: CaseRef, body: Answer, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Deny a case in review with a reason, signed with your key."""
    return _answer(srv, viewer, case_id, body, False)


@router.post("/cases/{case_id}/waiver", **_CASE)
def waive(case_id: CaseRef, body: Waiver, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Waive a case's legislative waiting period, as the office the policy names, personally,
    stating the emergency; signed with your key."""
    view = srv.cases.waive(
        case_id,
        actor=viewer.id,
        reason=body.reason,
        signer=srv.signer(viewer.id, body.passphrase),
        now=srv.now(),
    )
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/withdraw", **_CASE)
def withdraw(case_id: CaseRef, body: Withdrawal, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Withdraw your own case."""
    view = srv.cases.withdraw(case_id, actor=viewer.id, reason=body.reason, now=srv.now())
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/questions", **_CASE)
def ask(case_id: CaseRef, body: Question, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Ask the requester for information: the case waits, its review clocks stopped."""
    view = srv.cases.ask(case_id, actor=viewer.id, question=body.question, now=srv.now())
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/answer", **_CASE)
def reply(case_id: CaseRef, body: Reply, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Answer the question asked of your case: it is back in review, its clocks running."""
    view = srv.cases.reply(case_id, actor=viewer.id, answer=body.answer, now=srv.now())
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/conditions", **_CASE)
def condition_met(case_id: CaseRef, body: ConditionMet, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Record a condition as met; the last one clears the case."""
    view = srv.cases.condition_met(
        case_id, actor=viewer.id, condition=body.condition, evidence=body.evidence, now=srv.now()
    )
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/execute", **_CASE)
def execute(case_id: CaseRef, body: Execution, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Record that an approved (or cleared) case was carried out."""
    view = srv.cases.execute(case_id, actor=viewer.id, quantity=body.quantity, now=srv.now())
    return view.as_dict(srv.now())


@router.get("/overdue", response_model=list[CaseRow])
def overdue(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """Cases waiting on an office past their SLA, oldest first."""
    now = srv.now()
    return [case_row(c, now) for c in srv.cases.overdue(now, actor=viewer.id)]
