"""Two bundles of one holder compared, stated on the pure code (``policy.diff``).

The diff command and pages compare the seed's bundles over thousands of
requests; these use a catalog of one held system and hand-made probes, so every
count, group, example and line of the comparison can be stated exactly: which
requests are judged, how differences are grouped and sorted, what the sample
draws, and how the text diff of two bundles' files reads.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from clearance.core.catalog import Catalog
from clearance.core.regions import regions_of
from clearance.core.request import AnyRequest, parse_request
from clearance.errors import InputError, PackError
from clearance.policy.bundle import BundleFiles, PolicyBundle, build_bundle
from clearance.policy.diff import (
    QUANTITIES,
    SAMPLE,
    FileDiff,
    Probe,
    compare_bundles,
    diff_bundles,
    file_diffs,
    golden_probes,
    read_bundle,
    read_pair,
    sample_dates,
    sample_probes,
    text_diff,
    unified,
)
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, default_pack_path
from clearance.policy.stockfigures import StockFigures, load_stock_figures

SCHEMA = (default_pack_path() / "schema.cedarschema").read_text(encoding="utf-8")
PERMIT = '@id("permit")\npermit (principal, action, resource);'
NO_RU = (
    '@id("no-ru")\nforbid (principal, action, resource)'
    ' when { context has target && context.target.territory == Party::"RU" };'
)
GATE_TRANSFER = (
    '@id("gate")\n@gate("us.secdef")\nforbid (principal, action == Action::"transfer", resource)'
    ' unless { context.approvals.contains(Authority::"us.secdef") };'
)
CATALOG_DATA: dict[str, Any] = {
    "parties": [
        {"code": "US", "name": "United States"},
        {"code": "RU", "name": "Russia"},
        {"code": "UA", "name": "Ukraine"},
        {"code": "allies", "name": "Allies", "kind": "group", "members": ["UA"]},
    ],
    "authorities": [{"id": "us.secdef", "party": "US", "title": "Secretary"}],
    "systems": [
        {"id": "s1", "name": "S1", "origin": "US", "category": "missile", "range_km": 300},
        {"id": "s2", "name": "S2", "origin": "UA", "category": "missile", "range_km": 300},
    ],
    "zones": [
        {
            "id": "z",
            "name": "Z",
            "history": [{"effective_from": "2020-01-01", "regions": ["RU-BEL"]}],
        }
    ],
}
OLD_DAY, NEW_DAY = dt.date(2020, 1, 1), dt.date(2021, 1, 1)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.model_validate(CATALOG_DATA)


def make_bundle(catalog: Catalog, day: dt.date, *policies: str, holder: str = "US") -> PolicyBundle:
    folder = f"bundles/{holder}/{day.isoformat()}"
    files = BundleFiles(
        meta_file=f"{folder}/bundle.yaml",
        meta={"holder": holder, "effective_from": day, "title": "t"},
        policy_files=((f"{folder}/p.cedar", "\n\n".join(policies) + "\n"),),
        schema_file="schema.cedarschema",
        schema_text=SCHEMA,
    )
    return build_bundle(files, catalog, folder)


def make_screener(
    catalog: Catalog,
    *bundles: PolicyBundle,
    root: Path = Path("rules"),
    stock: StockFigures | None = None,
    cases: tuple[Path, ...] = (),
) -> Screener:
    pack = ScenarioPack(
        root=root,
        name="rules",
        description="",
        catalog=catalog,
        history=BundleHistory(bundles),
        case_files=cases,
        stock=stock or StockFigures(),
    )
    return Screener(pack)


def use(territory: str = "RU", region: str | None = None, system: str = "s1") -> AnyRequest:
    target: dict[str, Any] = {"territory": territory}
    if region is not None:
        target["region"] = region
    return parse_request(
        {
            "action": "employ",
            "requester": "UA",
            "system": system,
            "quantity": 1,
            "target": target,
            "date": "2025-06-15",
        }
    )


def give(recipient: str = "UA") -> AnyRequest:
    return parse_request(
        {
            "action": "transfer",
            "requester": "US",
            "recipient": recipient,
            "system": "s1",
            "quantity": 1,
            "date": "2025-06-15",
        }
    )


# --- comparing -------------------------------------------------------------------------


def test_differences_are_grouped_by_kind_counted_and_sorted(catalog: Catalog) -> None:
    """Only changed outcomes count; a group holds its count, its sources, the policies that
    decided each side, its first examples and its zones; groups come largest first."""
    old = make_bundle(catalog, OLD_DAY, PERMIT)
    new = make_bundle(catalog, NEW_DAY, PERMIT, NO_RU, GATE_TRANSFER)
    screener = make_screener(catalog, old, new)
    probes = [
        Probe("golden", "g1", use(region="RU-BEL")),
        Probe("sample", "s1", use()),
        Probe("stored", "c1", use(region="RU-MOW")),
        Probe("sample", "s2", use(territory="UA")),
        Probe("sample", "s3", give()),
        Probe("golden", "g2", give(), approvals=frozenset({"us.secdef"})),
        Probe("sample", "other", use(system="s2")),
    ]
    diff = compare_bundles(screener, (old, new), probes, text=["a\n"], examples=2)
    assert diff.judged == {"golden": 2, "sample": 3, "stored": 1}
    assert not diff.same_outcomes
    assert [(g.kind, g.count) for g in diff.groups] == [
        ("permitted → prohibited", 3),
        ("permitted → review_required", 1),
    ]
    banned, gated = diff.groups
    assert banned.by_source == {"golden": 1, "sample": 1, "stored": 1}
    assert banned.old_policies == {"US/permit": 3}
    assert banned.new_policies == {"US/no-ru": 3}
    assert [e.probe.label for e in banned.examples] == ["g1", "s1"]
    assert banned.by_zone == {"z": 1, "outside every zone": 1}
    assert gated.as_dict() == {
        "kind": "permitted → review_required",
        "count": 1,
        "by_source": {"sample": 1},
        "old_policies": {"US/permit": 1},
        "new_policies": {"US/gate": 1},
        "by_zone": {},
        "examples": [
            {
                "source": "sample",
                "label": "s3",
                "request": give().model_dump(mode="json", exclude_none=True),
                "approvals": [],
                "old": {"outcome": "permitted", "reasons": ["US/permit"], "notes": []},
                "new": {"outcome": "review_required", "reasons": ["US/gate"], "notes": []},
            }
        ],
    }
    assert diff.as_dict() == {
        "old": {
            "holder": "US",
            "folder": "bundles/US/2020-01-01",
            "effective_from": "2020-01-01",
            "revision": old.revision,
        },
        "new": {
            "holder": "US",
            "folder": "bundles/US/2021-01-01",
            "effective_from": "2021-01-01",
            "revision": new.revision,
        },
        "text_diff": "a\n",
        "judged": {"golden": 2, "sample": 3, "stored": 1},
        "changed": 4,
        "changes": [banned.as_dict(), gated.as_dict()],
    }


def test_groups_of_one_size_are_sorted_by_kind(catalog: Catalog) -> None:
    old = make_bundle(catalog, OLD_DAY, PERMIT)
    new = make_bundle(catalog, NEW_DAY, PERMIT, NO_RU, GATE_TRANSFER)
    diff = compare_bundles(
        make_screener(catalog, old, new),
        (old, new),
        [Probe("sample", "b", give()), Probe("sample", "a", use())],
        text=[],
    )
    assert [g.kind for g in diff.groups] == [
        "permitted → prohibited",
        "permitted → review_required",
    ]
    assert diff.as_dict()["changed"] == 2
    assert diff.groups[0].examples[0].as_dict()["approvals"] == []


def test_the_same_bundle_compared_changes_nothing_and_counts_every_judged_probe(
    catalog: Catalog,
) -> None:
    old = make_bundle(catalog, OLD_DAY, PERMIT, NO_RU)
    diff = compare_bundles(
        make_screener(catalog, old),
        (old, old),
        [Probe("golden", "g", use()), Probe("golden", "h", give())],
        text=[],
    )
    assert diff.same_outcomes
    assert diff.groups == ()
    assert diff.judged == {"golden": 2}
    assert diff.as_dict()["changed"] == 0


def test_approvals_of_a_probe_reach_both_sides(catalog: Catalog) -> None:
    old = make_bundle(catalog, OLD_DAY, PERMIT)
    new = make_bundle(catalog, NEW_DAY, PERMIT, GATE_TRANSFER)
    diff = compare_bundles(
        make_screener(catalog, old, new),
        (old, new),
        [Probe("golden", "g", give(), approvals=frozenset({"us.secdef"}))],
        text=[],
    )
    assert diff.same_outcomes
    reverse = compare_bundles(
        make_screener(catalog, old, new),
        (new, old),
        [Probe("golden", "g", give())],
        text=[],
    )
    (group,) = reverse.groups
    assert group.kind == "review_required → permitted"
    assert group.examples[0].kind == "review_required → permitted"


def test_probes_are_judged_on_their_own_date_whatever_the_bundles(catalog: Catalog) -> None:
    """A probe dated before either bundle is still judged by both (``judge_under``)."""
    old = make_bundle(catalog, dt.date(2030, 1, 1), PERMIT)
    new = make_bundle(catalog, dt.date(2031, 1, 1), NO_RU)
    diff = compare_bundles(
        make_screener(catalog, old, new), (old, new), [Probe("golden", "g", use())], text=[]
    )
    assert [g.kind for g in diff.groups] == ["permitted → prohibited"]


# --- the sample --------------------------------------------------------------------------


def test_sample_dates_are_the_first_days_and_a_year_after_the_later(catalog: Catalog) -> None:
    old = make_bundle(catalog, dt.date(2021, 3, 1), PERMIT)
    new = make_bundle(catalog, dt.date(2020, 2, 29), PERMIT)
    assert sample_dates((old, new)) == [
        dt.date(2021, 3, 1),
        dt.date(2020, 2, 29),
        dt.date(2022, 3, 1),
    ]


def test_a_sample_larger_than_the_space_takes_all_of_it_in_order(catalog: Catalog) -> None:
    """Every held system × requesting state × target (each region a zone names, one no zone
    names, none) × day for uses, and × recipient × funding (or none) × day for transfers."""
    screener = make_screener(catalog, make_bundle(catalog, OLD_DAY, PERMIT))
    day = dt.date(2025, 6, 15)
    probes = sample_probes(screener, "US", [day, day], count=10_000, seed=1)
    deep = next(r for r in regions_of("RU") if r != "RU-BEL")
    states = ["US", "RU", "UA"]
    regions: dict[str, list[str | None]] = {
        "US": [None],
        "RU": [None, "RU-BEL", deep],
        "UA": [None],
    }
    expected: list[tuple[Any, ...]] = [
        ("employ", r, t, region) for r in states for t in states for region in regions[t]
    ]
    expected += [
        ("transfer", r, t, f)
        for r in states
        for t in states
        for f in [None, "US", "RU", "UA", "allies"]
    ]
    got = []
    for p in probes:
        data = p.request.model_dump(mode="json", exclude_none=True)
        if data["action"] == "employ":
            got.append(
                (
                    "employ",
                    data["requester"],
                    data["target"]["territory"],
                    data["target"].get("region"),
                )
            )
        else:
            got.append(("transfer", data["requester"], data["recipient"], data.get("funding")))
    assert got == expected
    assert [p.label for p in probes] == [f"sample {n}" for n in range(1, len(expected) + 1)]
    assert {p.source for p in probes} == {"sample"}
    assert {p.request.system for p in probes} == {"s1"}
    assert {p.request.date for p in probes} == {day}
    assert {p.request.quantity for p in probes} <= set(QUANTITIES)
    assert len({p.request.quantity for p in probes}) > 1
    assert all(p.approvals == frozenset() and p.stockpile is None for p in probes)


def test_a_sample_draws_count_requests_the_same_for_the_same_seed(catalog: Catalog) -> None:
    screener = make_screener(catalog, make_bundle(catalog, OLD_DAY, PERMIT))
    days = [dt.date(2025, 6, 15), dt.date(2024, 1, 1)]
    first = sample_probes(screener, "US", days, count=20, seed=7)
    assert len(first) == 20
    assert first == sample_probes(screener, "US", days, count=20, seed=7)
    assert first != sample_probes(screener, "US", days, count=20, seed=8)
    everything = sample_probes(screener, "US", days, count=10_000, seed=7)
    assert len(everything) == 2 * (15 + 45)
    assert {p.request for p in first} <= {
        p.request.model_copy(update={"quantity": q}) for p in everything for q in QUANTITIES
    }
    assert SAMPLE == 2000


def test_a_holder_of_no_system_samples_nothing(catalog: Catalog) -> None:
    screener = make_screener(catalog, make_bundle(catalog, OLD_DAY, PERMIT))
    assert sample_probes(screener, "RU", [OLD_DAY], count=50, seed=1) == []


def test_a_sampled_transfer_from_a_tracked_position_carries_its_facts(catalog: Catalog) -> None:
    stock = load_stock_figures(
        {"opened_on": "2020-01-01", "positions": [{"holder": "US", "system": "s1", "on_hand": 9}]},
        catalog,
    )
    screener = make_screener(catalog, make_bundle(catalog, OLD_DAY, PERMIT), stock=stock)
    probes = sample_probes(screener, "US", [OLD_DAY], count=10_000, seed=1)
    tracked = [p for p in probes if p.request.action == "transfer" and p.request.requester == "US"]
    assert tracked
    for probe in tracked:
        assert probe.stockpile == screener.stockpile_facts(probe.request, OLD_DAY)
        assert probe.stockpile is not None
    assert all(p.stockpile is None for p in probes if p not in tracked)


def test_a_territory_no_zone_touches_is_sampled_without_a_region(catalog: Catalog) -> None:
    bare = Catalog.model_validate({**CATALOG_DATA, "zones": []})
    screener = make_screener(bare, make_bundle(bare, OLD_DAY, PERMIT))
    probes = sample_probes(screener, "US", [OLD_DAY], count=10_000, seed=1)
    uses = [p for p in probes if p.request.action == "employ"]
    assert len(uses) == 9
    assert all(p.request.model_dump()["target"]["region"] is None for p in uses)


# --- golden probes -----------------------------------------------------------------------


def test_golden_probes_are_the_valid_cases_with_their_approvals(
    catalog: Catalog, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "cases:\n"
        "  - id: A\n"
        "    request: {action: employ, requester: UA, system: s1, quantity: 1,"
        " target: {territory: RU}, date: 2025-06-15}\n"
        "    approvals: [us.secdef]\n"
        "    expect: {outcome: permitted}\n"
        "  - id: B\n"
        "    request: {action: employ, requester: UA, system: nope, quantity: 1,"
        " target: {territory: RU}, date: 2025-06-15}\n"
        "    expect: {outcome: permitted}\n"
        "  - id: C\n"
        "    request: {action: transfer}\n"
        "    expect: {outcome: permitted}\n"
        "  - id: D\n"
        "    as_of: 2020-01-01\n"
        "    request: {action: transfer, requester: US, recipient: UA, system: s1, quantity: 1,"
        " date: 2025-06-15}\n"
        "    expect: {outcome: permitted}\n",
        encoding="utf-8",
    )
    stock = load_stock_figures(
        {"opened_on": "2020-01-01", "positions": [{"holder": "US", "system": "s1", "on_hand": 9}]},
        catalog,
    )
    screener = make_screener(
        catalog, make_bundle(catalog, OLD_DAY, PERMIT), root=tmp_path, stock=stock, cases=(cases,)
    )
    probes = list(golden_probes(screener))
    assert [(p.source, p.label, p.approvals) for p in probes] == [
        ("golden", "A", frozenset({"us.secdef"})),
        ("golden", "D", frozenset()),
    ]
    assert probes[0].request == use()
    assert probes[0].stockpile is None
    assert probes[1].stockpile == screener.stockpile_facts(probes[1].request, OLD_DAY)
    assert probes[1].stockpile is not None


def test_a_case_file_that_cannot_be_read_is_named_as_the_pack_names_it(
    catalog: Catalog, tmp_path: Path
) -> None:
    (tmp_path / "cases").mkdir()
    cases = tmp_path / "cases" / "broken.yaml"
    cases.write_text("cases: 5\n", encoding="utf-8")
    screener = make_screener(
        catalog, make_bundle(catalog, OLD_DAY, PERMIT), root=tmp_path, cases=(cases,)
    )
    with pytest.raises(PackError) as refused:
        list(golden_probes(screener))
    assert str(refused.value).startswith("cases/broken.yaml: cases: ")


# --- text --------------------------------------------------------------------------------


def test_files_are_compared_one_diff_per_file_that_differs() -> None:
    before = {"bundle.yaml": "a\nb", "gone.cedar": "x\n", "same.cedar": "s\n"}
    after = {"bundle.yaml": "a\nc\n", "new.cedar": "y\n", "same.cedar": "s\n"}
    diffs = file_diffs(before, after, "OLD", "NEW")
    assert diffs == [
        FileDiff(
            "bundle.yaml",
            "changed",
            ("--- OLD/bundle.yaml\n", "+++ NEW/bundle.yaml\n"),
            ("@@ -1,2 +1,2 @@\n", " a\n", "-b\n", "+c\n"),
        ),
        FileDiff(
            "gone.cedar",
            "removed",
            ("--- OLD/gone.cedar\n", "+++ /dev/null\n"),
            ("@@ -1 +0,0 @@\n", "-x\n"),
        ),
        FileDiff(
            "new.cedar",
            "added",
            ("--- /dev/null\n", "+++ NEW/new.cedar\n"),
            ("@@ -0,0 +1 @@\n", "+y\n"),
        ),
    ]
    assert unified(diffs) == [
        "--- OLD/bundle.yaml\n",
        "+++ NEW/bundle.yaml\n",
        "@@ -1,2 +1,2 @@\n",
        " a\n",
        "-b\n",
        "+c\n",
        "--- OLD/gone.cedar\n",
        "+++ /dev/null\n",
        "@@ -1 +0,0 @@\n",
        "-x\n",
        "--- /dev/null\n",
        "+++ NEW/new.cedar\n",
        "@@ -0,0 +1 @@\n",
        "+y\n",
    ]
    assert file_diffs(before, before, "OLD", "NEW") == []


def _folder(root: Path, name: str, holder: str, policies: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "bundle.yaml").write_text(
        f"holder: {holder}\neffective_from: 2020-01-01\ntitle: t\n", encoding="utf-8"
    )
    (folder / "p.cedar").write_text(policies, encoding="utf-8")
    return folder


def test_two_bundle_folders_are_read_compared_and_diffed(catalog: Catalog, tmp_path: Path) -> None:
    (tmp_path / "schema.cedarschema").write_text(SCHEMA, encoding="utf-8")
    old = _folder(tmp_path, "old", "US", PERMIT + "\n")
    new = _folder(tmp_path, "new", "US", PERMIT + "\n\n" + NO_RU + "\n")
    screener = make_screener(catalog, root=tmp_path)
    bundles = read_pair(screener.pack, old, new)
    assert [b.folder for b in bundles] == ["old", "new"]
    assert text_diff(old, new) == unified(
        file_diffs(
            {"p.cedar": PERMIT + "\n"},
            {"p.cedar": PERMIT + "\n\n" + NO_RU + "\n"},
            str(old),
            str(new),
        )
    )
    diff = diff_bundles(screener, (old, new), bundles, [Probe("golden", "g", use())])
    assert diff.text == tuple(text_diff(old, new))
    assert diff.text[0] == f"--- {old}/p.cedar\n"
    assert [g.kind for g in diff.groups] == ["permitted → prohibited"]
    assert (
        len(
            diff_bundles(screener, (old, new), bundles, [Probe("g", "x", use())] * 5, examples=4)
            .groups[0]
            .examples
        )
        == 4
    )
    assert len(diff.groups[0].examples) == 1


def test_a_pair_of_bundles_of_two_holders_is_refused(catalog: Catalog, tmp_path: Path) -> None:
    (tmp_path / "schema.cedarschema").write_text(SCHEMA, encoding="utf-8")
    old = _folder(tmp_path, "old", "US", PERMIT + "\n")
    new = _folder(tmp_path, "new", "UA", PERMIT + "\n")
    screener = make_screener(catalog, root=tmp_path)
    with pytest.raises(InputError) as refused:
        read_pair(screener.pack, old, new)
    assert (refused.value.where, refused.value.problem) == (
        "NEW",
        "is a bundle of UA, but OLD is one of US",
    )


def test_what_is_not_a_bundle_folder_is_refused_naming_the_side(
    catalog: Catalog, tmp_path: Path
) -> None:
    screener = make_screener(catalog, root=tmp_path)
    with pytest.raises(InputError) as missing:
        read_bundle(screener.pack, tmp_path / "none", "OLD")
    assert (missing.value.where, missing.value.problem) == (
        "OLD",
        f"'{tmp_path / 'none'}' is not a folder",
    )
    with pytest.raises(InputError) as empty:
        read_bundle(screener.pack, tmp_path, "NEW")
    assert (empty.value.where, empty.value.problem) == (
        "NEW",
        f"'{tmp_path}' is not a bundle: it has no bundle.yaml",
    )


# --- what each side is asked, and the defaults ---------------------------------------------

NO_ZONE_Z = (
    '@id("no-z")\nforbid (principal, action, resource) when { context has target'
    ' && context.target has zones && context.target.zones.contains("z") };'
)
KEEP_100 = (
    '@id("keep-100")\nforbid (principal, action, resource)'
    " when { context has stockpile && context.stockpile.available_after < 100 };"
)


def test_both_sides_see_the_zones_holding_the_target(catalog: Catalog) -> None:
    old = make_bundle(catalog, OLD_DAY, PERMIT)
    new = make_bundle(catalog, NEW_DAY, PERMIT, NO_ZONE_Z)
    screener = make_screener(catalog, old, new)
    deep = next(r for r in regions_of("RU") if r != "RU-BEL")
    probes = [
        Probe("sample", "in z", use(region="RU-BEL")),
        Probe("sample", "out", use(region=deep)),
    ]
    diff = compare_bundles(screener, (old, new), probes, text=[])
    assert [(g.kind, g.count, g.by_zone) for g in diff.groups] == [
        ("permitted → prohibited", 1, {"z": 1})
    ]
    assert [e.probe.label for e in diff.groups[0].examples] == ["in z"]
    assert compare_bundles(screener, (new, new), probes, text=[]).same_outcomes


def test_both_sides_see_the_stockpile_facts_a_probe_carries(catalog: Catalog) -> None:
    stock = load_stock_figures(
        {"opened_on": "2020-01-01", "positions": [{"holder": "US", "system": "s1", "on_hand": 9}]},
        catalog,
    )
    old = make_bundle(catalog, OLD_DAY, PERMIT)
    new = make_bundle(catalog, NEW_DAY, PERMIT, KEEP_100)
    screener = make_screener(catalog, old, new, stock=stock)
    request = give()
    facts = screener.stockpile_facts(request, request.date)
    assert facts is not None
    assert facts.available_after == 8
    probes = [Probe("sample", "tracked", request, stockpile=facts), Probe("sample", "bare", give())]
    diff = compare_bundles(screener, (old, new), probes, text=[])
    assert [(g.kind, g.count) for g in diff.groups] == [("permitted → prohibited", 1)]
    assert [e.probe.label for e in diff.groups[0].examples] == ["tracked"]
    assert diff.groups[0].new_policies == {"US/keep-100": 1}


def test_three_examples_are_kept_of_each_kind_unless_asked_otherwise(
    catalog: Catalog, tmp_path: Path
) -> None:
    (tmp_path / "schema.cedarschema").write_text(SCHEMA, encoding="utf-8")
    old_folder = _folder(tmp_path, "old", "US", PERMIT + "\n")
    new_folder = _folder(tmp_path, "new", "US", PERMIT + "\n\n" + NO_RU + "\n")
    screener = make_screener(catalog, root=tmp_path)
    bundles = read_pair(screener.pack, old_folder, new_folder)
    probes = [Probe("sample", f"s{n}", use()) for n in range(5)]
    compared = compare_bundles(screener, bundles, probes, text=[])
    diffed = diff_bundles(screener, (old_folder, new_folder), bundles, probes)
    for diff in (compared, diffed):
        assert diff.groups[0].count == 5
        assert [e.probe.label for e in diff.groups[0].examples] == ["s0", "s1", "s2"]


def test_the_record_keeps_the_text_diff_as_written(catalog: Catalog) -> None:
    old = make_bundle(catalog, OLD_DAY, PERMIT)
    text = ["--- old/p.cedar\n", "+++ new/p.cedar\n", "@@ -1 +1 @@\n", "-a\n", "+b\n"]
    diff = compare_bundles(make_screener(catalog, old), (old, old), [], text=text)
    assert diff.as_dict()["text_diff"] == "--- old/p.cedar\n+++ new/p.cedar\n@@ -1 +1 @@\n-a\n+b\n"


def test_a_pair_names_the_side_that_is_not_a_bundle(catalog: Catalog, tmp_path: Path) -> None:
    (tmp_path / "schema.cedarschema").write_text(SCHEMA, encoding="utf-8")
    good = _folder(tmp_path, "good", "US", PERMIT + "\n")
    screener = make_screener(catalog, root=tmp_path)
    with pytest.raises(InputError) as old_missing:
        read_pair(screener.pack, tmp_path / "none", good)
    assert old_missing.value.where == "OLD"
    with pytest.raises(InputError) as new_missing:
        read_pair(screener.pack, good, tmp_path / "none")
    assert new_missing.value.where == "NEW"


def test_a_sample_exactly_the_size_of_the_space_takes_it_in_order(catalog: Catalog) -> None:
    screener = make_screener(catalog, make_bundle(catalog, OLD_DAY, PERMIT))
    day = dt.date(2025, 6, 15)
    everything = sample_probes(screener, "US", [day], count=10_000, seed=1)
    exactly = sample_probes(screener, "US", [day], count=len(everything), seed=1)
    assert [p.request for p in exactly] == [p.request for p in everything]


def test_a_territory_every_region_of_which_a_zone_holds_has_no_deep_region() -> None:
    regions = sorted(regions_of("AD"))
    everywhere = {"effective_from": "2020-01-01", "regions": regions}
    data = {
        **CATALOG_DATA,
        "parties": [*CATALOG_DATA["parties"], {"code": "AD", "name": "Andorra"}],
        "zones": [{"id": "all", "name": "All", "history": [everywhere]}],
    }
    zoned = Catalog.model_validate(data)
    screener = make_screener(zoned, make_bundle(zoned, OLD_DAY, PERMIT))
    probes = sample_probes(screener, "US", [OLD_DAY], count=10_000, seed=1)
    targets = [
        p.request.model_dump()["target"]
        for p in probes
        if p.request.action == "employ" and (p.request.requester, p.request.system) == ("UA", "s1")
    ]
    against_ad = [t["region"] for t in targets if t["territory"] == "AD"]
    assert against_ad == [None, *regions]  # none, and each zoned region; no region is left
