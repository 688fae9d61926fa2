"""A decision explained for a person, stated on the pure code (``policy.explain``).

A holder's bundles over three years, built in memory, and one request judged
under each: the explanation names the bundle in force and its span, the
policies that decided with their text, file and line, and says in exact words
what would change the outcome, including how the holder's other bundles would
have answered.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from clearance.core.catalog import Catalog
from clearance.core.request import EmployRequest, parse_request
from clearance.policy.bundle import BundleFiles, PolicyBundle, build_bundle
from clearance.policy.engine import Screener
from clearance.policy.explain import explain
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, default_pack_path

SCHEMA = (default_pack_path() / "schema.cedarschema").read_text(encoding="utf-8")
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CONDITIONED = '@id("permit")\n@condition("report each use")\npermit (principal, action, resource);'
PERMIT = '@id("permit")\npermit (principal, action, resource);'
NEVER = '// no strikes at all\n@id("never")\nforbid (principal, action, resource);'


def gate(office: str, delegable: str) -> str:
    return (
        f'@id("gate-{office}")\n@gate("{office}")\n@delegable("{delegable}")\n'
        "forbid (principal, action, resource)"
        f' unless {{ context.approvals.contains(Authority::"{office}") }};'
    )


@pytest.fixture(scope="module")
def catalog(seed_pack: ScenarioPack) -> Catalog:
    return seed_pack.catalog


def make_bundle(
    catalog: Catalog, holder: str, day: str, title: str, *policies: str
) -> PolicyBundle:
    folder = f"bundles/{holder}/{day}"
    files = BundleFiles(
        meta_file=f"{folder}/bundle.yaml",
        meta={"holder": holder, "effective_from": day, "title": title, "illustrative": True},
        policy_files=((f"{folder}/p.cedar", "\n\n".join(policies) + "\n"),),
        schema_file="schema.cedarschema",
        schema_text=SCHEMA,
    )
    return build_bundle(files, catalog, folder)


@pytest.fixture(scope="module")
def history(catalog: Catalog) -> tuple[PolicyBundle, ...]:
    return (
        make_bundle(catalog, "US", "2020-01-01", "Open", CONDITIONED),
        make_bundle(
            catalog,
            "US",
            "2021-01-01",
            "Reviewed",
            PERMIT,
            gate("us.secdef", "false"),
            gate("us.usdp", "true"),
        ),
        make_bundle(catalog, "US", "2022-01-01", "Closed", NEVER),
    )


@pytest.fixture(scope="module")
def screener(catalog: Catalog, history: tuple[PolicyBundle, ...]) -> Screener:
    pack = ScenarioPack(
        root=Path("rules"),
        name="rules",
        description="",
        catalog=catalog,
        history=BundleHistory(history),
        case_files=(),
    )
    return Screener(pack)


def strike(date: str) -> EmployRequest:
    request = parse_request(
        {
            "action": "employ",
            "requester": "UA",
            "system": "atacms",
            "quantity": 2,
            "target": {"territory": "RU"},
            "date": date,
        }
    )
    assert isinstance(request, EmployRequest)
    return request


def explained(screener: Screener, date: str, **kwargs: Any) -> dict[str, Any]:
    request = strike(date)
    decision = screener.decide(request, decision_id="d", now=NOW, **kwargs)
    return explain(screener, request, decision).as_dict()


def test_a_review_is_explained_by_its_gates_and_the_other_bundles(
    screener: Screener, history: tuple[PolicyBundle, ...]
) -> None:
    opened, reviewed, closed = history
    found = explained(screener, "2021-06-01")
    (holder,) = found["holders"]
    assert holder == {
        "party": "US",
        "outcome": "review_required",
        "bundle": {
            "revision": reviewed.revision,
            "title": "Reviewed",
            "effective_from": "2021-01-01",
            "in_force_until": "2021-12-31",
            "illustrative": True,
        },
        "policies": [
            {
                "id": "gate-us.secdef",
                "effect": "forbid",
                "file": "bundles/US/2021-01-01/p.cedar",
                "line": 4,
                "text": reviewed.policies[1].statement.text,
            },
            {
                "id": "gate-us.usdp",
                "effect": "forbid",
                "file": "bundles/US/2021-01-01/p.cedar",
                "line": 9,
                "text": reviewed.policies[2].statement.text,
            },
        ],
        "notes": [],
        "under_other_bundles": [
            {
                "revision": opened.revision,
                "title": "Open",
                "effective_from": "2020-01-01",
                "in_force_until": "2020-12-31",
                "illustrative": True,
                "outcome": "permitted",
            },
            {
                "revision": closed.revision,
                "title": "Closed",
                "effective_from": "2022-01-01",
                "in_force_until": None,
                "illustrative": True,
                "outcome": "prohibited",
            },
        ],
    }
    assert found["what_would_change_it"] == [
        "Approval by us.secdef (personally; may not be delegated) would permit it.",
        "Approval by us.usdp (may be delegated) would permit it.",
        "Under US's policy 'Open' (2020-01-01 to 2020-12-31) US would have answered: permitted.",
        "Under US's policy 'Closed' (2022-01-01 to now) US would have answered: prohibited.",
    ]
    assert found["decision"]["outcome"] == "review_required"


def test_a_permit_with_a_condition_says_so_and_an_equal_bundle_is_not_listed(
    screener: Screener, history: tuple[PolicyBundle, ...]
) -> None:
    """Another bundle that answers the same is left out; an approved gate asks nothing."""
    found = explained(screener, "2020-06-01")
    (holder,) = found["holders"]
    assert holder["outcome"] == "permitted"
    assert [p["id"] for p in holder["policies"]] == ["permit"]
    assert [o["title"] for o in holder["under_other_bundles"]] == ["Reviewed", "Closed"]
    assert found["what_would_change_it"] == [
        "It is permitted only on condition: report each use.",
        "Under US's policy 'Reviewed' (2021-01-01 to 2021-12-31) US would have answered:"
        " review_required.",
        "Under US's policy 'Closed' (2022-01-01 to now) US would have answered: prohibited.",
    ]
    approved = explained(screener, "2021-06-01", approvals=["us.secdef", "us.usdp"])
    assert approved["holders"][0]["outcome"] == "permitted"
    assert [o["title"] for o in approved["holders"][0]["under_other_bundles"]] == ["Closed"]
    assert approved["what_would_change_it"] == [
        "Under US's policy 'Closed' (2022-01-01 to now) US would have answered: prohibited."
    ]


def test_a_prohibition_says_only_a_new_policy_could_lift_it(screener: Screener) -> None:
    found = explained(screener, "2023-01-01")
    (holder,) = found["holders"]
    assert holder["bundle"]["in_force_until"] is None
    assert holder["policies"][0]["line"] == 2
    assert holder["policies"][0]["text"].startswith("// no strikes at all\n")
    assert found["what_would_change_it"][0] == (
        "US/never forbids it and no approval lifts it; only a new US policy could."
    )
    assert len(found["what_would_change_it"]) == 3


def test_a_holder_with_no_bundle_in_force_is_explained_as_such(screener: Screener) -> None:
    found = explained(screener, "2019-06-01")
    (holder,) = found["holders"]
    assert (holder["bundle"], holder["policies"], holder["outcome"]) == (None, [], "prohibited")
    assert holder["notes"] == ["no policy of US is in force on 2019-06-01"]
    assert [o["title"] for o in holder["under_other_bundles"]] == ["Open", "Reviewed"]
    assert found["what_would_change_it"][0] == (
        "US has no policy in force on that date; nothing can permit it."
    )
