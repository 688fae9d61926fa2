"""Case pages: the list with its search, one case with its explanation and the forms of what
its reader may do next, and the form for a new request, submitted as a case.

The case page offers only the changes the service says this reader may make now
(``Runtime.cases.moves``). An answer is signed with the reader's key, which its
passphrase unlocks; withdrawing, recording a condition as met and recording the
execution each go through a confirmation page first (``case_changes``), shown only
when the service, rehearsing the change, would accept it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from clearance.core.access import Level, parse_level
from clearance.core.chain import EventType
from clearance.core.event_words import outcome_words, state_words, words_of
from clearance.core.request import parse_request
from clearance.core.workflow import OPEN_STATES, TERMINAL, CaseState
from clearance.errors import (
    ClearanceError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
    RequestError,
)
from clearance.policy.explain import Explanation, explain
from clearance.service.access import Action
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView, Moves, case_row
from clearance.service.runtime import Runtime
from clearance.service.signed_answers import check_signatures

from .. import flash
from ..auth import Srv, Viewer
from ..dashboard import waiting_on
from ..forms import (
    FIELD_IDS,
    RequestForm,
    blank_form,
    form_choices,
    form_signer,
    missing,
    read_request_form,
)
from ..rendering import PAGE_SIZE, PageRoute, highest, render

__all__ = ["DONE", "render_case", "router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

DONE = {
    "approved": "Your approval was signed and recorded.",
    "denied": "Your denial was signed and recorded.",
    "submitted": "The request was submitted and screened.",
    "withdrawn": "The case was withdrawn; your reason is on its timeline.",
    "condition": "The condition was recorded as met, with your evidence.",
    "executed": "The execution was recorded; the case is closed.",
    "drawn": "The execution was recorded; the rest of the approved quantity may still be drawn.",
    "asked": "Your question was sent to the requester; the case's clock is stopped until"
    " they answer.",
    "replied": "Your answer was recorded; the case is back in review.",
    "waived": "Your waiver was signed and recorded; the waiting period no longer holds the"
    " transfer back.",
}
"""What each change made from a case's pages says on the case afterwards, by name."""
SEARCH_COUNT_LIMIT = 1_000
"""A search counts its matches up to here ("1,000 or more"): a broad one stays fast."""

_STATE_FILTERS = {"open": "open cases", "all": "every state", "overdue": "overdue"} | {
    s.value: state_words(s) for s in CaseState
}


_SORTED_BY = {
    "overdue": "longest overdue first",
    "date": "oldest first",
    "-date": "newest first",
    "number": "by number",
    "-number": "by number, highest first",
    "state": "by state, along the workflow",
    "-state": "by state, closed first",
    "waiting": "fewest days in their state first",
    "-waiting": "most days in their state first",
}
"""The order a list is in, in the words of its count line."""


