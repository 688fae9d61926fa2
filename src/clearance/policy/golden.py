"""Golden cases: requests with the decision they must get, kept as data in the pack.

A case file (``cases/*.yaml``) holds a list under ``cases``::

    cases:
      - id: G2
        title: ATACMS inside Russia under the review mechanism
        request: {action: employ, requester: UA, system: atacms, quantity: 2,
                  target: {territory: RU}, date: 2025-06-15}
        expect:
          outcome: review_required
          required_approvals: [{authority: us.secdef, delegable: false}]

Only the expectations a case states are checked. ``consent_holders``,
``required_approvals``, ``conditions`` and ``reasons`` must match exactly;
``holder_paths`` lists paths that must be among the holder's paths;
``not_consent_holders`` lists parties that must not hold consent;
``stockpile`` (``now``, ``after``: ``green``/``yellow``/``red``, or ``untracked``)
is the giver's rating the decision saw, from the pack's opening figures.
``waiting_period`` (``days`` and ``ends_on``, the period's last day, or ``none``) is
the legislature's waiting period the decision records: execution must be refused on
``ends_on`` and allowed the day after, which is checked too.
``notes`` lists texts each of which some holder's note must contain.
``as_of`` judges under another date; ``approvals`` lists offices that have
already approved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearance.core.decision import Decision, Outcome
from clearance.core.request import IsoDate, parse_request
from clearance.core.stockpile import Rating
from clearance.errors import ClearanceError, PackError
from clearance.policy.engine import Screener
from clearance.policy.locations import pydantic_location
from clearance.policy.pack import read_yaml

__all__ = ["CaseResult", "GoldenCase", "load_cases", "run_cases"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Approval(_Model):
    authority: str
    delegable: bool


class _Stockpile(_Model):
    now: Rating | None = None
    after: Rating | None = None


class _Waiting(_Model):
    days: int
    ends_on: IsoDate


class Expectation(_Model):
    outcome: Outcome
    consent_holders: tuple[str, ...] | None = None
    not_consent_holders: tuple[str, ...] = ()
    required_approvals: tuple[_Approval, ...] | None = None
    conditions: tuple[str, ...] | None = None
    reasons: tuple[str, ...] | None = None
    holder_paths: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    stockpile: _Stockpile | Literal["untracked"] | None = None
    waiting_period: _Waiting | Literal["none"] | None = None
    notes: tuple[str, ...] = ()


class GoldenCase(_Model):
    id: str
    title: str = ""
    request: dict[str, Any]
    as_of: IsoDate | None = None
    approvals: tuple[str, ...] = ()
    expect: Expectation


class _CaseFile(_Model):
    cases: tuple[GoldenCase, ...]


@dataclass(frozen=True, slots=True)
class Mismatch:
    field: str
    expected: object
    got: object


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: GoldenCase
    file: str
    decision: Decision | None
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


def load_cases(path: Path, name: str) -> list[GoldenCase]:
    """Read one case file; an error names the file and the case's place in it."""
    data = read_yaml(path, name)
    if data is None:
        return []
    try:
        cases = list(_CaseFile.model_validate(data).cases)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = {
            "extra_forbidden": "is not a known field",
            "value_error": str(error.get("ctx", {}).get("error")),
        }.get(error["type"], error["msg"])
        raise PackError(name, pydantic_location(error["loc"]) or "(top level)", message) from None
    seen: set[str] = set()
    for index, case in enumerate(cases):
        if case.id in seen:
            raise PackError(name, f"cases[{index}].id", f"duplicate case id '{case.id}'")
        seen.add(case.id)
    return cases


def _compare(case: GoldenCase, decision: Decision) -> list[Mismatch]:
    want = case.expect
    found: list[Mismatch] = []

    def check(field: str, expected: object, got: object) -> None:
        if expected is not None and expected != got:
            found.append(Mismatch(field, expected, got))

    check("outcome", want.outcome.value, decision.outcome.value)
    check("consent_holders", _sorted(want.consent_holders), sorted(decision.consent_holders))
    approvals = decision.as_dict()["required_approvals"]
    if want.required_approvals is not None:
        check("required_approvals", [a.model_dump() for a in want.required_approvals], approvals)
    check("conditions", _sorted(want.conditions), sorted(decision.conditions))
    check("reasons", _sorted(want.reasons), sorted(decision.reasons))
    for party in want.not_consent_holders:
        if party in decision.consent_holders:
            found.append(Mismatch("not_consent_holders", f"{party} not a holder", "holder"))
    _compare_stockpile(want, decision, found)
    _compare_waiting(want, decision, found)
    said = [n for j in decision.judgements for n in j.notes]
    for text in want.notes:
        if not any(text in note for note in said):
            found.append(Mismatch("notes", text, said))
    paths = decision.as_dict()["holder_paths"]
    for party, expected_paths in want.holder_paths.items():
        missing = [p for p in expected_paths if p not in paths.get(party, [])]
        if missing:
            found.append(Mismatch(f"holder_paths.{party}", missing, paths.get(party, [])))
    return found


def _compare_stockpile(want: Expectation, decision: Decision, found: list[Mismatch]) -> None:
    facts = decision.stockpile
    if want.stockpile == "untracked":
        if facts is not None:
            found.append(Mismatch("stockpile", "untracked", f"{facts.now} → {facts.after}"))
    elif want.stockpile is not None:
        if facts is None:
            found.append(Mismatch("stockpile", want.stockpile.model_dump(), "untracked"))
            return
        for name in ("now", "after"):
            expected = getattr(want.stockpile, name)
            if expected is not None and expected is not getattr(facts, name):
                found.append(
                    Mismatch(f"stockpile.{name}", expected.value, getattr(facts, name).value)
                )


def _compare_waiting(want: Expectation, decision: Decision, found: list[Mismatch]) -> None:
    period = decision.waiting_period
    if want.waiting_period == "none":
        if period is not None:
            found.append(Mismatch("waiting_period", "none", period.describe()))
        return
    if want.waiting_period is None:
        return
    if period is None:
        found.append(Mismatch("waiting_period", want.waiting_period.model_dump(), "none"))
        return
    expected = want.waiting_period
    got = {"days": period.days, "ends_on": period.ends_on}
    if got != expected.model_dump():
        found.append(Mismatch("waiting_period", expected.model_dump(), got))
    last, after = expected.ends_on, expected.ends_on + dt.timedelta(days=1)
    if not period.blocks(last) or period.blocks(after):
        found.append(
            Mismatch("waiting_period", f"refused on {last}, allowed on {after}", period.describe())
        )


def _sorted(items: tuple[str, ...] | None) -> list[str] | None:
    return None if items is None else sorted(items)


def run_cases(screener: Screener, *, now: dt.datetime) -> list[CaseResult]:
    """Run every golden case of the screener's pack, in file order."""
    pack = screener.pack
    results: list[CaseResult] = []
    for path in pack.case_files:
        name = pack.relative(path)
        for case in load_cases(path, name):
            try:
                request = parse_request(case.request)
                decision = screener.decide(
                    request,
                    decision_id=f"golden:{case.id}",
                    now=now,
                    as_of=case.as_of,
                    approvals=case.approvals,
                )
            except ClearanceError as exc:
                mismatch = Mismatch("request", "a valid request", str(exc))
                results.append(CaseResult(case, name, None, (mismatch,)))
                continue
            results.append(CaseResult(case, name, decision, tuple(_compare(case, decision))))
    return results
