"""How a golden case is read and checked against its decision, stated on the pure code
(``policy.golden``).

``test_golden`` runs the seed's cases, which all pass; these state what each
expectation checks, with cases written in memory against decisions of the seed
pack: the exact mismatch each wrong expectation gives, what an expectation
left out does not check, and how a case file is refused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from clearance.core.decision import Decision
from clearance.core.request import parse_request
from clearance.errors import PackError
from clearance.policy.engine import Screener
from clearance.policy.golden import GoldenCase, Mismatch, _compare, load_cases, run_cases
from clearance.policy.pack import ScenarioPack

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
STRIKE = {
    "action": "employ",
    "requester": "UA",
    "system": "storm-shadow",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
SALE = {
    "action": "transfer",
    "requester": "US",
    "recipient": "GB",
    "system": "atacms",
    "quantity": 100,
    "value_usd": 30_000_000,
    "date": "2025-09-15",
}


def case(request: dict[str, Any], **expect: Any) -> GoldenCase:
    return GoldenCase.model_validate({"id": "C", "request": request, "expect": expect})


def decide(screener: Screener, request: dict[str, Any], **kwargs: Any) -> Decision:
    return screener.decide(parse_request(request), decision_id="golden:C", now=NOW, **kwargs)


def mismatches(screener: Screener, request: dict[str, Any], **expect: Any) -> list[Mismatch]:
    return _compare(case(request, **expect), decide(screener, request))


def test_a_case_that_states_only_its_outcome_checks_only_that(screener: Screener) -> None:
    assert mismatches(screener, STRIKE, outcome="review_required") == []
    assert mismatches(screener, STRIKE, outcome="permitted") == [
        Mismatch("outcome", "permitted", "review_required")
    ]


def test_every_stated_expectation_of_a_right_case_passes(screener: Screener) -> None:
    assert (
        mismatches(
            screener,
            STRIKE,
            outcome="review_required",
            consent_holders=["US", "GB", "FR"],
            not_consent_holders=["UA", "DE"],
            required_approvals=[{"authority": "us.secdef", "delegable": False}],
            conditions=[],
            reasons=["US/us-review-mechanism"],
            holder_paths={"GB": ["storm-shadow → origin → GB"], "FR": []},
            waiting_period="none",
        )
        == []
    )


def test_each_wrong_list_expectation_is_a_mismatch_with_both_sides_sorted(
    screener: Screener,
) -> None:
    assert mismatches(
        screener,
        STRIKE,
        outcome="review_required",
        consent_holders=["US", "GB"],
        required_approvals=[{"authority": "us.secdef", "delegable": True}],
        conditions=["b", "a"],
        reasons=["US/x"],
    ) == [
        Mismatch("consent_holders", ["GB", "US"], ["FR", "GB", "US"]),
        Mismatch(
            "required_approvals",
            [{"authority": "us.secdef", "delegable": True}],
            [{"authority": "us.secdef", "delegable": False}],
        ),
        Mismatch("conditions", ["a", "b"], []),
        Mismatch("reasons", ["US/x"], ["US/us-review-mechanism"]),
    ]


def test_a_party_that_must_not_hold_consent_but_does_is_a_mismatch(screener: Screener) -> None:
    assert mismatches(
        screener, STRIKE, outcome="review_required", not_consent_holders=["DE", "FR", "US"]
    ) == [
        Mismatch("not_consent_holders", "FR not a holder", "holder"),
        Mismatch("not_consent_holders", "US not a holder", "holder"),
    ]


def test_missing_holder_paths_are_a_mismatch_naming_the_party(screener: Screener) -> None:
    assert mismatches(
        screener,
        STRIKE,
        outcome="review_required",
        holder_paths={"GB": ["storm-shadow → origin → GB", "x"], "DE": ["y"]},
    ) == [
        Mismatch("holder_paths.GB", ["x"], ["storm-shadow → origin → GB"]),
        Mismatch("holder_paths.DE", ["y"], []),
    ]


def test_a_note_is_expected_as_a_part_of_some_holder_s_note(screener: Screener) -> None:
    request = {**STRIKE, "date": "2021-01-01"}
    decision = decide(screener, request)
    said = [n for j in decision.judgements for n in j.notes]
    assert said
    first = said[0]
    right = case(request, outcome=decision.outcome.value, notes=[first[3:20], first])
    assert _compare(right, decision) == []
    wrong = case(request, outcome=decision.outcome.value, notes=["never said"])
    assert _compare(wrong, decision) == [Mismatch("notes", "never said", said)]


def test_the_stockpile_ratings_seen_are_checked(screener: Screener) -> None:
    """``now`` and ``after`` are checked where stated; ``untracked`` wants none."""
    assert mismatches(screener, SALE, outcome="permitted", stockpile={"now": "green"}) == []
    assert mismatches(
        screener, SALE, outcome="permitted", stockpile={"now": "red", "after": "yellow"}
    ) == [Mismatch("stockpile.now", "red", "green"), Mismatch("stockpile.after", "yellow", "green")]
    assert mismatches(screener, SALE, outcome="permitted", stockpile="untracked") == [
        Mismatch("stockpile", "untracked", "green → green")
    ]
    assert mismatches(screener, STRIKE, outcome="review_required", stockpile="untracked") == []
    assert mismatches(screener, STRIKE, outcome="review_required", stockpile={"now": "red"}) == [
        Mismatch("stockpile", {"now": "red", "after": None}, "untracked")
    ]


def test_the_waiting_period_is_checked_with_its_last_day(screener: Screener) -> None:
    """Days and last day must match, and the period must refuse execution on its last day
    and allow it the day after."""
    right = {"days": 15, "ends_on": "2025-09-30"}
    assert mismatches(screener, SALE, outcome="permitted", waiting_period=right) == []
    assert mismatches(
        screener, SALE, outcome="permitted", waiting_period={"days": 15, "ends_on": "2025-10-01"}
    ) == [
        Mismatch(
            "waiting_period",
            {"days": 15, "ends_on": dt.date(2025, 10, 1)},
            {"days": 15, "ends_on": dt.date(2025, 9, 30)},
        ),
        Mismatch(
            "waiting_period",
            "refused on 2025-10-01, allowed on 2025-10-02",
            "United States Congress notified on 2025-09-15: waiting period of 15 days ends"
            " 2025-09-30; executable from 2025-10-01 unless us.president waives it",
        ),
    ]
    assert mismatches(
        screener, SALE, outcome="permitted", waiting_period={"days": 14, "ends_on": "2025-09-29"}
    )[1] == Mismatch(
        "waiting_period",
        "refused on 2025-09-29, allowed on 2025-09-30",
        "United States Congress notified on 2025-09-15: waiting period of 15 days ends"
        " 2025-09-30; executable from 2025-10-01 unless us.president waives it",
    )
    assert mismatches(screener, SALE, outcome="permitted", waiting_period="none") == [
        Mismatch(
            "waiting_period",
            "none",
            "United States Congress notified on 2025-09-15: waiting period of 15 days ends"
            " 2025-09-30; executable from 2025-10-01 unless us.president waives it",
        )
    ]
    assert mismatches(screener, STRIKE, outcome="review_required", waiting_period=right) == [
        Mismatch("waiting_period", {"days": 15, "ends_on": dt.date(2025, 9, 30)}, "none")
    ]


# --- case files --------------------------------------------------------------------------


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_empty_case_file_holds_no_cases(tmp_path: Path) -> None:
    assert load_cases(_file(tmp_path, ""), "cases.yaml") == []


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("[]\n", "(top level)", "Input should be a valid dictionary or instance of _CaseFile"),
        (
            "cases:\n  - {id: A, request: {}, expect: {outcome: permitted}, colour: red}\n",
            "cases[0].colour",
            "is not a known field",
        ),
        (
            "cases:\n  - {id: A, request: {}, expect: {outcome: maybe}}\n",
            "cases[0].expect.outcome",
            None,
        ),
        (
            "cases:\n  - {id: A, request: {}, as_of: '2025-02-30', expect: {outcome: permitted}}\n",
            "cases[0].as_of",
            "'2025-02-30' is not a date of the calendar",
        ),
        (
            "cases:\n  - {id: A, request: {}, as_of: 2025-02-30, expect: {outcome: permitted}}\n",
            "",
            "YAML does not parse: day is out of range for month",
        ),
        (
            "cases:\n  - {id: A, request: {}, expect: {outcome: permitted}}\n"
            "  - {id: B, request: {}, expect: {outcome: permitted}}\n"
            "  - {id: A, request: {}, expect: {outcome: permitted}}\n",
            "cases[2].id",
            "duplicate case id 'A'",
        ),
    ],
)
def test_a_wrong_case_file_is_refused_naming_the_place(
    tmp_path: Path, text: str, where: str, problem: str | None
) -> None:
    with pytest.raises(PackError) as refused:
        load_cases(_file(tmp_path, text), "cases/x.yaml")
    assert (refused.value.file, refused.value.where) == ("cases/x.yaml", where)
    if problem is not None:
        assert refused.value.problem == problem


def cases_screener(seed_pack: ScenarioPack, root: Path, case_file: Path) -> Screener:
    """A screener over the seed pack's catalog and bundles with one case file of its own."""
    pack = ScenarioPack(
        root=root,
        name="cases",
        description="",
        catalog=seed_pack.catalog,
        history=seed_pack.history,
        case_files=(case_file,),
    )
    return Screener(pack)


