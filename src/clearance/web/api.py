"""The REST API under /api/v1: everything the command line does, for other systems.

Each route is a few lines over the service layer. Every error is a
``ClearanceError`` rendered by ``errors.py`` as ``{"code", "message",
"field"?}`` with the status its class names; the OpenAPI document says so for
every route.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator, Field
from starlette.concurrency import run_in_threadpool

from clearance.core.access import parse_level
from clearance.core.dates import RANGE
from clearance.core.holders import holders_report, systems_report
from clearance.core.request import MAX_QUANTITY, iso_date, parse_request
from clearance.core.stockpile import Rating
from clearance.core.workflow import OPEN_STATES, CaseState
from clearance.errors import (
    InputError,
    NotFoundError,
    OutcomeUnknown,
    RequestError,
)
from clearance.policy.explain import explain
from clearance.service import anchoring, auditing
from clearance.service.accounts import SignedIn, token_row
from clearance.service.cases import case_row
from clearance.service.people import offices_of
from clearance.service.proposals import proposal_summary
from clearance.service.runtime import Runtime
from clearance.service.stockpile import MAX_MONTHS, decision_seen, explanation_seen

from .auth import COOKIE, Viewer, client_address, server, set_session_cookie
from .errors import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

Srv = Annotated[Runtime, Depends(server)]

_NDJSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/x-ndjson": {}}, "description": "JSON lines"}
}
JsonObject = Annotated[
    dict[str, Any], Body(description="A request as docs/formats.md describes it.")
]

TEXT = r"^[^\x00]*$"
"""Text that can be stored and looked up: no NUL character (PostgreSQL refuses it)."""

CaseRef = Annotated[
    str,
    Path(
        pattern=r"^(?:[0-9]{1,18}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
        description="A case's id (a UUID) or its number.",
    ),
]


class SignIn(BaseModel):
    user: str = Field(min_length=1, max_length=64, pattern=TEXT)
    password: str = Field(min_length=1, max_length=1000)


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


class Withdrawal(BaseModel):
    reason: str = Field(default="", max_length=4000, pattern=TEXT)


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT)
    days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="How many days the token lives; at most, and by default, the server's"
        " token lifetime (CLEARANCE_TOKEN_DAYS).",
    )


BundleFileName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
BundleFileText = Annotated[str, Field(max_length=1_000_000, pattern=TEXT)]


class Proposal(BaseModel):
    """A new bundle's files by name: bundle.yaml, *.cedar, optional schema and entities."""

    files: dict[BundleFileName, BundleFileText] = Field(min_length=1, max_length=100)


class Activation(BaseModel):
    """The passphrase unlocks the activator's own signing key."""

    passphrase: str = Field(min_length=1, max_length=1000)


_RETRY = (
    "send the same request again with the same Idempotency-Key: if the case was recorded,"
    " that answers it (200); if not, it submits it now (201)"
)
_LOOK = (
    "look for the case (GET /api/v1/cases) before sending the request again; with an"
    " Idempotency-Key, a retry would be safe"
)


def _view(srv: Runtime, viewer: SignedIn, case_id: str) -> dict[str, Any]:
    return srv.cases.view(case_id, actor=viewer.id).as_dict(srv.now())


# signing in ---------------------------------------------------------------------


@router.post("/session", tags=["sign-in"])
def sign_in(body: SignIn, response: Response, request: Request, srv: Srv) -> dict[str, Any]:
    """Sign in with a password: sets the session cookie; returns the CSRF token to send back."""
    token, signed_in = srv.accounts.sign_in(
        body.user, body.password, client=client_address(request), now=srv.now()
    )
    set_session_cookie(response, request, token)
    return {"user": signed_in.id, "csrf_token": signed_in.csrf_token}


