"""A decision, as ``core.decision.Decision.as_dict`` writes it (docs/formats.md).

The same shape is screened afresh (``/screen``, ``/explain``) and read back from a
case's record, so it is ``Recorded``: a decision written before stock figures were
part of it has no ``stockpile`` key, and keeps none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from . import Recorded, RequestData

__all__ = ["Decision", "HolderJudgement", "HolderPath", "RequiredApproval", "StockFacts"]

OutcomeWord = Literal["permitted", "review_required", "prohibited"]
RatingWord = Literal["green", "yellow", "red"]


class RequiredApproval(Recorded):
    authority: str = Field(description="The office whose holder must approve.")
    delegable: bool


class HolderPath(Recorded):
    """One route from the system to a party that gives the party a right of consent."""

    basis: str = Field(description="origin, component, see-through, targeting-data, …")
    via: list[str]
    party: str
    share: float | None = Field(description="The value share of the route's last component.")
    text: str


class HolderJudgement(Recorded):
    """One consent holder's answer under the bundle in force for it."""

    party: str
    outcome: OutcomeWord
    bundle: str | None
    bundle_effective_from: str | None
    paths: list[HolderPath]
    reasons: list[str]
    required_approvals: list[RequiredApproval]
    conditions: list[str]
    notes: list[str]


class Thresholds(Recorded):
    green_percent: int
    yellow_percent: int


class StockFacts(Recorded):
    """What a transfer does to the giver's stock. For a reader who may not see that party's
    figures, only the ratings are kept (and ``figures_withheld`` is true)."""

    holder: str
    system: str
    on: str
    quantity: int
    on_hand: int | None = None
    committed: int | None = None
    available: int | None = None
    available_after: int | None = None
    requirement: int | None = None
    thresholds: Thresholds | None = None
    now: RatingWord
    after: RatingWord
    months_to_recover: int | None = None
    illustrative: bool | None = None
    nonce: str | None = Field(
        default=None, description="Recorded decisions: what keeps the figures from being guessed."
    )
    figures_withheld: bool | None = None


class WaitingPeriod(Recorded):
    """A legislature's waiting period before a transfer may be executed."""

    holder: str = Field(description="Whose policy requires it.")
    legislature: str
    rule: str = Field(description='In words: "major defense equipment from $14,000,000".')
    value_usd: int
    threshold_usd: int
    days: int
    notified_on: str = Field(description="The request's date, taken as the notification.")
    ends_on: str = Field(description="The period's last day: execution on it is refused.")
    executable_from: str = Field(description="The first day execution is allowed.")
    waiver: str = Field(description="The office whose emergency waiver lifts it.")


class Decision(Recorded):
    """The answer to one request, with everything needed to trust and replay it."""

    decision_id: str
    outcome: OutcomeWord
    consent_holders: list[str]
    holder_paths: dict[str, list[str]]
    required_approvals: list[RequiredApproval]
    conditions: list[str]
    reasons: list[str]
    bundles: dict[str, str | None]
    holders: list[HolderJudgement]
    stockpile: StockFacts | None = Field(
        default=None, description="Transfers: the giver's stock; absent from older decisions."
    )
    request: RequestData
    request_digest: str
    judged_as_of: str
    catalog_revision: str
    evaluated_at: str
    duration_us: int
    waiting_period: WaitingPeriod | None = Field(
        default=None, description="Transfers a legislature must review first; else absent."
    )
