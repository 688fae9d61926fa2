"""The web pages (server-rendered Jinja2 + htmx), each a few lines over the service layer.

Signed-in pages use the same session cookie and CSRF token as the API; the
sign-in form, which comes before any session, is protected by a
double-submit cookie. Every list, count and total is of what the viewer may
see (the use cases apply ``service.access``), and every page names the highest level of what
it shows in its banner.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from clearance.core.access import Level, parse_level
from clearance.core.chain import EventType
from clearance.core.event_words import words_of
from clearance.core.holders import consent_holders, holders_report, systems_report
from clearance.core.request import parse_request
from clearance.core.workflow import OPEN_STATES, CaseState
from clearance.errors import (
    AuthenticationError,
    ClearanceError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
    PermissionDenied,
    RequestError,
    Throttled,
)
from clearance.policy.explain import Explanation, explain
from clearance.service import anchoring, auditing, decision_proof
from clearance.service.access import Action
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView, case_row
from clearance.service.people import offices_of
from clearance.service.runtime import Runtime
from clearance.service.stockpile import stockpile_seen

from .auth import COOKIE, Viewer, client_address, server, set_session_cookie
from .charts import decisions_chart, holders_graph
from .dashboard import AGE_BUCKETS, build_dashboard, waiting_on
from .forms import (
    FIELD_IDS,
    RequestForm,
    blank_form,
    form_choices,
    missing,
    read_request_form,
)
from .rendering import PageRoute, highest, render, safe_next

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Srv = Annotated[Runtime, Depends(server)]
SIGNIN_COOKIE = "clearance_signin_csrf"
PAGE_SIZE = 50
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_DONE = {
    "approved": "Your approval was signed and recorded.",
    "denied": "Your denial was signed and recorded.",
    "submitted": "The request was submitted and screened.",
}


# signing in ---------------------------------------------------------------------


def _signin_token(request: Request) -> str:
    token = request.cookies.get(SIGNIN_COOKIE, "")
    return token if _TOKEN.match(token) else secrets.token_urlsafe(32)


def _sign_in_form(
    request: Request,
    *,
    token: str,
    next_path: str,
    user: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    response = render(
        request,
        "sign_in.html",
        viewer=None,
        level=Level.UNCLASSIFIED,
        status=status,
        title="Sign in",
        signin_csrf=token,
        next=next_path,
        user=user,
        error=error,
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/sign-in",
        max_age=3600,
    )
    return response


@router.get("/sign-in")
def sign_in_page(
    request: Request, srv: Srv, next: Annotated[str, Query(max_length=2000)] = ""
) -> Response:
    cookie = request.cookies.get(COOKIE)
    if cookie and srv.accounts.from_session(cookie, now=srv.now()) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _sign_in_form(request, token=_signin_token(request), next_path=safe_next(next))


@router.post("/sign-in")
def sign_in(
    request: Request,
    srv: Srv,
    user: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    # As bytes: compare_digest refuses text that is not ASCII, and a form can send any.
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        raise PermissionDenied(
            "the sign-in form has expired or did not come from this site; reload it and try again"
        )
    target = safe_next(next)
    try:
        token, _ = srv.accounts.sign_in(
            user.strip(), password, client=client_address(request), now=srv.now()
        )
    except Throttled as exc:
        refused = _sign_in_form(
            request, token=expected, next_path=target, user=user, error=exc.message, status=429
        )
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except AuthenticationError as exc:
        return _sign_in_form(
            request, token=expected, next_path=target, user=user, error=exc.message, status=401
        )
    if previous := request.cookies.get(COOKIE):
        srv.accounts.sign_out(previous)  # one browser, one session
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    response.delete_cookie(SIGNIN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(request: Request, viewer: Viewer, srv: Srv) -> Response:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        srv.accounts.sign_out(cookie)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# the dashboard ------------------------------------------------------------------


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


# cases --------------------------------------------------------------------------

SEARCH_COUNT_LIMIT = 1_000
"""A search counts its matches up to here ("1,000 or more"): a broad one stays fast."""

_STATE_FILTERS = {"open": "open cases", "all": "every state", "overdue": "overdue"} | {
    s.value: s.value.replace("_", " ") for s in CaseState
}


@router.get("/cases")
def cases_page(
    request: Request,
    viewer: Viewer,
    srv: Srv,
    state: Annotated[str, Query(max_length=40)] = "open",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    all_states: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    if all_states and state == "open":  # ?all=1, as the API says it
        state = "all"
    if state not in _STATE_FILTERS:
        raise InputError("state", f"'{state}' is not a state filter")
    query = q.strip().lower()
    now = srv.now()
    states = {"open": sorted(OPEN_STATES), "all": None, "overdue": None}.get(state, [state])
    if state == "overdue":
        offset = (page - 1) * PAGE_SIZE
        found = srv.cases.overdue(now, actor=viewer.id, query=query, limit=PAGE_SIZE, offset=offset)
        total = srv.cases.count_overdue(now, actor=viewer.id, query=query)
    else:
        found, total = srv.cases.page(
            actor=viewer.id,
            states=states,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            query=query,
            count_at_most=SEARCH_COUNT_LIMIT if query else None,
        )
    return render(
        request,
        "cases.html",
        viewer=viewer,
        level=highest(c.classification for c in found),
        title="Cases",
        rows=[case_row(c, now) for c in found],
        total=total,
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
            f"The policy now loaded judges this request as {decision.outcome.value}; the case was"
            f" decided as {view.decision['outcome']} under the bundles recorded with it. The"
            " explanation below is of the policy now loaded."
        )
    return explain(srv.screener, request, decision), note


def _answerable(srv: Runtime, viewer: SignedIn, view: CaseView) -> list[dict[str, Any]]:
    """The open gates of a case in review that the viewer holds (or is a delegate for) today."""
    if view.case.state != CaseState.IN_REVIEW.value or view.case.submitted_by == viewer.id:
        return []
    mine = set(offices_of(srv.store, viewer.id, srv.now().date()))
    return [gate for gate in waiting_on(view) if gate["authority"] in mine]


def _case_page(
    request: Request,
    srv: Runtime,
    viewer: SignedIn,
    view: CaseView,
    *,
    status: int = 200,
    error: str | None = None,
    reason: str = "",
    done: str | None = None,
) -> HTMLResponse:
    now = srv.now()
    case = view.as_dict(now)
    explanation, explanation_note = _explanation(srv, view)
    checks = {(c.authority, c.actor): c for c in decision_proof.check_signatures(case, None)}
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
        waiting=waiting_on(view) if view.case.state == CaseState.IN_REVIEW.value else [],
        answerable=_answerable(srv, viewer, view),
        checks=checks,
        events=[{**e, "summary": words_of(e)} for e in case["events"]],
        error=error,
        reason=reason,
        done=_DONE.get(done or ""),
        authorities={a.id: a.title for a in srv.pack.catalog.authorities},
        stock_link=bool(stock) and not stock.get("figures_withheld"),
    )


@router.get("/cases/{ref}")
def case_page(
    ref: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _case_page(request, srv, viewer, srv.cases.view(ref, actor=viewer.id), done=done)


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
        if not passphrase:
            raise InputError("passphrase", "enter the passphrase of your signing key")
        answered = srv.cases.answer(
            ref,
            actor=viewer.id,
            approve=verdict == "approve",
            reason=reason.strip(),
            signer=srv.signer(viewer.id, passphrase),
            now=srv.now(),
            authority=authority or None,
        )
    except NotFoundError:
        raise
    except ClearanceError as exc:
        fresh = srv.cases.view(ref, actor=viewer.id)  # 404 here for a case not to be seen
        return _case_page(
            request, srv, viewer, fresh, status=exc.http_status, error=exc.message, reason=reason
        )
    done = "approved" if verdict == "approve" else "denied"
    return RedirectResponse(f"/cases/{answered.case.number}?done={done}", status_code=303)


# new requests -------------------------------------------------------------------


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


@router.post("/requests/preview")
async def preview(request: Request, viewer: Viewer, srv: Srv) -> Response:
    """The screening of the form as it stands: a fragment for the page's live region."""
    form = read_request_form(await request.form())
    level: Level | None = None
    try:
        level = parse_level(form.classification)
    except InputError:
        level = None
    empty = [what for _, what in missing(form)]
    context: dict[str, Any] = {"missing": empty, "decision": None, "error": None, "stock": None}
    if not empty:
        try:
            parsed = parse_request(form.request())
            decision = srv.screener.decide(parsed, decision_id=str(uuid.uuid4()), now=srv.now())
            context["decision"] = decision
            context["explanation"] = explain(srv.screener, parsed, decision)
            context["stock"] = stockpile_seen(
                decision.stockpile.as_dict() if decision.stockpile else None, viewer.user
            )
        except RequestError as exc:
            context["error"] = exc.message
            context["error_field"] = FIELD_IDS.get(exc.field)
    return render(
        request,
        "_preview.html",
        viewer=viewer,
        level=level if level is not None and level <= viewer.clearance else Level.UNCLASSIFIED,
        oob=level is not None,
        **context,
    )


