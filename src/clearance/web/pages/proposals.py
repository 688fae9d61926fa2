"""The policy-proposal pages: the list with an upload form, and one proposal with its impact.

A policy author uploads a new bundle's files; the page shows at once whether
the golden cases pass, and what the bundle would change: the stored cases
whose outcome it would have changed (replay) and the open cases it would change
from its date, of the cases the viewer may see (``access.visible_impact``); and,
where the office holder decides whether to sign, the bundle against the one it
replaces, in text and in effect, as ``clearance policy diff`` shows them
(``service.bundle_diffs``).
The holder of the office the holder's policy names is offered an Activate
form, signed with their own key as an approval is; the service is the final
word on who may activate. A bundle that does not load is refused on the form,
in one line naming the file and line, and nothing is recorded.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from clearance.core.access import Level
from clearance.errors import ClearanceError, InputError, NotFoundError
from clearance.service import bundle_diffs
from clearance.service.accounts import SignedIn
from clearance.service.activation import Activated
from clearance.service.runtime import Runtime

from ..auth import Srv, Viewer
from ..charts import changes_chart
from ..diffs import laid_out
from ..forms import form_signer
from ..rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Number = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_FILES = 100
MAX_FILE_BYTES = 1_000_000


def _one_line(message: str) -> str:
    """Cedar's messages can run over lines; the form shows an error as one."""
    return " ".join(message.split())


def _list_page(
    request: Request,
    srv: Runtime,
    viewer: SignedIn,
    *,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "proposals.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        status=status,
        title="Policy proposals",
        proposals=srv.proposals.visible(actor=viewer.id),
        error=error,
    )


@router.get("/policy/proposals")
def proposals_page(request: Request, viewer: Viewer, srv: Srv) -> Response:
    return _list_page(request, srv, viewer)


async def _uploaded(request: Request) -> dict[str, str]:
    """The uploaded files' names (without any folder) and UTF-8 texts."""
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        raise InputError("files", "choose the bundle's files: bundle.yaml and its .cedar files")
    if len(uploads) > MAX_FILES:
        raise InputError("files", f"a bundle has at most {MAX_FILES} files")
    files: dict[str, str] = {}
    for upload in uploads:
        name = posixpath.basename((upload.filename or "").replace("\\", "/"))
        data = await upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InputError("files", f"{name}: larger than {MAX_FILE_BYTES:,} bytes")
        if name in files:
            raise InputError("files", f"{name}: chosen twice")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("files", f"{name}: not UTF-8 text") from None
        if "\x00" in text:
            raise InputError("files", f"{name}: text may not contain a NUL character")
        files[name] = text
    return files


@router.post("/policy/proposals")
async def propose(request: Request, viewer: Viewer, srv: Srv) -> Response:
    """Propose the uploaded bundle; a refusal is shown on the form (nothing is recorded).

    The upload is read on the event loop; proposing it (Cedar, the golden cases, the
    database) runs on a worker thread."""
    try:
        files = await _uploaded(request)
    except ClearanceError as exc:
        return await run_in_threadpool(_refused, request, srv, viewer, exc)
    return await run_in_threadpool(_propose, request, srv, viewer, files)


def _refused(request: Request, srv: Runtime, viewer: SignedIn, exc: ClearanceError) -> Response:
    return _list_page(request, srv, viewer, status=exc.http_status, error=_one_line(str(exc)))


def _propose(request: Request, srv: Runtime, viewer: SignedIn, files: dict[str, str]) -> Response:
    try:
        view = srv.proposals.propose(files, actor=viewer.id, now=srv.now())
    except ClearanceError as exc:
        return _refused(request, srv, viewer, exc)
    return RedirectResponse(f"/policy/proposals/{view.record.number}", status_code=303)


def _proposal_page(
    request: Request,
    srv: Runtime,
    viewer: SignedIn,
    number: int,
    *,
    status: int = 200,
    error: str | None = None,
    activated: Activated | None = None,
) -> HTMLResponse:
    now = srv.now()
    view = (
        activated.view
        if activated is not None
        else srv.proposals.view(number, actor=viewer.id, now=now)
    )
    impact = srv.proposals.impact(number, actor=viewer.id, now=now, view=view)
    kinds = Counter(change.kind for change in impact.replay)
    catalog = srv.pack.catalog
    comparison = bundle_diffs.of_proposal(srv.store, srv.screener, view)
    in_force = srv.screener.history.bundle_in_force(view.record.holder, now.date())
    return render(
        request,
        "proposal.html",
        viewer=viewer,
        level=max(impact.level, activated.level if activated else Level.UNCLASSIFIED),
        status=status,
        title=f"Policy proposal {number}",
        view=view,
        record=view.record,
        tests=view.tests,
        impact=impact,
        kinds=kinds.most_common(),
        chart=changes_chart(
            kinds.most_common(),
            title=f"Stored cases proposal {number} would have decided differently, by change",
        )
        if kinds
        else None,
        may_activate=srv.proposals.may_activate(view, viewer.id, now.date()),
        comparison=comparison,
        texts=laid_out(comparison.files),
        sample=bundle_diffs.SAMPLE,
        in_force_revision=in_force.revision if in_force else None,
        error=error,
        activated=activated,
        authorities={a.id: a.title for a in catalog.authorities},
        party=(found.name if (found := catalog.party(view.record.holder)) else view.record.holder),
    )


@router.get("/policy/proposals/{number}")
def proposal_page(number: Number, request: Request, viewer: Viewer, srv: Srv) -> Response:
    return _proposal_page(request, srv, viewer, number)


@router.post("/policy/proposals/{number}/activate")
def activate(
    number: Number,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    passphrase: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Activate, then show the proposal as activated with the open cases re-screened."""
    try:
        activated = srv.activate_proposal(
            number, actor=viewer.id, signer=form_signer(srv, viewer.id, passphrase)
        )
    except NotFoundError:
        raise
    except ClearanceError as exc:
        return _proposal_page(
            request, srv, viewer, number, status=exc.http_status, error=exc.message
        )
    return _proposal_page(request, srv, viewer, number, activated=activated)
