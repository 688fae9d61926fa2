"""The catalog, policy bundles and proposals as the API shows them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from . import Body, Recorded, RequestData
from .decisions import HolderPath

__all__ = [
    "ActivationBody",
    "BundleBody",
    "HoldersBody",
    "ProposalBody",
    "ProposalRow",
    "ProposalShown",
    "Proposed",
    "SystemBody",
]


class SystemBody(Body):
    """A system of the catalog, with its consent holders."""

    id: str
    name: str
    origin: str
    category: str
    range_km: int
    illustrative: bool
    notes: str
    major_defense_equipment: bool = Field(
        description="Major defense equipment, for the thresholds of a legislature's review."
    )
    consent_holders: list[str]


class HoldersBody(Body):
    system: str
    catalog_revision: str
    consent_holders: list[str]
    holder_paths: dict[str, list[HolderPath]]


class BundleBody(Body):
    holder: str
    folder: str
    revision: str
    title: str
    summary: str
    effective_from: str
    in_force_until: str | None
    illustrative: bool
    review_sla_days: int | None
    policies: list[str]
    text: str | None = Field(default=None, description="The policy text (one holder's bundles).")


class ProposalRow(Body):
    number: int
    state: str
    holder: str
    effective_from: str
    title: str
    tests_passed: bool
    proposed_by: str
    activated_by: str | None


class Mismatch(Recorded):
    field: str
    expected: Any
    got: Any


class GoldenFailure(Recorded):
    id: str
    file: str
    title: str
    mismatches: list[Mismatch]


class GoldenReport(Recorded):
    """The pack's golden cases run with the proposed bundle added to its holder's history, as
    recorded with the proposal."""

    passed: int
    failed: int
    failures: list[GoldenFailure]


class PolicyText(Body):
    id: str
    effect: str
    file: str
    text: str


class ProposalBody(Body):
    """A proposal: its bundle's policies and files, its golden-case report, its signature."""

    number: int
    id: str
    state: str
    holder: str
    effective_from: str
    title: str
    revision: str
    proposed_by: str
    proposed_at: str
    tests: GoldenReport
    tests_passed: bool
    policy_authority: str | None
    activated_by: str | None
    activated_as: str | None
    activated_at: str | None
    statement: str | None
    signature: str | None
    policies: list[PolicyText]
    files: dict[str, str]


class Proposed(ProposalBody):
    may_activate: bool


class ReplayedCase(Body):
    """A stored case the proposal would decide differently."""

    number: int
    case_id: str
    request: RequestData
    state: str
    was: str
    would_be: str
    kind: str
    was_reasons: list[str]
    would_be_reasons: list[str]
    notes: list[str]
    zones: list[str] = Field(
        description="The zones holding the target's region on the request's date"
        " ('outside every zone' for a region none holds); empty without a region."
    )


class OpenCaseChange(Body):
    number: int
    case_id: str
    was: str
    would_be: str


class Unjudged(Body):
    number: int
    case_id: str
    problem: str


class Impact(Body):
    examined: int | None = Field(description="Cases replayed; None unless you may count all.")
    not_replayed: int | None = Field(
        description="Of them, cases whose records no longer read, named by `clearance replay`;"
        " None unless you may count all."
    )
    replay: list[ReplayedCase]
    open_cases: list[OpenCaseChange]
    unjudged: list[Unjudged]


class ProposalShown(Proposed):
    impact: Impact


class SuspendedCase(Body):
    number: int
    case_id: str
    suspended_for: list[str] = Field(
        description="The offices it waits on; empty when the policy prohibits it."
    )


class ActivationBody(ProposalBody):
    """The activated proposal, and what re-screening the open cases you may see found."""

    rescreened: list[OpenCaseChange]
    rescreen_failed: list[Unjudged]
    rescreen_error: str | None
    suspended: list[SuspendedCase] = Field(
        default_factory=list,
        description="Approved cases the policy now in force does not permit: suspended.",
    )