@router.post("/requests")
async def submit_request(request: Request, viewer: Viewer, srv: Srv) -> Response:
    form = read_request_form(await request.form())
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
    return RedirectResponse(f"/cases/{case.number}?done=submitted", status_code=303)


# catalog and policy -------------------------------------------------------------


@router.get("/catalog")
def catalog_page(request: Request, viewer: Viewer, srv: Srv) -> Response:
    return render(
        request,
        "catalog.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title="Catalog",
        systems=systems_report(srv.pack.catalog),
        revision=srv.pack.catalog.revision,
    )


@router.get("/catalog/{system}")
def system_page(system: str, request: Request, viewer: Viewer, srv: Srv) -> Response:
    catalog = srv.pack.catalog
    report = holders_report(catalog, system)  # NotFoundError for an unknown system
    found = catalog.system(system)
    assert found is not None
    holders = consent_holders(catalog, system)
    graph = holders_graph(
        system,
        found.name,
        holders,
        {p.code: p.name for p in catalog.parties},
        {c.id: c.name for c in catalog.components},
    )
    history = srv.screener.history  # the pack and the activated proposals
    today = srv.now().date()
    return render(
        request,
        "system.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title=found.name,
        system=found,
        report=report,
        holders=holders,
        graph=graph,
        in_force={h.party: history.bundle_in_force(h.party, today) for h in holders},
        names={p.code: p.name for p in catalog.parties},
        components={c.id: c for c in catalog.components},
    )


