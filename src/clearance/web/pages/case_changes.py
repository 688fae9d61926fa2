"""Changing a case from its page: withdraw it, record a condition as met, record its
execution, each through a confirmation page first; ask the requester a question, and
answer it; waive its legislative waiting period, signed.

Every change is two posts of the same form. The first (without ``confirm``) asks the
service to rehearse the change (``Runtime.cases.rehearse``: the change's own checks,
nothing written) and shows what would be recorded, with a button that sends it again
with ``confirm=yes``; the second makes the change and goes back to the case. A change
the service refuses, at either step, is shown on the case page as one line that names
the form's field, and nothing is recorded. A case the reader may not see is not found,
in the words of one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from clearance.core.access import Level
from clearance.core.workflow import CaseState
from clearance.errors import ClearanceError, InputError
from clearance.service.access import Action
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView
from clearance.service.runtime import Runtime

from .. import flash
from ..auth import Srv, Viewer
from ..forms import form_signer
from ..rendering import PageRoute, render
from .cases import render_case

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

CONFIRMED = "yes"
"""The value of ``confirm`` on the confirmation page's button."""
MAX_QUANTITY_DIGITS = 12

Text = Annotated[str, Form(max_length=4000)]


@dataclass(frozen=True, slots=True)
class Change:
    """One change as its form sends it: which, its fields, and whether it is confirmed."""

    action: Action
    fields: dict[str, str] = field(default_factory=dict)
    confirmed: bool = False

    @property
    def form(self) -> str:
        """The path the form posts to, after the case's: ``withdraw`` and so on."""
        return _FORMS[self.action]


_FORMS = {
    Action.CASE_WITHDRAW: "withdraw",
    Action.CASE_MEET_CONDITION: "conditions",
    Action.CASE_EXECUTE: "execute",
}
_DONE = {
    Action.CASE_WITHDRAW: "withdrawn",
    Action.CASE_MEET_CONDITION: "condition",
    Action.CASE_EXECUTE: "executed",
}


def _quantity(text: str) -> int:
    """The quantity field as a number; the service says whether it is one it may record."""
    digits = text.strip().replace(",", "")
    if not digits:
        raise InputError("quantity", "enter how many were used or delivered")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_QUANTITY_DIGITS:
        raise InputError("quantity", "must be a whole number, such as 20")
    return int(digits)


def _make(srv: Runtime, viewer: SignedIn, ref: str, change: Change) -> CaseView:
    """The change itself, through its use case."""
    values, now = change.fields, srv.now()
    if change.action == Action.CASE_WITHDRAW:
        return srv.cases.withdraw(ref, actor=viewer.id, reason=values["reason"], now=now)
    if change.action == Action.CASE_MEET_CONDITION:
        return srv.cases.condition_met(
            ref,
            actor=viewer.id,
            condition=values["condition"],
            evidence=values["evidence"],
            now=now,
        )
    return srv.cases.execute(ref, actor=viewer.id, quantity=_quantity(values["quantity"]), now=now)


def _rehearse(srv: Runtime, viewer: SignedIn, ref: str, change: Change) -> None:
    """What making the change would refuse, raised; nothing is written."""
    values = change.fields
    quantity = _quantity(values["quantity"]) if change.action == Action.CASE_EXECUTE else None
    srv.cases.rehearse(
        ref,
        change.action,
        actor=viewer.id,
        now=srv.now(),
        condition=values.get("condition", ""),
        evidence=values.get("evidence", ""),
        quantity=quantity,
    )


def _confirmation(
    request: Request, srv: Runtime, viewer: SignedIn, ref: str, change: Change
) -> Response:
    view = srv.cases.view(ref, actor=viewer.id)
    unmet = [k.text for k in view.conditions if k.met_at is None]
    values = dict(change.fields)
    quantity = None
    if change.action == Action.CASE_EXECUTE:
        quantity = _quantity(values["quantity"])
        values["quantity"] = str(quantity)  # as it will be recorded: "3,000" is sent as 3000
    return render(
        request,
        "case_confirm.html",
        viewer=viewer,
        level=Level(view.case.classification),
        title=f"Confirm: case {view.case.number}",
        case=view.as_dict(srv.now()),
        change=change.form,
        values=values,
        quantity=quantity,
        approved=view.case.request.as_dict().get("quantity"),
        clears=change.action == Action.CASE_MEET_CONDITION
        and unmet == [change.fields["condition"]],
    )


