"""Target regions (ISO 3166-2) and the catalog's zones: the request format, the pack format,
what Cedar sees, and the reports that count changes by zone.

The golden cases of every date, region class and system are in the seed pack
(``cases/regions.yaml``) and run with the others (tests/test_golden.py); this
file holds what golden cases cannot say: refusals, the pack's own checks, the
monotony of permits by zone, and region-dependent changes reported by zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.core.catalog import Catalog, Zone, ZoneSpan
from clearance.core.decision import Outcome
from clearance.core.regions import region_country, regions_of
from clearance.core.request import parse_request
from clearance.errors import PackError, RequestError
from clearance.policy.engine import Screener
from clearance.policy.entities import OUTSIDE_ZONES, cedar_request, target_zones
from clearance.policy.pack import ScenarioPack, default_pack_path, load_bundle, load_pack
from clearance.service.replay import ReplayReport
from clearance.service.replay_judging import Rejudger

from .conftest import NOW
from .test_cases_cli import Cli
from .test_replay import _stored

BUNDLES = default_pack_path() / "bundles" / "US"
KHARKIV, BORDER = BUNDLES / "2024-05-30", BUNDLES / "2024-06-20"


def _use(region: str | None, *, territory: str = "RU", system: str = "gmlrs", date: str) -> dict:
    target: dict[str, str] = {"territory": territory}
    if region is not None:
        target["region"] = region
    return {
        "action": "employ",
        "requester": "UA",
        "system": system,
        "quantity": 4,
        "target": target,
        "date": date,
    }


# The request format ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "territory", "message"),
    [
        ("UA-43", "RU", "region 'UA-43' is in UA, not in the target's territory RU"),
        ("RU-BEL", "UA", "region 'RU-BEL' is in RU, not in the target's territory UA"),
        ("ru-bel", "RU", "codes are upper case, did you mean 'RU-BEL'?"),
        ("RU-XYZ", "RU", "unknown region 'RU-XYZ': ISO 3166-2 has no such subdivision"),
        ("Belgorod", "RU", "'Belgorod' is not an ISO 3166-2 region code such as 'RU-BEL'"),
        ("", "RU", "'' is not an ISO 3166-2 region code"),
        ("RU-BEL" * 1000, "RU", "is not an ISO 3166-2 region code"),
    ],
)
def test_a_bad_region_is_refused_naming_the_field(
    region: str, territory: str, message: str
) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(_use(region, territory=territory, date="2025-06-15"))
    assert caught.value.field == "target.region"
    assert message in caught.value.message


def test_a_region_must_be_text_and_only_a_use_has_one() -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(_use(None, date="2025-06-15") | {"target": {"territory": "RU", "region": 7}})
    assert caught.value.field == "target.region"
    transfer = {
        "action": "transfer",
        "requester": "US",
        "recipient": "UA",
        "system": "gmlrs",
        "quantity": 1,
        "date": "2025-06-15",
        "target": {"territory": "RU", "region": "RU-BEL"},
    }
    with pytest.raises(RequestError) as caught:
        parse_request(transfer)
    assert caught.value.field == "target"


@settings(max_examples=200, deadline=None)
@given(region=st.text(max_size=12), territory=st.sampled_from(["RU", "UA", "US", "BY"]))
def test_any_region_text_is_taken_only_when_iso_lists_it_in_the_territory(
    region: str, territory: str
) -> None:
    data = _use(region, territory=territory, date="2025-06-15")
    if region_country(region) == territory:
        assert parse_request(data).target.region == region
    else:
        with pytest.raises(RequestError) as caught:
            parse_request(data)
        assert caught.value.field == "target.region"


# The pack format ------------------------------------------------------------------------


def _pack_with_zones(tmp_path: Path, zones: object) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(default_pack_path(), root)
    catalog = yaml.safe_load((root / "catalog.yaml").read_text())
    catalog["zones"] = zones
    (root / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    return root


@pytest.mark.parametrize(
    ("zones", "where", "problem"),
    [
        (
            [
                {
                    "id": "z",
                    "name": "Z",
                    "history": [{"effective_from": "2024-01-01", "regions": ["RU-NOP"]}],
                }
            ],
            "zones[0].history[0].regions[0]",
            "unknown region 'RU-NOP'",
        ),
        (
            [
                {
                    "id": "z",
                    "name": "Z",
                    "history": [{"effective_from": "2024-01-01", "regions": ["ru-bel"]}],
                }
            ],
            "zones[0].history[0].regions[0]",
            "did you mean 'RU-BEL'",
        ),
        (
            [
                {
                    "id": "z",
                    "name": "Z",
                    "history": [
                        {"effective_from": "2024-06-20", "regions": ["RU-BEL"]},
                        {"effective_from": "2024-06-20", "regions": ["RU-KRS"]},
                    ],
                }
            ],
            "zones[0].history[1].effective_from",
            "zone 'z' already has a span from 2024-06-20",
        ),
        (
            [
                {
                    "id": "z",
                    "name": "Z",
                    "history": [
                        {"effective_from": "2024-06-20", "regions": ["RU-BEL"]},
                        {"effective_from": "2024-05-30", "regions": ["RU-KRS"]},
                    ],
                }
            ],
            "zones[0].history[1].effective_from",
            "spans must be in date order",
        ),
        (
            [
                {
                    "id": "z",
                    "name": "Z",
                    "history": [{"effective_from": "2024-01-01", "regions": []}],
                },
                {
                    "id": "z",
                    "name": "Y",
                    "history": [{"effective_from": "2024-01-01", "regions": []}],
                },
            ],
            "zones[1]",
            "duplicate id 'z'",
        ),
        ([{"id": "z", "name": "Z", "history": []}], "zones[0].history", "at least 1 item"),
        (
            [
                {
                    "id": "z",
                    "name": "Z",
                    "history": [{"effective_from": "3000-01-01", "regions": []}],
                }
            ],
            "zones[0].history[0].effective_from",
            "from 1900-01-01 to 2199-12-31",
        ),
    ],
)
def test_a_bad_zone_is_refused_naming_the_catalog_and_the_place(
    tmp_path: Path, zones: object, where: str, problem: str
) -> None:
    root = _pack_with_zones(tmp_path, zones)
    with pytest.raises(PackError) as caught:
        load_pack(root)
    assert caught.value.file == "catalog.yaml"
    assert caught.value.where == where
    assert problem in caught.value.problem


def test_the_command_line_refuses_a_bad_zone_in_one_line(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zones = [
        {"id": "z", "name": "Z", "history": [{"effective_from": "2024-01-01", "regions": ["XX-1"]}]}
    ]
    root = _pack_with_zones(tmp_path, zones)
    run = Cli(tmp_path, database_url, monkeypatch)("policy", "validate", str(root), ok=False)
    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: catalog.yaml: zones[0].history[0].regions[0]: ")
    assert "unknown region 'XX-1'" in line


def test_a_zone_is_part_of_the_catalog_revision(seed_pack: ScenarioPack) -> None:
    catalog = seed_pack.catalog
    wider = _catalog_with_zone(catalog, "kharkiv-border", ("RU-BEL", "RU-KRS"))
    assert wider.revision != catalog.revision
    assert _catalog_with_zone(catalog, "kharkiv-border", ("RU-BEL",)).revision == catalog.revision


def _catalog_with_zone(catalog: Catalog, zone_id: str, regions: tuple[str, ...]) -> Catalog:
    """The catalog with ``zone_id`` holding ``regions`` from its first date, validated anew."""
    zones = [
        z
        if z.id != zone_id
        else Zone(
            id=z.id,
            name=z.name,
            illustrative=z.illustrative,
            notes=z.notes,
            history=(ZoneSpan(effective_from=z.history[0].effective_from, regions=regions),),
        )
        for z in catalog.zones
    ]
    return Catalog.model_validate(
        {**catalog.model_dump(), "zones": [z.model_dump() for z in zones]}
    )


# What Cedar sees ----------------------------------------------------------------------


def test_the_zones_are_those_of_the_date_judged(seed_pack: ScenarioPack) -> None:
    catalog = seed_pack.catalog
    kursk = parse_request(_use("RU-KRS", date="2024-06-20"))
    assert target_zones(catalog, kursk, dt.date(2024, 6, 19)) == ()
    assert target_zones(catalog, kursk, dt.date(2024, 6, 20)) == ("russian-border-regions",)
    belgorod = parse_request(_use("RU-BEL", date="2024-06-20"))
    assert target_zones(catalog, belgorod, dt.date(2024, 6, 20)) == (
        "kharkiv-border",
        "russian-border-regions",
    )
    context = cedar_request(belgorod, ["origin"], [], None, ("kharkiv-border",))["context"]
    assert context["target"] == {
        "territory": {"__entity": {"type": "Party", "id": "RU"}},
        "region": "RU-BEL",
        "zones": ["kharkiv-border"],
    }
    bare = cedar_request(parse_request(_use(None, date="2024-06-20")), ["origin"], [])
    assert set(bare["context"]["target"]) == {"territory"}


def test_as_of_judges_by_the_zones_of_that_date(screener: Screener) -> None:
    kursk = parse_request(_use("RU-KRS", date="2024-06-19"))
    on_the_day = screener.decide(kursk, decision_id="a", now=NOW)
    a_day_later = screener.decide(kursk, decision_id="b", now=NOW, as_of=dt.date(2024, 6, 20))
    assert on_the_day.outcome is Outcome.PROHIBITED
    assert a_day_later.outcome is Outcome.PERMITTED


def test_a_region_less_request_names_no_region_note_when_policy_ignores_regions(
    screener: Screener,
) -> None:
    """The note is for bundles whose policy reads regions; the 2025 bundles do not."""
    decision = screener.decide(
        parse_request(_use(None, territory="BY", date="2025-06-15")), decision_id="x", now=NOW
    )
    assert decision.outcome is Outcome.PROHIBITED
    assert not any("region" in n for j in decision.judgements for n in j.notes)
    before = screener.decide(
        parse_request(_use(None, territory="BY", date="2024-06-20")), decision_id="y", now=NOW
    )
    assert any("region was not given" in n for j in before.judgements for n in j.notes)


# Adding a region to a zone never takes a permission away ------------------------------

_RUSSIAN = regions_of("RU")


def _with_border_regions(pack: ScenarioPack, regions: frozenset[str]) -> Screener:
    catalog = _catalog_with_zone(pack.catalog, "russian-border-regions", tuple(sorted(regions)))
    return Screener(dataclasses.replace(pack, catalog=catalog))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.frozensets(st.sampled_from(_RUSSIAN), max_size=8),
    added=st.sampled_from(_RUSSIAN),
    region=st.sampled_from(_RUSSIAN),
    system=st.sampled_from(["gmlrs", "atacms", "storm-shadow", "eram"]),
    day=st.dates(dt.date(2024, 6, 20), dt.date(2024, 11, 16)),
)
def test_adding_a_region_to_a_zone_never_turns_a_permit_into_a_prohibition(
    seed_pack: ScenarioPack,
    zone: frozenset[str],
    added: str,
    region: str,
    system: str,
    day: dt.date,
) -> None:
    """The US bundle of June 2024 permits strikes in Russia only by zone."""
    request = parse_request(_use(region, system=system, date=day.isoformat()))
    before = _with_border_regions(seed_pack, zone).decide(request, decision_id="a", now=NOW)
    after = _with_border_regions(seed_pack, zone | {added}).decide(
        request, decision_id="b", now=NOW
    )
    if before.outcome is Outcome.PERMITTED:
        assert after.outcome is Outcome.PERMITTED
    if region != added:
        assert after.outcome is before.outcome
    if system == "gmlrs" and region in zone | {added}:
        assert after.outcome is Outcome.PERMITTED


# Changes reported by zone -----------------------------------------------------------


def test_replay_reports_region_dependent_changes_by_zone(
    seed_pack: ScenarioPack, screener: Screener
) -> None:
    """June 2024 cases replayed under the Kharkiv-only bundle of May: the Kursk and Bryansk
    strikes lose their permission, Belgorod keeps it, a deep region never had one."""
    rows = _stored(
        screener,
        [
            _use("RU-KRS", date="2024-07-01"),
            _use("RU-BRY", date="2024-07-02"),
            _use("RU-BEL", date="2024-07-03"),
            _use("RU-MOS", date="2024-07-04"),
            _use(None, territory="UA", date="2024-07-05"),
        ],
    )
    candidate = load_bundle(
        KHARKIV, seed_pack.root, seed_pack.catalog, seed_pack.root / "schema.cedarschema"
    )
    examined, changes, skipped = Rejudger(seed_pack, candidate).judge(rows)
    assert (examined, skipped) == (5, [])
    assert {c.number: c.kind for c in changes} == {
        1: "permitted → prohibited",
        2: "permitted → prohibited",
    }
    assert {c.number: c.zones for c in changes} == {
        1: ("russian-border-regions",),
        2: ("russian-border-regions",),
    }
    report = ReplayReport(candidate, None, None, examined, tuple(changes))
    assert report.by_zone == {"russian-border-regions": 2}
    assert report.as_dict()["by_zone"] == {"russian-border-regions": 2}


def test_policy_diff_reports_the_june_widening_by_zone(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path, database_url, monkeypatch)
    cli("init")
    report = cli.json("policy", "diff", str(KHARKIV), str(BORDER), "--sample", "3000")
    (widened,) = [c for c in report["changes"] if c["kind"] == "prohibited → permitted"]
    # every change lies in the widened zone: nothing else differs between the two bundles
    assert widened["by_zone"] == {"russian-border-regions": widened["count"]}
    assert all(
        e["request"]["target"]["region"] in ("RU-KRS", "RU-BRY") for e in widened["examples"]
    )
    plain = cli("policy", "diff", str(KHARKIV), str(BORDER), "--sample", "3000").stdout
    assert "by zone: russian-border-regions" in plain


def test_a_region_travels_from_submission_to_the_case(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path, database_url, monkeypatch)
    cli("init")
    cli("users", "add", "ua.liaison", "--name", "Liaison", "--party", "UA")
    request = _use("RU-KRS", date="2024-06-20")
    case = cli.json("cases", "submit", cli.file("kursk.json", request), "--as", "ua.liaison")
    assert case["request"]["target"] == {"territory": "RU", "region": "RU-KRS"}
    assert case["state"] == "approved"
    shown = cli("cases", "show", str(case["number"]), "--as", "ua.liaison").stdout
    assert "region RU-KRS" in shown
    bad = _use("UA-43", date="2024-06-20")
    run = cli("cases", "submit", cli.file("bad.json", bad), "--as", "ua.liaison", ok=False)
    assert run.returncode == 2
    assert run.stderr.strip().endswith(
        "request field 'target.region': region 'UA-43' is in UA, not in the target's territory RU"
    )
    assert cli.json("cases", "list", "--all", "--as", "ua.liaison")["total"] == 1
    replay = cli.json("replay", "--bundle", str(KHARKIV))
    assert replay["by_zone"] == {"russian-border-regions": 1}
    assert OUTSIDE_ZONES not in replay["by_zone"]