@router.get("/cases")
def cases_page(
    request: Request,
    viewer: Viewer,
    srv: Srv,
    state: Annotated[str, Query(max_length=40)] = "open",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    all_states: Annotated[bool, Query(alias="all")] = False,
    sort: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The cases the viewer may see, filtered, searched and sorted by the service, with whom
    each waits for."""
    if all_states and state == "open":  # ?all=1, as the API says it
        state = "all"
    if state not in _STATE_FILTERS:
        raise InputError("state", f"'{state}' is not a state filter")
    query = q.strip().lower()
    now = srv.now()
    states = {"open": sorted(OPEN_STATES), "all": None, "overdue": None}.get(state, [state])
    if state == "overdue":
        offset = (page - 1) * PAGE_SIZE
        found = srv.cases.overdue(
            now,
            actor=viewer.id,
            query=query,
            limit=PAGE_SIZE,
            offset=offset,
            sort=sort or None,
        )
        total = srv.cases.count_overdue(now, actor=viewer.id, query=query)
    else:
        found, total = srv.cases.page(
            actor=viewer.id,
            states=states,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            query=query,
            count_at_most=SEARCH_COUNT_LIMIT if query else None,
            sort=sort or "date",
        )
    turns = srv.cases.waiting_for(found, actor=viewer.id)
    return render(
        request,
        "cases.html",
        viewer=viewer,
        level=highest(c.classification for c in found),
        title="Cases",
        rows=[case_row(c, now) | {"turn": turns[c.id]} for c in found],
        total=total,
        sort=sort,
        sorted_by=_SORTED_BY.get(sort or ("overdue" if state == "overdue" else "date"), ""),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        state=state,
        q=q,
        filters=_STATE_FILTERS,
        capped=bool(query) and total >= SEARCH_COUNT_LIMIT,
    )


def _explanation(srv: Runtime, view: CaseView) -> tuple[Explanation | None, str | None]:
    """The stored decision explained with the pack in force now (the same one, normally)."""
    try:
        request = parse_request(view.decision["request"])
        decision = srv.screener.decide(request, decision_id=view.case.id, now=view.case.created_at)
    except ClearanceError as exc:
        return None, f"This request cannot be judged again under the policy now loaded: {exc}"
    note = None
    if decision.outcome.value != view.decision["outcome"] or decision.bundles != view.decision.get(
        "bundles"
    ):
        note = (
            f"The policy now loaded judges this request as {outcome_words(decision.outcome)};"
            f" the case was decided as {outcome_words(view.decision['outcome'])} under the"
            " bundles recorded with it. The"
            " explanation below is of the policy now loaded."
        )
    return explain(srv.screener, request, decision), note


_ESCALATION = EventType.ESCALATION_REACHED.value


def render_case(
    request: Request,
    srv: Runtime,
    viewer: SignedIn,
    view: CaseView,
    *,
    status: int = 200,
    error: str | None = None,
    error_field: str | None = None,
    reason: str = "",
    entered: dict[str, str] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """The case page; after a refused change, with the refusal (``error``, naming
    ``error_field``) and what was entered on the form it came from (``entered``); after
    one made, with the words of what was done (``done``)."""
    now = srv.now()
    moves: Moves = srv.cases.moves(view.case.id, actor=viewer.id, now=now)
    case = view.as_dict(now)
    explanation, explanation_note = _explanation(srv, view)
    checks = {(c.authority, c.actor): c for c in check_signatures(case, None)}
    stock = case["decision"].get("stockpile")  # as the viewer may see it
    return render(
        request,
        "case.html",
        viewer=viewer,
        level=Level(view.case.classification),
        status=status,
        title=f"Case {view.case.number}",
        case=case,
        explanation=explanation,
        explanation_note=explanation_note,
        waiting=waiting_on(view) if view.case.state in _WAITING else [],
        answerable=moves.answer,
        moves=moves,
        closed=view.case.state in TERMINAL,
        checks=checks,
        events=[{**e, "summary": words_of(e)} for e in case["events"]],
        question=view.question,
        escalations=[words_of(e) for e in case["events"] if e["type"] == _ESCALATION],
        suspension=_suspension(view, case["events"]),
        error=error,
        error_field=error_field,
        reason=reason,
        entered=entered or {},
        done=done,
        authorities={a.id: a.title for a in srv.pack.catalog.authorities},
        stock_link=bool(stock) and not stock.get("figures_withheld"),
    )


_WAITING = frozenset({CaseState.IN_REVIEW.value, CaseState.SUSPENDED.value})
"""The states in which a case waits on the offices its decision names."""


def _suspension(view: CaseView, events: list[dict[str, Any]]) -> str | None:
    """Why a suspended case is suspended: its last suspension, in words."""
    if view.case.state != CaseState.SUSPENDED:
        return None
    said = [words_of(e) for e in events if e["type"] == "case_suspended"]
    return said[-1] if said else None


@router.get("/cases/{ref}")
def case_page(ref: str, request: Request, viewer: Viewer, srv: Srv) -> Response:
    """The case, with what the change that led here did, said once (``web.flash``)."""
    view = srv.cases.view(ref, actor=viewer.id)
    page = render_case(request, srv, viewer, view, done=flash.take(request, DONE))
    flash.forget(request, page)
    return page


@router.post("/cases/{ref}/answer")
def answer(
    ref: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    verdict: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    passphrase: Annotated[str, Form(max_length=1000)] = "",
    authority: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    try:
        if verdict not in ("approve", "deny"):
            raise InputError("verdict", "choose Approve or Deny")
        answered = srv.cases.answer(
            ref,
            actor=viewer.id,
            approve=verdict == "approve",
            reason=reason.strip(),
            signer=form_signer(srv, viewer.id, passphrase),
            now=srv.now(),
            authority=authority or None,
        )
    except NotFoundError:
        raise
    except ClearanceError as exc:
        fresh = srv.cases.view(ref, actor=viewer.id)  # 404 here for a case not to be seen
        return render_case(
            request,
            srv,
            viewer,
            fresh,
            status=exc.http_status,
            error=exc.message,
            error_field=exc.where if isinstance(exc, InputError) else None,
            reason=reason,
        )
    done = "approved" if verdict == "approve" else "denied"
    return flash.redirect_with(f"/cases/{answered.case.number}", done, request)


def _request_page(
    request: Request,
    srv: Runtime,
    viewer: SignedIn,
    form: RequestForm,
    *,
    status: int = 200,
    error: str | None = None,
    field: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "request_new.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        status=status,
        title="New request",
        form=form,
        error=error,
        error_field=FIELD_IDS.get(field or "", None),
        **form_choices(srv.pack.catalog, viewer.clearance),
    )


@router.get("/requests/new")
def new_request(request: Request, viewer: Viewer, srv: Srv) -> Response:
    srv.check(viewer.id, Action.CASE_SUBMIT)  # the form only for who may send it
    form = blank_form(srv.pack.catalog, viewer.user.party, srv.now().date(), str(uuid.uuid4()))
    return _request_page(request, srv, viewer, form)


@router.post("/requests")
async def submit_request(request: Request, viewer: Viewer, srv: Srv) -> Response:
    """Submit the form as a case. The form is read on the event loop; the submission, which
    writes to the database, runs on a worker thread."""
    form = read_request_form(await request.form())
    return await run_in_threadpool(_submit, request, srv, viewer, form)


def _submit(request: Request, srv: Runtime, viewer: SignedIn, form: RequestForm) -> Response:
    try:
        if empty := missing(form):
            name, what = empty[0]
            raise InputError(name, f"choose {what}")
        level = parse_level(form.classification)
        case, _ = srv.cases.submit(
            form.request(),
            actor=viewer.id,
            now=srv.now(),
            idempotency_key=form.idempotency_key or None,
            classification=int(level),
        )
    except RequestError as exc:
        return _request_page(
            request, srv, viewer, form, status=exc.http_status, error=exc.message, field=exc.field
        )
    except InputError as exc:
        return _request_page(
            request, srv, viewer, form, status=exc.http_status, error=exc.message, field=exc.where
        )
    except OutcomeUnknown as exc:
        # The form carries its idempotency key: sending it again is safe, and tells.
        again = (
            "submit the form again: if the request was recorded, you are taken to its case;"
            " if not, it is submitted now"
        )
        return _request_page(
            request, srv, viewer, form, status=exc.http_status, error=f"{exc.message}: {again}"
        )
    except ClearanceError as exc:
        return _request_page(request, srv, viewer, form, status=exc.http_status, error=exc.message)
    return flash.redirect_with(f"/cases/{case.number}", "submitted", request)
