"""A decision explained for a person: the policy text that decided, and what would change it.

The explanation is data (rendered by the CLI, and later by the web pages):

- for every consent holder, the bundle in force (title, dates, revision), the
  determining policies with their source text, file and line, and the notes;
- what would change the outcome: the approvals that would permit it, the
  conditions it stays subject to, a prohibition no approval can lift, and how
  each holder's other bundles in its history would have judged the same
  request (policy here changes quickly; a reviewer should see that at once).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from clearance.core.decision import Decision, HolderJudgement, Outcome
from clearance.core.request import EmployRequest, TransferRequest
from clearance.policy.bundle import PolicyBundle, PolicyInfo
from clearance.policy.engine import Screener

__all__ = ["Explanation", "HolderExplanation", "explain"]


@dataclass(frozen=True, slots=True)
class OtherBundle:
    """How a holder's other bundle would have judged the same request."""

    bundle: PolicyBundle
    until: dt.date | None
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class HolderExplanation:
    judgement: HolderJudgement
    bundle: PolicyBundle | None
    until: dt.date | None
    policies: tuple[PolicyInfo, ...]
    elsewhere: tuple[OtherBundle, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    decision: Decision
    holders: tuple[HolderExplanation, ...]
    changes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.as_dict(),
            "holders": [
                {
                    "party": h.judgement.holder.party,
                    "outcome": h.judgement.outcome.value,
                    "bundle": None if h.bundle is None else _bundle_dict(h.bundle, h.until),
                    "policies": [
                        {
                            "id": p.id,
                            "effect": p.effect.value,
                            "file": p.file,
                            "line": p.statement.code_line,
                            "text": p.statement.text,
                        }
                        for p in h.policies
                    ],
                    "notes": list(h.judgement.notes),
                    "under_other_bundles": [
                        {**_bundle_dict(o.bundle, o.until), "outcome": o.outcome.value}
                        for o in h.elsewhere
                    ],
                }
                for h in self.holders
            ],
            "what_would_change_it": list(self.changes),
        }


def _bundle_dict(bundle: PolicyBundle, until: dt.date | None) -> dict[str, Any]:
    return {
        "revision": bundle.revision,
        "title": bundle.title,
        "effective_from": bundle.effective_from.isoformat(),
        "in_force_until": until.isoformat() if until else None,
        "illustrative": bundle.illustrative,
    }


def _span(bundle: PolicyBundle, until: dt.date | None) -> str:
    end = until.isoformat() if until else "now"
    return f"{bundle.effective_from.isoformat()} to {end}"


def _changes(decision: Decision, holders: list[HolderExplanation]) -> list[str]:
    changes: list[str] = []
    if decision.outcome is Outcome.REVIEW_REQUIRED:
        for approval in decision.required_approvals:
            how = "may be delegated" if approval.delegable else "personally; may not be delegated"
            changes.append(f"Approval by {approval.authority} ({how}) would permit it.")
    for condition in decision.conditions:
        changes.append(f"It is permitted only on condition: {condition}.")
    for h in holders:
        party = h.judgement.holder.party
        if h.bundle is None:
            changes.append(f"{party} has no policy in force on that date; nothing can permit it.")
        for p in h.policies:
            if p.is_prohibition:
                changes.append(
                    f"{party}/{p.id} forbids it and no approval lifts it; only a new {party} policy could."
                )
        for other in h.elsewhere:
            changes.append(
                f"Under {party}'s policy '{other.bundle.title}' ({_span(other.bundle, other.until)}) "
                f"{party} would have answered: {other.outcome.value}."
            )
    return changes


def explain(
    screener: Screener,
    request: EmployRequest | TransferRequest,
    decision: Decision,
) -> Explanation:
    """Explain ``decision``, which ``screener`` made for ``request``."""
    history = screener.history
    holders: list[HolderExplanation] = []
    for judgement in decision.judgements:
        bundle = history.by_revision(judgement.bundle)
        prefix = judgement.holder.party + "/"
        policies = tuple(
            p
            for reason in judgement.reasons
            if bundle is not None and (p := bundle.policy(reason.removeprefix(prefix))) is not None
        )
        elsewhere = tuple(
            OtherBundle(other, history.in_force_until(other), outcome)
            for other in history.of(judgement.holder.party)
            if other is not bundle
            and (outcome := screener.judge_under(request, other).outcome) is not judgement.outcome
        )
        until = history.in_force_until(bundle) if bundle is not None else None
        holders.append(HolderExplanation(judgement, bundle, until, policies, elsewhere))
    return Explanation(decision, tuple(holders), tuple(_changes(decision, holders)))
