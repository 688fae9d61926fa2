"""Which policies the golden cases never put to the test.

A golden suite that passes says nothing about a policy no case reaches: it
could be deleted, or inverted, and every case would still pass. After the
golden cases run, this lists per bundle:

- **policies never determining**: in no case's decision was the policy among
  a holder's determining policies;
- **gates never exercised**: no case required the gate's office, and no case
  gave an approval that lifted it (found by deciding a case with approvals
  again without them, and seeing the gate required then).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clearance.core.decision import Decision, Outcome
from clearance.core.request import parse_request
from clearance.policy.bundle import PolicyBundle
from clearance.policy.engine import Screener
from clearance.policy.golden import CaseResult

__all__ = ["BundleCoverage", "coverage"]


@dataclass(frozen=True, slots=True)
class BundleCoverage:
    bundle: PolicyBundle
    never_determining: tuple[str, ...]
    gates_never_exercised: tuple[tuple[str, str], ...]
    """``(policy id, office)`` of each gate no golden case required or lifted."""

    @property
    def complete(self) -> bool:
        return not self.never_determining and not self.gates_never_exercised

    def as_dict(self) -> dict[str, Any]:
        return {
            "holder": self.bundle.holder,
            "folder": self.bundle.folder,
            "effective_from": self.bundle.effective_from.isoformat(),
            "revision": self.bundle.revision,
            "policies": len(self.bundle.policies),
            "never_determining": list(self.never_determining),
            "gates_never_exercised": [
                {"policy": p, "authority": a} for p, a in self.gates_never_exercised
            ],
        }


def _determining(decision: Decision) -> set[tuple[str, str]]:
    """``(bundle revision, HOLDER/policy-id)`` of every policy that decided a holder's answer."""
    return {(j.bundle, r) for j in decision.judgements if j.bundle for r in j.reasons}


def _gates_required(decision: Decision) -> set[tuple[str, str]]:
    return {
        (j.bundle, r)
        for j in decision.judgements
        if j.bundle and j.outcome is Outcome.REVIEW_REQUIRED
        for r in j.reasons
    }


def _lifted(screener: Screener, result: CaseResult, now: dt.datetime) -> set[tuple[str, str]]:
    """Gates the case's approvals lifted: required when the case is decided without them."""
    case = result.case
    if not case.approvals or result.decision is None:  # pragma: no mutate
        return set()
    bare = screener.decide(
        parse_request(case.request),
        decision_id=f"coverage:{case.id}",  # pragma: no mutate
        now=now,  # pragma: no mutate
        as_of=case.as_of,
    )
    found = set()
    for revision, reason in _gates_required(bare):
        bundle = screener.history.by_revision(revision)
        policy = bundle.policy(reason.split("/", 1)[1]) if bundle else None  # pragma: no mutate
        if (
            policy is not None  # pragma: no mutate
            and policy.gate
            and policy.gate.authority in case.approvals
        ):
            found.add((revision, reason))
    return found


def coverage(
    screener: Screener, results: Iterable[CaseResult], *, now: dt.datetime
) -> list[BundleCoverage]:
    """Every bundle of the pack, with what the golden ``results`` never reached."""
    determining: set[tuple[str, str]] = set()
    exercised: set[tuple[str, str]] = set()
    for result in results:
        if result.decision is None:
            continue
        determining |= _determining(result.decision)
        lifted = _lifted(screener, result, now)  # pragma: no mutate
        exercised |= _gates_required(result.decision) | lifted
    report = []
    for bundle in screener.history:
        keys = {p.id: (bundle.revision, f"{bundle.holder}/{p.id}") for p in bundle.policies}
        report.append(
            BundleCoverage(
                bundle,
                tuple(p.id for p in bundle.policies if keys[p.id] not in determining),
                tuple(
                    (p.id, p.gate.authority)
                    for p in bundle.policies
                    if p.gate is not None and keys[p.id] not in exercised
                ),
            )
        )
    return report
