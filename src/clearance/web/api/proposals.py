"""Policy proposals through the API: propose a bundle, see one with its impact, activate it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from clearance.service.proposals import proposal_summary

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.policy import ActivationBody, ProposalRow, ProposalShown, Proposed
from .params import PREFIX, TEXT

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["policy"])

ProposalNumber = Annotated[int, Path(ge=1, le=2**63 - 1, description="A proposal's number.")]
BundleFileName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
BundleFileText = Annotated[str, Field(max_length=1_000_000, pattern=TEXT)]


class Proposal(BaseModel):
    """A new bundle's files by name: bundle.yaml, *.cedar, optional schema and entities."""

    files: dict[BundleFileName, BundleFileText] = Field(min_length=1, max_length=100)


class Activation(BaseModel):
    """The passphrase unlocks the activator's own signing key."""

    passphrase: str = Field(min_length=1, max_length=1000)


@router.get("/proposals", response_model=list[ProposalRow])
def list_proposals(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """The policy proposals you may see, oldest first, with their state and golden-case result."""
    return [proposal_summary(r) for r in srv.proposals.visible(actor=viewer.id)]


@router.post(
    "/proposals", status_code=201, response_model=Proposed, response_model_exclude_unset=True
)
def propose(body: Proposal, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Propose a new bundle for your party: validated, run against the golden cases, recorded."""
    view = srv.proposals.propose(body.files, actor=viewer.id, now=srv.now())
    may_activate = srv.proposals.may_activate(view, viewer.id, srv.now().date())
    return {**view.as_dict(), "may_activate": may_activate}


@router.get("/proposals/{number}", response_model=ProposalShown, response_model_exclude_unset=True)
def show_proposal(number: ProposalNumber, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """A proposal: its text, golden-case results, and the cases you may see it would change."""
    now = srv.now()
    view = srv.proposals.view(number, actor=viewer.id, now=now)
    return {
        **view.as_dict(),
        "may_activate": srv.proposals.may_activate(view, viewer.id, now.date()),
        "impact": srv.proposals.impact(number, actor=viewer.id, now=now, view=view).as_dict(),
    }


@router.post(
    "/proposals/{number}/activate",
    response_model=ActivationBody,
    response_model_exclude_unset=True,
)
def activate(number: ProposalNumber, body: Activation, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Activate a proposal from its date, as the holder of the office it names, signed with
    your key; then re-screen the open cases under the policy now in force."""
    unlock = srv.signer(viewer.id, body.passphrase)
    return srv.activate_proposal(number, actor=viewer.id, signer=unlock).as_dict()
