"""Which policies the golden cases never put to the test, stated on the pure code
(``policy.coverage``).

``test_coverage`` runs the seed pack with chosen cases; these give the
report hand-made results over two small bundles and state each rule exactly:
a policy counts as determining only for its own bundle, a gate is exercised
when a case requires it or an approval of the case lifts it, a case with no
decision counts for nothing, and the report's JSON form.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from clearance.core.catalog import Catalog
from clearance.core.decision import Outcome
from clearance.core.request import parse_request
from clearance.policy.bundle import BundleFiles, PolicyBundle, build_bundle
from clearance.policy.coverage import BundleCoverage, coverage
from clearance.policy.engine import Screener
from clearance.policy.golden import CaseResult, GoldenCase, Mismatch
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, default_pack_path

SCHEMA = (default_pack_path() / "schema.cedarschema").read_text(encoding="utf-8")
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PERMIT = '@id("permit")\npermit (principal, action, resource);'
NEVER_RU = (
    '@id("no-ru")\nforbid (principal, action, resource)'
    ' when { context has target && context.target.territory == Party::"RU" };'
)


def gate(office: str) -> str:
    return (
        f'@id("gate-{office}")\n@gate("{office}")\nforbid (principal, action, resource)'
        f' when {{ context has target && context.target.territory == Party::"BY" }}'
        f' unless {{ context.approvals.contains(Authority::"{office}") }};'
    )


@pytest.fixture(scope="module")
def catalog(seed_pack: ScenarioPack) -> Catalog:
    return seed_pack.catalog


def make_bundle(catalog: Catalog, day: str, *policies: str) -> PolicyBundle:
    folder = f"bundles/US/{day}"
    files = BundleFiles(
        meta_file=f"{folder}/bundle.yaml",
        meta={"holder": "US", "effective_from": day, "title": "t"},
        policy_files=((f"{folder}/p.cedar", "\n\n".join(policies) + "\n"),),
        schema_file="schema.cedarschema",
        schema_text=SCHEMA,
    )
    return build_bundle(files, catalog, folder)


@pytest.fixture(scope="module")
def bundles(catalog: Catalog) -> tuple[PolicyBundle, PolicyBundle]:
    return (
        make_bundle(catalog, "2020-01-01", PERMIT, NEVER_RU, gate("us.secdef"), gate("us.usdp")),
        make_bundle(catalog, "2030-01-01", PERMIT, gate("us.secdef")),
    )


@pytest.fixture(scope="module")
def screener(catalog: Catalog, bundles: tuple[PolicyBundle, PolicyBundle]) -> Screener:
    pack = ScenarioPack(
        root=Path("rules"),
        name="rules",
        description="",
        catalog=catalog,
        history=BundleHistory(bundles),
        case_files=(),
    )
    return Screener(pack)


def one_bundle_screener(catalog: Catalog, *policies: str) -> Screener:
    bundle = make_bundle(catalog, "2020-01-01", *policies)
    pack = ScenarioPack(
        root=Path("rules"),
        name="rules",
        description="",
        catalog=catalog,
        history=BundleHistory((bundle,)),
        case_files=(),
    )
    return Screener(pack)


def result(
    screener: Screener,
    territory: str,
    approvals: tuple[str, ...] = (),
    date: str = "2025-06-15",
    decided: bool = True,
    as_of: str | None = None,
) -> CaseResult:
    data: dict[str, Any] = {
        "action": "employ",
        "requester": "UA",
        "system": "atacms",
        "quantity": 2,
        "target": {"territory": territory},
        "date": date,
    }
    case = GoldenCase.model_validate(
        {
            "id": f"{territory}-{len(approvals)}",
            "request": data,
            "approvals": approvals,
            "as_of": as_of,
            "expect": {"outcome": "permitted"},
        }
    )
    if not decided:
        return CaseResult(case, "cases.yaml", None, (Mismatch("request", "a", "b"),))
    decision = screener.decide(
        parse_request(data), decision_id="g", now=NOW, approvals=approvals, as_of=case.as_of
    )
    return CaseResult(case, "cases.yaml", decision, ())


def test_with_no_results_every_policy_and_gate_is_untouched(
    screener: Screener, bundles: tuple[PolicyBundle, PolicyBundle]
) -> None:
    first, second = coverage(screener, [], now=NOW)
    assert first.bundle is bundles[0]
    assert first.never_determining == ("permit", "no-ru", "gate-us.secdef", "gate-us.usdp")
    assert first.gates_never_exercised == (
        ("gate-us.secdef", "us.secdef"),
        ("gate-us.usdp", "us.usdp"),
    )
    assert not first.complete
    assert second.never_determining == ("permit", "gate-us.secdef")


def test_a_policy_determines_for_its_own_bundle_only(
    screener: Screener, bundles: tuple[PolicyBundle, PolicyBundle]
) -> None:
    first, second = coverage(screener, [result(screener, "UA"), result(screener, "RU")], now=NOW)
    assert first.never_determining == ("gate-us.secdef", "gate-us.usdp")
    assert second.never_determining == ("permit", "gate-us.secdef")


def test_a_gate_required_by_a_case_is_exercised_and_determining(screener: Screener) -> None:
    (first, _) = coverage(screener, [result(screener, "BY")], now=NOW)
    assert first.never_determining == ("permit", "no-ru")
    assert first.gates_never_exercised == ()


def test_a_gate_lifted_by_the_case_s_approval_is_exercised_but_not_determining(
    screener: Screener,
) -> None:
    """Lifted: required when the case is decided again without its approvals. An approval
    of an office whose gate the bare case does not require lifts nothing."""
    (first, _) = coverage(screener, [result(screener, "BY", ("us.secdef", "us.usdp"))], now=NOW)
    assert first.never_determining == ("no-ru", "gate-us.secdef", "gate-us.usdp")
    assert first.gates_never_exercised == ()
    (only, _) = coverage(screener, [result(screener, "UA", ("us.secdef",))], now=NOW)
    assert only.gates_never_exercised == (
        ("gate-us.secdef", "us.secdef"),
        ("gate-us.usdp", "us.usdp"),
    )


def test_a_gate_lifted_under_a_later_bundle_counts_for_that_bundle(screener: Screener) -> None:
    first, second = coverage(
        screener, [result(screener, "BY", ("us.secdef",), date="2030-06-01")], now=NOW
    )
    assert second.gates_never_exercised == ()
    assert second.never_determining == ("gate-us.secdef",)
    assert first.gates_never_exercised == (
        ("gate-us.secdef", "us.secdef"),
        ("gate-us.usdp", "us.usdp"),
    )


def test_a_gate_lifted_is_found_under_the_bundle_in_force_on_the_case_s_as_of_date(
    screener: Screener,
) -> None:
    """Decided again without its approvals as of the date the case is judged on, not its
    request's date: there the later bundle is in force, and its gate is the one lifted."""
    first, second = coverage(
        screener, [result(screener, "BY", ("us.secdef",), as_of="2030-06-01")], now=NOW
    )
    assert second.gates_never_exercised == ()
    assert first.gates_never_exercised == (
        ("gate-us.secdef", "us.secdef"),
        ("gate-us.usdp", "us.usdp"),
    )