@router.get("/policy")
def policy_page(request: Request, viewer: Viewer, srv: Srv) -> Response:
    history = srv.screener.history  # the pack and the activated proposals
    today = srv.now().date()
    return render(
        request,
        "policy.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title="Policy",
        holders=[
            (holder, history.of(holder), history.bundle_in_force(holder, today))
            for holder in history.holders
        ],
        history=history,
        names={p.code: p.name for p in srv.pack.catalog.parties},
        today=today,
    )


@router.get("/policy/{holder}")
def holder_policy_page(holder: str, request: Request, viewer: Viewer, srv: Srv) -> Response:
    history = srv.screener.history  # the pack and the activated proposals
    bundles = history.of(holder)
    if not bundles:
        raise NotFoundError(f"no bundles for '{holder}' (holders: {', '.join(history.holders)})")
    today = srv.now().date()
    return render(
        request,
        "policy_holder.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title=f"Policy of {holder}",
        holder=holder,
        name={p.code: p.name for p in srv.pack.catalog.parties}.get(holder, holder),
        bundles=[(b, history.in_force_until(b)) for b in reversed(bundles)],
        current=history.bundle_in_force(holder, today),
        authorities={a.id: a.title for a in srv.pack.catalog.authorities},
        today=today,
    )


# the ledger ---------------------------------------------------------------------

_EVENT_TYPES = [t.value for t in EventType]