@router.delete("/session", tags=["sign-in"], status_code=204)
def sign_out(request: Request, response: Response, viewer: Viewer, srv: Srv) -> Response:
    """End this session (the cookie stops working at once, on every instance)."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        srv.accounts.sign_out(cookie)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", tags=["sign-in"])
def me(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Who is signed in: roles, clearance, the offices held today."""
    return {
        "user": viewer.id,
        "name": viewer.user.name,
        "party": viewer.user.party,
        "roles": list(viewer.user.roles),
        "clearance": viewer.clearance.label,
        "offices": offices_of(srv.store, viewer.id, srv.now().date()),
    }


@router.post("/tokens", tags=["sign-in"], status_code=201)
def issue_token(body: TokenRequest, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """A new API token acting as you, shown once: keep it; it is stored only hashed.

    It expires after ``days`` (by default the server's token lifetime), and never
    after the API or OIDC token this request was signed in with."""
    token, record = srv.accounts.issue_token(
        viewer.id,
        body.name,
        actor=viewer.id,
        now=srv.now(),
        days=body.days,
        not_after=viewer.credential_expires,
    )
    return {
        "id": record.id,
        "name": record.name,
        "token": token,
        "expires_at": record.expires_at.isoformat(),
    }


@router.get("/tokens", tags=["sign-in"])
def list_tokens(
    viewer: Viewer,
    srv: Srv,
    user: Annotated[
        str | None,
        Query(max_length=64, pattern=TEXT, description="Another user's (admin only)."),
    ] = None,
) -> dict[str, Any]:
    """Your API tokens (an admin may ask for anyone's), newest first: revoked and expired
    ones too, with their state; never the tokens themselves."""
    now = srv.now()
    found = srv.accounts.tokens(user or viewer.id, actor=viewer.id)
    return {"tokens": [token_row(t, now) for t in found]}


@router.delete("/tokens/{token_id}", tags=["sign-in"], status_code=204)
def revoke_token(
    token_id: Annotated[str, Path(max_length=40, pattern=TEXT)], viewer: Viewer, srv: Srv
) -> Response:
    """Revoke a token of yours (an admin may revoke any): refused from the next request on."""
    srv.accounts.revoke_token(token_id, actor=viewer.id, now=srv.now())
    return Response(status_code=204)


# screening ----------------------------------------------------------------------


def _encoded(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(data: object) -> Response:
    return Response(_encoded(data), media_type="application/json")


@router.post("/screen", tags=["screening"], response_model=dict[str, Any])
async def screen(body: JsonObject, viewer: Viewer, srv: Srv) -> Response:
    """Decide one request: consent holders, outcome, required approvals, conditions."""
    # The hot path: async, because deciding is pure CPU (no second hop to the thread pool
    # after the sign-in lookup's), and the decision, already plain JSON data, is encoded
    # once without revalidation.
    decision = srv.screener.decide(
        parse_request(body), decision_id=str(uuid.uuid4()), now=srv.now()
    )
    return _json(decision_seen(decision.as_dict(), viewer.user))


MAX_BATCH = 10_000
"""The most requests one batch may hold (the body limit applies to it as well)."""
BATCH_SLICE = 250
"""Requests decided per call into Cedar while a batch is screened."""


@router.post("/screen/batch", tags=["screening"], response_model=list[dict[str, Any]])
async def screen_batch(
    body: Annotated[list[dict[str, Any]], Body(max_length=MAX_BATCH)], viewer: Viewer, srv: Srv
) -> Response:
    """Decide up to 10,000 requests at once; a bad one fails the batch, naming its index."""
    # Seconds of CPU for a large batch: in a worker thread, so that the event loop goes on
    # answering everyone else (health checks included) while it is decided.
    return await run_in_threadpool(_decide_batch, srv, viewer, body)


def _decide_batch(srv: Runtime, viewer: SignedIn, body: list[dict[str, Any]]) -> Response:
    parsed = []
    for index, item in enumerate(body):
        try:
            parsed.append(parse_request(item))
        except RequestError as exc:
            raise RequestError(f"[{index}].{exc.field}", exc.problem) from None
    now, encoded = srv.now(), []
    # In slices, each decided and encoded on its own: a call into Cedar, or to encode JSON,
    # holds the interpreter until it returns, and a slice's are short enough for the event
    # loop's thread to run between them (one call for 10,000 held it for a second).
    for start in range(0, len(parsed), BATCH_SLICE):
        part = parsed[start : start + BATCH_SLICE]
        ids = [str(uuid.uuid4()) for _ in part]
        decisions = srv.screener.decide_many(part, decision_ids=ids, now=now)
        encoded.append(_encoded([decision_seen(d.as_dict(), viewer.user) for d in decisions])[1:-1])
    return Response(b"[" + b",".join(encoded) + b"]", media_type="application/json")


@router.post("/explain", tags=["screening"])
async def explain_request(body: JsonObject, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """A decision with the policy text that decided it and what would change it."""
    request = parse_request(body)
    decision = srv.screener.decide(request, decision_id=str(uuid.uuid4()), now=srv.now())
    return explanation_seen(explain(srv.screener, request, decision), viewer.user)


# catalog and policy -------------------------------------------------------------


@router.get("/catalog/systems", tags=["catalog"])
def systems(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """Every system of the catalog, with its consent holders."""
    return systems_report(srv.pack.catalog)


@router.get("/catalog/systems/{system}/holders", tags=["catalog"])
def holders(system: str, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Who must consent to a system, and the dependency path that gives each the right."""
    return holders_report(srv.pack.catalog, system)


def _bundle(bundle: Any, until: Any, text: bool) -> dict[str, Any]:
    data = {
        "holder": bundle.holder,
        "folder": bundle.folder,
        "revision": bundle.revision,
        "title": bundle.title,
        "summary": bundle.summary,
        "effective_from": bundle.effective_from.isoformat(),
        "in_force_until": until.isoformat() if until else None,
        "illustrative": bundle.illustrative,
        "review_sla_days": bundle.review_sla_days,
        "policies": [p.id for p in bundle.policies],
    }
    if text:
        data["text"] = bundle.text
    return data


@router.get("/bundles", tags=["policy"])
def bundles(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """Every holder's policy bundles, oldest first, with the dates each was in force."""
    history = srv.screener.history  # the pack and the activated proposals
    return [_bundle(b, history.in_force_until(b), False) for b in history]


@router.get("/bundles/{holder}", tags=["policy"])
def bundles_of(holder: str, viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """One holder's bundles with their policy text."""
    history = srv.screener.history  # the pack and the activated proposals
    found = history.of(holder)
    if not found:
        raise NotFoundError(f"no bundles for '{holder}' (holders: {', '.join(history.holders)})")
    return [_bundle(b, history.in_force_until(b), True) for b in found]


# policy proposals ---------------------------------------------------------------

ProposalNumber = Annotated[int, Path(ge=1, le=2**63 - 1, description="A proposal's number.")]


@router.get("/proposals", tags=["policy"])
def list_proposals(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """The policy proposals you may see, oldest first, with their state and golden-case result."""
    return [proposal_summary(r) for r in srv.proposals.visible(actor=viewer.id)]


@router.post("/proposals", tags=["policy"], status_code=201)
def propose(body: Proposal, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Propose a new bundle for your party: validated, run against the golden cases, recorded."""
    view = srv.proposals.propose(body.files, actor=viewer.id, now=srv.now())
    may_activate = srv.proposals.may_activate(view, viewer.id, srv.now().date())
    return {**view.as_dict(), "may_activate": may_activate}


@router.get("/proposals/{number}", tags=["policy"])
def show_proposal(number: ProposalNumber, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """A proposal: its text, golden-case results, and the cases you may see it would change."""
    now = srv.now()
    view = srv.proposals.view(number, actor=viewer.id, now=now)
    return {
        **view.as_dict(),
        "may_activate": srv.proposals.may_activate(view, viewer.id, now.date()),
        "impact": srv.proposals.impact(number, actor=viewer.id, now=now, view=view).as_dict(),
    }


@router.post("/proposals/{number}/activate", tags=["policy"])
def activate(number: ProposalNumber, body: Activation, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Activate a proposal from its date, as the holder of the office it names, signed with
    your key; then re-screen the open cases under the policy now in force."""
    unlock = srv.signer(viewer.id, body.passphrase)
    return srv.activate_proposal(number, actor=viewer.id, signer=unlock).as_dict()


# cases --------------------------------------------------------------------------


@router.get("/cases", tags=["cases"])
def list_cases(
    viewer: Viewer,
    srv: Srv,
    state: Annotated[list[str] | None, Query(max_length=10)] = None,
    all_states: Annotated[bool, Query(alias="all")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> dict[str, Any]:
    """Cases you may see, oldest first: open ones unless ``state`` or ``all`` says otherwise."""
    known = {s.value for s in CaseState}
    for value in state or []:
        if value not in known:
            raise InputError(
                "state", f"'{value}' is not a state (one of {', '.join(sorted(known))})"
            )
    states = state or (None if all_states else sorted(OPEN_STATES))
    found, total = srv.cases.page(
        actor=viewer.id, states=states, limit=limit, offset=(page - 1) * limit
    )
    now = srv.now()
    return {"total": total, "page": page, "cases": [case_row(c, now) for c in found]}


@router.post(
    "/cases",
    tags=["cases"],
    status_code=201,
    responses={200: {"description": "A retry: the case first made with this Idempotency-Key"}},
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


@router.get("/cases/{case_id}", tags=["cases"])
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


@router.post("/cases/{case_id}/approve", tags=["cases"])
def approve(case_id: CaseRef, body: Answer, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Approve a gate you hold (or are the delegate for), signed with your key."""
    return _answer(srv, viewer, case_id, body, True)


@router.post("/cases/{case_id}/deny", tags=["cases"])
def deny(case_id: CaseRef, body: Answer, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Deny a case in review with a reason, signed with your key."""
    return _answer(srv, viewer, case_id, body, False)


@router.post("/cases/{case_id}/withdraw", tags=["cases"])
def withdraw(case_id: CaseRef, body: Withdrawal, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Withdraw your own case."""
    view = srv.cases.withdraw(case_id, actor=viewer.id, reason=body.reason, now=srv.now())
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/conditions", tags=["cases"])
def condition_met(case_id: CaseRef, body: ConditionMet, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Record a condition as met; the last one clears the case."""
    view = srv.cases.condition_met(
        case_id, actor=viewer.id, condition=body.condition, evidence=body.evidence, now=srv.now()
    )
    return view.as_dict(srv.now())


@router.post("/cases/{case_id}/execute", tags=["cases"])
def execute(case_id: CaseRef, body: Execution, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Record that an approved (or cleared) case was carried out."""
    view = srv.cases.execute(case_id, actor=viewer.id, quantity=body.quantity, now=srv.now())
    return view.as_dict(srv.now())


@router.get("/overdue", tags=["cases"])
def overdue(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """Cases waiting on an office past their SLA, oldest first."""
    now = srv.now()
    return [case_row(c, now) for c in srv.cases.overdue(now, actor=viewer.id)]


# stockpile ----------------------------------------------------------------------

Party = Annotated[str, Path(max_length=40, pattern=TEXT, description="A party's code, e.g. US.")]
SystemId = Annotated[str, Path(max_length=80, pattern=TEXT, description="A system id.")]


@router.get("/stockpile", tags=["stockpile"])
def stockpile_board(
    viewer: Viewer,
    srv: Srv,
    holder: Annotated[list[str] | None, Query(max_length=50)] = None,
    rating: Rating | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Every stock position you may see, rated today, worst first; ``counts`` per colour
    are of the holders asked for, whatever ``rating`` says."""
    board = srv.cases.stock.board(
        on=srv.now().date(),
        reader=viewer.user,
        holders=frozenset(holder) if holder else None,
        rating=rating,
        limit=limit,
    )
    return {
        "as_of": srv.now().date().isoformat(),
        "counts": board.counts,
        "total": board.total,
        "positions": [row.as_dict() for row in board.rows],
    }


@router.get("/stockpile/{holder}/{system}", tags=["stockpile"])
def stockpile_position(
    holder: Party,
    system: SystemId,
    viewer: Viewer,
    srv: Srv,
    as_of: Annotated[
        dt.date | None,
        BeforeValidator(iso_date),
        Query(description=f"YYYY-MM-DD, {RANGE}; today if absent."),
    ] = None,
) -> dict[str, Any]:
    """One position's rating as of a date, rebuilt from its movements, and those movements."""
    return srv.cases.stock.position(
        holder, system, on=srv.now().date(), reader=viewer.user, as_of=as_of
    ).as_dict()


@router.get("/stockpile/{holder}/{system}/projection", tags=["stockpile"])
def stockpile_projection(
    holder: Party,
    system: SystemId,
    viewer: Viewer,
    srv: Srv,
    transfer: Annotated[int, Query(ge=0, le=10**12)] = 0,
    months: Annotated[int, Query(ge=1, le=MAX_MONTHS)] = 24,
) -> dict[str, Any]:
    """The rating now and after giving ``transfer`` today, and month by month with production."""
    return srv.cases.stock.project(
        holder, system, transfer=transfer, months=months, on=srv.now().date(), reader=viewer.user
    ).as_dict()


# the ledger ---------------------------------------------------------------------


@router.get("/ledger", tags=["ledger"])
def ledger(
    viewer: Viewer,
    srv: Srv,
    case: Annotated[str | None, Query(max_length=40, pattern=TEXT)] = None,
    type: Annotated[str | None, Query(max_length=40, pattern=TEXT)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Ledger events, newest first (auditors): none of a case above your clearance."""
    return auditing.ledger_page(
        srv.store, actor=viewer.id, case_id=case, type=type, before=before, limit=limit
    )


@router.get("/ledger/verify", tags=["ledger"])
def verify_ledger(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Check the whole hash chain (auditors cleared TOP SECRET: it covers every case)."""
    return auditing.verify(srv.store, srv.settings.data_dir, actor=viewer.id).as_dict()


@router.get("/ledger/export", tags=["ledger"], response_class=StreamingResponse, responses=_NDJSON)
def export_ledger(viewer: Viewer, srv: Srv) -> StreamingResponse:
    """The ledger as JSON lines that verify on their own (auditors; docs/verifying.md). A
    checkpoint is signed first; events of cases above your clearance are redacted to what
    checking the chain needs."""
    _, lines = auditing.export(srv.store, actor=viewer.id, now=srv.now())
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="ledger.jsonl"'},
    )


@router.get("/ledger/checkpoints", tags=["ledger"])
def checkpoints(
    viewer: Viewer, srv: Srv, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """The checkpoints kept in the database, newest first (auditors): keep one to check the
    ledger against later (``clearance audit verify --checkpoint``)."""
    return auditing.checkpoints(srv.store, actor=viewer.id, limit=limit)


@router.post("/ledger/checkpoints", tags=["ledger"], status_code=201)
def sign_checkpoint(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Sign a checkpoint of the ledger now and keep it (auditors); refused (409
    ``ledger_broken``) when the ledger does not verify since the last one."""
    return auditing.sign_checkpoint(srv.store, actor=viewer.id, now=srv.now()).as_dict()


@router.get("/ledger/public-key", tags=["ledger"])
def system_public_key(srv: Srv) -> dict[str, str | None]:
    """The installation's system public key, which seals the ledger and signs checkpoints.
    Public: anyone may have it; an auditor should also have it from the operator directly."""
    return {"system_public_key": anchoring.installation_key(srv.store)}