def test_cases_run_in_file_order_and_a_bad_request_is_a_mismatch(
    seed_pack: ScenarioPack, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        "cases:\n"
        "  - id: A\n"
        "    request: {action: employ, requester: UA, system: atacms, quantity: 2,"
        " target: {territory: RU}, date: 2025-06-15}\n"
        "    approvals: [us.secdef]\n"
        "    expect: {outcome: permitted}\n"
        "  - id: B\n"
        "    request: {action: employ, requester: UA, system: nope, quantity: 2,"
        " target: {territory: RU}, date: 2025-06-15}\n"
        "    expect: {outcome: permitted}\n"
        "  - id: C\n"
        "    as_of: 2021-01-01\n"
        "    request: {action: employ, requester: UA, system: atacms, quantity: 2,"
        " target: {territory: RU}, date: 2025-06-15}\n"
        "    expect: {outcome: permitted}\n",
    )
    results = run_cases(cases_screener(seed_pack, tmp_path, path), now=NOW)
    assert [(r.case.id, r.file, r.passed) for r in results] == [
        ("A", "cases.yaml", True),
        ("B", "cases.yaml", False),
        ("C", "cases.yaml", False),
    ]
    a, b, c = results
    assert a.decision is not None
    assert (a.decision.decision_id, a.decision.evaluated_at) == ("golden:A", NOW)
    assert b.decision is None
    (bad,) = b.mismatches
    assert (bad.field, bad.expected) == ("request", "a valid request")
    assert "nope" in str(bad.got)
    assert c.decision is not None
    assert c.decision.judged_as_of == dt.date(2021, 1, 1)
    assert c.mismatches == (Mismatch("outcome", "permitted", c.decision.outcome.value),)


def test_a_case_file_found_wrong_as_the_cases_run_is_named_as_the_pack_names_it(
    seed_pack: ScenarioPack, tmp_path: Path
) -> None:
    """A pack's case file can change between loading the pack and running its cases: the
    refusal names it by its place in the pack, as a failing case does."""
    folder = tmp_path / "cases"
    folder.mkdir()
    path = folder / "late.yaml"
    path.write_text(
        "cases:\n  - {id: A, request: {}, expect: {outcome: permitted}, colour: red}\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError) as refused:
        run_cases(cases_screener(seed_pack, tmp_path, path), now=NOW)
    assert (refused.value.file, refused.value.where) == ("cases/late.yaml", "cases[0].colour")