@router.get("/ledger")
def ledger_page(
    request: Request,
    viewer: Viewer,
    srv: Srv,
    case: Annotated[str, Query(max_length=40)] = "",
    type: Annotated[str, Query(max_length=40)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    signed: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> Response:
    case_id: str | None = None
    if case.strip():  # by number or id, as the viewer may see it: not found if not
        srv.check(viewer.id, Action.LEDGER_READ)  # a reader of the ledger first
        case_id = srv.cases.view(case.strip(), actor=viewer.id).case.id
    if type and type not in _EVENT_TYPES:
        raise InputError("type", f"'{type}' is not an event type")
    events = auditing.ledger_page(
        srv.store,
        actor=viewer.id,
        case_id=case_id,
        type=type or None,
        before=before,
        limit=PAGE_SIZE,
    )
    numbers: dict[str, int] = {}
    levels: list[int] = []
    for cid in {e["case_id"] for e in events if e["case_id"]}:
        found = srv.cases.view(cid, actor=viewer.id).case
        numbers[cid] = found.number
        levels.append(found.classification)
    return render(
        request,
        "ledger.html",
        viewer=viewer,
        level=highest(levels),
        title="Ledger",
        events=[{**e, "summary": words_of(e)} for e in events],
        numbers=numbers,
        case=case.strip(),
        type=type,
        types=_EVENT_TYPES,
        older=events[-1]["seq"] if len(events) == PAGE_SIZE else None,
        before=before,
        checkpoints=auditing.checkpoints(srv.store, actor=viewer.id, limit=5),
        system_key=anchoring.installation_key(srv.store),
        signed=signed,
    )


@router.post("/ledger/checkpoints")
def sign_checkpoint(viewer: Viewer, srv: Srv) -> Response:
    """Sign a checkpoint now (auditors), then show it on the ledger page."""
    made = auditing.sign_checkpoint(srv.store, actor=viewer.id, now=srv.now())
    return RedirectResponse(f"/ledger?signed={made.seq}#checkpoints-heading", status_code=303)


@router.get("/ledger/checkpoint.json")
def latest_checkpoint(viewer: Viewer, srv: Srv) -> Response:
    """The latest checkpoint as a file to keep (``clearance audit verify --checkpoint``)."""
    latest = auditing.checkpoints(srv.store, actor=viewer.id, limit=1)
    if not latest:
        raise NotFoundError("no checkpoint has been signed yet")
    kept = {k: v for k, v in latest[0].items() if k != "reason"}
    return JSONResponse(
        kept,
        headers={"Content-Disposition": f'attachment; filename="checkpoint-{kept["seq"]}.json"'},
    )


@router.get("/ledger/verification")
def ledger_verification(request: Request, viewer: Viewer, srv: Srv) -> Response:
    """The whole chain checked: a fragment for the ledger page, or a page of its own."""
    context: dict[str, Any] = {"report": None, "refused": None}
    try:
        context["report"] = auditing.verify(srv.store, srv.settings.data_dir, actor=viewer.id)
        context["checked_at"] = srv.now()
    except PermissionDenied as exc:
        if not srv.may(viewer.id, Action.LEDGER_READ):
            raise  # not an auditor: refused as a page
        context["refused"] = f"{exc.message[0].upper()}{exc.message[1:]}."
    fragment = bool(request.headers.get("hx-request"))
    return render(
        request,
        "_verification.html" if fragment else "verification.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title="Ledger verification",
        **context,
    )


def api_reference(request: Request, schema: dict[str, Any]) -> Response:
    """``/docs``: the OpenAPI document as a page (open to all: it holds no case data)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            parameters = [f"{p['name']} ({p['in']})" for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            groups.setdefault((op.get("tags") or ["other"])[0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": (op.get("description") or "").split("\n")[0],
                    "parameters": parameters,
                    "body": ref.rsplit("/", 1)[-1] if ref else ("JSON" if body else ""),
                    "statuses": sorted(op.get("responses", {})),
                }
            )
    return render(
        request,
        "api_docs.html",
        viewer=None,
        level=Level.UNCLASSIFIED,
        title="HTTP API",
        groups=sorted(groups.items()),
    )