def test_a_case_with_no_decision_counts_for_nothing_and_the_rest_still_count(
    screener: Screener,
) -> None:
    (first, _) = coverage(
        screener,
        [result(screener, "BY", ("us.secdef",), decided=False), result(screener, "RU")],
        now=NOW,
    )
    assert first.never_determining == ("permit", "gate-us.secdef", "gate-us.usdp")
    assert len(first.gates_never_exercised) == 2


def test_a_case_with_no_decision_counts_for_nothing(screener: Screener) -> None:
    (first, _) = coverage(
        screener, [result(screener, "BY", ("us.secdef",), decided=False)], now=NOW
    )
    assert first.never_determining == ("permit", "no-ru", "gate-us.secdef", "gate-us.usdp")
    assert len(first.gates_never_exercised) == 2


def test_a_bundle_every_case_reaches_is_complete_and_reported_as_json(
    screener: Screener, bundles: tuple[PolicyBundle, PolicyBundle]
) -> None:
    results = [
        result(screener, "UA"),
        result(screener, "RU"),
        result(screener, "BY", ("us.usdp",)),
        result(screener, "BY", ("us.secdef",)),
    ]
    first, second = coverage(screener, results, now=NOW)
    assert first.complete
    assert first.as_dict() == {
        "holder": "US",
        "folder": "bundles/US/2020-01-01",
        "effective_from": "2020-01-01",
        "revision": bundles[0].revision,
        "policies": 4,
        "never_determining": [],
        "gates_never_exercised": [],
    }
    assert second.as_dict()["gates_never_exercised"] == [
        {"policy": "gate-us.secdef", "authority": "us.secdef"}
    ]
    assert BundleCoverage(bundles[1], (), (("g", "o"),)).complete is False
    assert BundleCoverage(bundles[1], ("p",), ()).complete is False


def test_a_gate_whose_id_holds_a_slash_is_found_lifted(catalog: Catalog) -> None:
    """A reason is the holder, a slash and the policy's id, and an id may hold slashes of its
    own: the id is everything after the first."""
    slashed = gate("us.secdef").replace('@id("gate-us.secdef")', '@id("gate/us/secdef")')
    own = one_bundle_screener(catalog, PERMIT, slashed)
    (only,) = coverage(own, [result(own, "BY", ("us.secdef",))], now=NOW)
    assert only.gates_never_exercised == ()
    (untouched,) = coverage(own, [], now=NOW)
    assert untouched.gates_never_exercised == (("gate/us/secdef", "us.secdef"),)


def test_a_gate_of_a_case_no_approval_could_let_through_is_not_exercised(
    catalog: Catalog,
) -> None:
    """Past a gate nothing permits the case: the judgement is prohibited, with the gate as
    its reason, and asks no office to approve. The gate was not put to the test."""
    own = one_bundle_screener(catalog, gate("us.secdef"))
    prohibited = result(own, "BY")
    assert prohibited.decision is not None
    (judgement,) = prohibited.decision.judgements
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ("US/gate-us.secdef",)
    (only,) = coverage(own, [prohibited], now=NOW)
    assert only.gates_never_exercised == (("gate-us.secdef", "us.secdef"),)
    assert only.never_determining == ()