def _refused(
    request: Request,
    srv: Runtime,
    viewer: SignedIn,
    ref: str,
    exc: ClearanceError,
    entered: dict[str, str],
) -> Response:
    """The case page with the refusal in one line, naming the field, and what was entered
    on the form it came from. Not found here for a case the reader may not see, as for one
    that does not exist."""
    fresh = srv.cases.view(ref, actor=viewer.id)
    return render_case(
        request,
        srv,
        viewer,
        fresh,
        status=exc.http_status,
        error=exc.message,
        error_field=exc.where if isinstance(exc, InputError) else None,
        entered=entered,
    )


def _change(request: Request, srv: Runtime, viewer: SignedIn, ref: str, change: Change) -> Response:
    """The confirmation page, or the change made; a refusal on the case page."""
    try:
        if not change.confirmed:
            _rehearse(srv, viewer, ref, change)
            return _confirmation(request, srv, viewer, ref, change)
        view = _make(srv, viewer, ref, change)
    except ClearanceError as exc:
        return _refused(request, srv, viewer, ref, exc, {"form": change.form, **change.fields})
    done = _DONE[change.action]
    if view.case.state == CaseState.PARTLY_EXECUTED:
        done = "drawn"
    return flash.redirect_with(f"/cases/{view.case.number}", done, request)


def _said(
    request: Request, srv: Runtime, viewer: SignedIn, ref: str, form: str, text: str
) -> Response:
    """A question asked or answered: made at once (it decides nothing, and the case's
    timeline keeps it), or refused on the case page naming the field."""
    try:
        if form == "ask":
            view = srv.cases.ask(ref, actor=viewer.id, question=text, now=srv.now())
        else:
            view = srv.cases.reply(ref, actor=viewer.id, answer=text, now=srv.now())
    except ClearanceError as exc:
        return _refused(request, srv, viewer, ref, exc, {"form": form, "text": text})
    done = "asked" if form == "ask" else "replied"
    return flash.redirect_with(f"/cases/{view.case.number}", done, request)


@router.post("/cases/{ref}/ask")
def ask(ref: str, request: Request, viewer: Viewer, srv: Srv, question: Text = "") -> Response:
    """Ask the requester a question: the case waits for the answer, its clocks stopped."""
    return _said(request, srv, viewer, ref, "ask", question)


@router.post("/cases/{ref}/reply")
def reply(ref: str, request: Request, viewer: Viewer, srv: Srv, answer: Text = "") -> Response:
    """The requester answers the question their case waits on."""
    return _said(request, srv, viewer, ref, "reply", answer)


@router.post("/cases/{ref}/withdraw")
def withdraw(
    ref: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    reason: Text = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Withdraw the reader's own case, with a reason, once confirmed."""
    change = Change(Action.CASE_WITHDRAW, {"reason": reason.strip()}, confirm == CONFIRMED)
    return _change(request, srv, viewer, ref, change)


@router.post("/cases/{ref}/conditions")
def condition_met(
    ref: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    condition: Text = "",
    evidence: Text = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record one condition of the case as met, with the evidence, once confirmed."""
    fields = {"condition": condition, "evidence": evidence.strip()}
    change = Change(Action.CASE_MEET_CONDITION, fields, confirm == CONFIRMED)
    return _change(request, srv, viewer, ref, change)


@router.post("/cases/{ref}/execute")
def execute(
    ref: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    quantity: Annotated[str, Form(max_length=40)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record how many of the approved quantity were used or delivered, once confirmed."""
    change = Change(Action.CASE_EXECUTE, {"quantity": quantity.strip()}, confirm == CONFIRMED)
    return _change(request, srv, viewer, ref, change)


@router.post("/cases/{ref}/waiver")
def waive(
    ref: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    reason: Text = "",
    passphrase: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Waive the case's legislative waiting period, as the holder of the office its policy
    names, personally, stating the emergency: signed at once with their own key, as an
    answer is, the signature being the confirmation."""
    try:
        view = srv.cases.waive(
            ref,
            actor=viewer.id,
            reason=reason.strip(),
            signer=form_signer(srv, viewer.id, passphrase),
            now=srv.now(),
        )
    except ClearanceError as exc:
        return _refused(request, srv, viewer, ref, exc, {"form": "waiver", "reason": reason})
    return flash.redirect_with(f"/cases/{view.case.number}", "waived", request)
