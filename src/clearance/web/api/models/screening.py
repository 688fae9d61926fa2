"""A decision explained: the policy text that decided it and what would change it."""

from __future__ import annotations

from . import Body
from .decisions import Decision, OutcomeWord

__all__ = ["ExplanationBody"]


class BundleInForce(Body):
    revision: str
    title: str
    effective_from: str
    in_force_until: str | None
    illustrative: bool


class OtherBundle(BundleInForce):
    """How another of the holder's bundles would have judged the same request."""

    outcome: OutcomeWord


class DecidingPolicy(Body):
    id: str
    effect: str
    file: str
    line: int
    text: str


class HolderExplained(Body):
    party: str
    outcome: OutcomeWord
    bundle: BundleInForce | None
    policies: list[DecidingPolicy]
    notes: list[str]
    under_other_bundles: list[OtherBundle]


class ExplanationBody(Body):
    decision: Decision
    holders: list[HolderExplained]
    what_would_change_it: list[str]
