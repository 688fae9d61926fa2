"""The rules of a catalog, stated on the pure code (``core.catalog``).

The pack and holder tests load real catalogs; these state the catalog's own
rules: which entries fit together, the exact place and words of every
refusal, the zones of a date, the revision it is cached on, and the lookups.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from clearance.core.catalog import (
    Catalog,
    CatalogIntegrityError,
    Party,
    Zone,
)
from clearance.core.digest import canonical_digest

PARTIES: list[dict[str, Any]] = [
    {"code": "AA", "name": "Aland"},
    {"code": "BB", "name": "Bland"},
    {"code": "CC", "name": "Cland"},
    {"code": "allies", "name": "Allies", "kind": "group", "members": ["AA", "BB"]},
    {"code": "friends", "name": "Friends", "kind": "group", "members": ["BB"]},
]
SYSTEM: dict[str, Any] = {
    "id": "s",
    "name": "Striker",
    "origin": "AA",
    "category": "missile",
    "range_km": 100,
}
BORDER: dict[str, Any] = {
    "id": "border",
    "name": "Border",
    "history": [
        {"effective_from": "2025-01-01", "regions": ["RU-BEL"]},
        {"effective_from": "2025-06-01", "regions": ["RU-BEL", "RU-KRS"]},
        {"effective_from": "2025-09-01", "regions": []},
    ],
}
FAR: dict[str, Any] = {
    "id": "far",
    "name": "Far",
    "history": [{"effective_from": "2025-03-01", "regions": ["RU-KRS"]}],
}


def build(**parts: Any) -> Catalog:
    """A catalog of the parties above and system ``s``, with ``parts`` added or replaced."""
    return Catalog.model_validate({"parties": PARTIES, "systems": [SYSTEM], **parts})


def refusal(**parts: Any) -> tuple[str, str]:
    """(where, problem) of the refusal of the catalog ``build`` makes of ``parts``."""
    with pytest.raises(ValidationError) as refused:
        build(**parts)
    cause = refused.value.errors()[0]["ctx"]["error"]
    assert isinstance(cause, CatalogIntegrityError)
    assert str(cause) == f"{cause.where}: {cause.problem}"
    return cause.where, cause.problem


def component(id: str, supplier: str = "BB", *inside: str) -> dict[str, Any]:
    return {
        "id": id,
        "name": id,
        "supplier": supplier,
        "dependencies": [{"kind": "component", "component": c, "share": "0.1"} for c in inside],
    }


# --- what fits together --------------------------------------------------------------------


def test_a_catalog_whose_entries_fit_together_is_taken_whole() -> None:
    """Parties, offices, components inside components, systems and zones, all kept in order."""
    catalog = build(
        authorities=[{"id": "aa.minister", "party": "AA", "title": "Minister"}],
        components=[component("k", "BB", "j"), component("j", "CC")],
        systems=[{**SYSTEM, "dependencies": [{"kind": "intelligence", "supplier": "CC"}]}],
        zones=[BORDER],
    )
    assert [c.id for c in catalog.components] == ["k", "j"]
    assert catalog.authority("aa.minister") is catalog.authorities[0]
    assert catalog.authority("aa.nobody") is None


def test_a_component_reached_by_two_routes_is_not_a_cycle() -> None:
    """A diamond (k and l both hold j) is a bill of materials, not a loop."""
    catalog = build(
        components=[component("k", "BB", "j", "l"), component("l", "BB", "j"), component("j")]
    )
    assert catalog.component("j").id == "j"


def test_only_a_group_has_members() -> None:
    """A state with members is refused in words; a group without members is taken."""
    with pytest.raises(ValidationError) as refused:
        Party.model_validate({"code": "AA", "name": "A", "members": ["BB"]})
    assert refused.value.errors()[0]["ctx"]["error"].args == (
        "only a party of kind 'group' can have members",
    )
    assert Party.model_validate({"code": "g", "name": "G", "kind": "group"}).members == ()


@pytest.mark.parametrize(
    ("parts", "where", "problem"),
    [
        ({"parties": [*PARTIES, {"code": "BB", "name": "B"}]}, "parties[5]", "duplicate id 'BB'"),
        ({"zones": [BORDER, FAR, {**FAR, "name": "Again"}]}, "zones[2]", "duplicate id 'far'"),
        (
            {
                "authorities": [
                    {"id": "a.x", "party": "AA", "title": "X"},
                    {"id": "a.x", "party": "BB", "title": "Y"},
                ]
            },
            "authorities[1]",
            "duplicate id 'a.x'",
        ),
        ({"components": [component("k"), component("k")]}, "components[1]", "duplicate id 'k'"),
        ({"systems": [SYSTEM, SYSTEM]}, "systems[1]", "duplicate id 's'"),
        (
            {"parties": [*PARTIES[:3], {**PARTIES[3], "members": ["AA", "ZZ"]}]},
            "parties[3].members[1]",
            "unknown party 'ZZ'",
        ),
        (
            {"authorities": [{"id": "a.x", "party": "AA", "title": "X"}, {"id": "z.x", "party": "ZZ", "title": "Z"}]},
            "authorities[1].party",
            "unknown party 'ZZ'",
        ),
        ({"components": [component("k"), component("j", "ZZ")]}, "components[1].supplier", "unknown party 'ZZ'"),
        (
            {"components": [component("k"), component("j", "BB", "k", "x")]},
            "components[1].dependencies[1].component",
            "unknown component 'x'",
        ),
        (
            {
                "components": [
                    {**component("k"), "dependencies": [{"kind": "licence", "supplier": "ZZ"}]}
                ]
            },
            "components[0].dependencies[0].supplier",
            "unknown party 'ZZ'",
        ),
        ({"systems": [SYSTEM, {**SYSTEM, "id": "t", "origin": "ZZ"}]}, "systems[1].origin", "unknown party 'ZZ'"),
        (
            {
                "systems": [
                    {
                        **SYSTEM,
                        "dependencies": [
                            {"kind": "software", "supplier": "BB"},
                            {"kind": "targeting-data", "supplier": "ZZ"},
                        ],
                    }
                ]
            },
            "systems[0].dependencies[1].supplier",
            "unknown party 'ZZ'",
        ),
        (
            {"systems": [{**SYSTEM, "dependencies": [{"kind": "component", "component": "x", "share": "0.1"}]}]},
            "systems[0].dependencies[0].component",
            "unknown component 'x'",
        ),
    ],
)  # fmt: skip
def test_an_entry_that_does_not_fit_is_refused_naming_its_place(
    parts: dict[str, Any], where: str, problem: str
) -> None:
    """Each id once per kind, every party and component named somewhere defined: the refusal
    says where in the file, by index, and what is wrong."""
    assert refusal(**parts) == (where, problem)


@pytest.mark.parametrize(
    ("components", "where", "cycle"),
    [
        ([component("k", "BB", "k")], "components[0]", "k → k"),
        ([component("k", "BB", "j"), component("j", "BB", "k")], "components[1]", "k → j → k"),
        (
            [component("a"), component("k", "BB", "j"), component("j", "BB", "l"), component("l", "BB", "j")],
            "components[3]",
            "j → l → j",
        ),
    ],
)  # fmt: skip
def test_a_component_that_contains_itself_is_refused_naming_the_loop(
    components: list[dict[str, Any]], where: str, cycle: str
) -> None:
    """The loop is named from the component it returns to, at the component that closes it."""
    assert refusal(components=components) == (where, f"dependency cycle {cycle}")


# --- zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "where", "problem"),
    [
        (
            [{"effective_from": "1899-12-31", "regions": []}],
            "zones[1].history[0].effective_from",
            "1899-12-31 is outside the dates clearance takes (from 1900-01-01 to 2199-12-31)",
        ),
        (
            [{"effective_from": "2025-01-01", "regions": []}, {"effective_from": "2200-01-01", "regions": []}],
            "zones[1].history[1].effective_from",
            "2200-01-01 is outside the dates clearance takes (from 1900-01-01 to 2199-12-31)",
        ),
        (
            [{"effective_from": "2025-01-01", "regions": []}, {"effective_from": "2025-01-01", "regions": []}],
            "zones[1].history[1].effective_from",
            "zone 'z' already has a span from 2025-01-01: spans must be in date order, one per date",
        ),
        (
            [
                {"effective_from": "2025-01-01", "regions": []},
                {"effective_from": "2025-03-01", "regions": []},
                {"effective_from": "2025-02-01", "regions": []},
            ],
            "zones[1].history[2].effective_from",
            "zone 'z' already has a span from 2025-03-01: spans must be in date order, one per date",
        ),
        (
            [{"effective_from": "2025-01-01", "regions": []}, {"effective_from": "2025-02-01", "regions": ["RU-BEL", "ru-krs"]}],
            "zones[1].history[1].regions[1]",
            "unknown region 'ru-krs': codes are upper case, did you mean 'RU-KRS'?",
        ),
        (
            [{"effective_from": "2025-01-01", "regions": ["XX-9"]}],
            "zones[1].history[0].regions[0]",
            "unknown region 'XX-9': ISO 3166-2 has no such subdivision",
        ),
    ],
)  # fmt: skip
def test_a_zone_s_spans_are_refused_out_of_range_out_of_order_or_of_unlisted_regions(
    history: list[dict[str, Any]], where: str, problem: str
) -> None:
    """Each span from a date in range, later than the one before; each region ISO 3166-2's."""
    zone = {"id": "z", "name": "Z", "history": history}
    assert refusal(zones=[BORDER, zone]) == (where, problem)


@pytest.mark.parametrize(
    ("day", "regions"),
    [
        (dt.date(2024, 12, 31), ()),
        (dt.date(2025, 1, 1), ("RU-BEL",)),
        (dt.date(2025, 5, 31), ("RU-BEL",)),
        (dt.date(2025, 6, 1), ("RU-BEL", "RU-KRS")),
        (dt.date(2025, 8, 31), ("RU-BEL", "RU-KRS")),
        (dt.date(2025, 9, 1), ()),
    ],
)
def test_a_zone_holds_the_regions_of_the_span_in_force_on_the_day(
    day: dt.date, regions: tuple[str, ...]
) -> None:
    """Each span holds from its date until the next; none before the first; an empty span
    ends the zone."""
    assert Zone.model_validate(BORDER).regions_on(day) == regions


def test_a_zone_holds_no_region_before_its_first_span() -> None:
    """Not even those of its latest span."""
    far = Zone.model_validate(FAR)
    assert far.regions_on(dt.date(2025, 2, 28)) == ()
    assert far.regions_on(dt.date(2025, 3, 1)) == ("RU-KRS",)


def test_the_zones_of_a_region_are_those_holding_it_on_the_day_sorted() -> None:
    """What policy sees of a target: the ids of the zones holding its region that day."""
    catalog = build(zones=[FAR, BORDER])
    assert catalog.zones_of("RU-KRS", dt.date(2025, 6, 1)) == ("border", "far")
    assert catalog.zones_of("RU-KRS", dt.date(2025, 5, 31)) == ("far",)
    assert catalog.zones_of("RU-BEL", dt.date(2025, 9, 1)) == ()
    assert catalog.zone("border") == Zone.model_validate(BORDER)
    assert catalog.zone("nowhere") is None


# --- revision and lookups ------------------------------------------------------------------


def test_the_revision_is_the_digest_of_the_content_without_zones_when_there_are_none() -> None:
    """A catalog without zones digests as it did before zones existed; zones change it."""
    plain = build()
    without = plain.model_dump(mode="json")
    del without["zones"]
    assert plain.revision == canonical_digest(without)
    zoned = build(zones=[BORDER])
    assert zoned.revision == canonical_digest(zoned.model_dump(mode="json"))
    assert zoned.revision != plain.revision


def test_a_catalog_finds_each_entry_by_its_id() -> None:
    """Parties by code, systems and components by id; an unknown party or system is None."""
    catalog = build(components=[component("k")])
    assert catalog.party("AA") is catalog.parties[0]
    assert catalog.party("ZZ") is None
    assert catalog.system("s") is catalog.systems[0]
    assert catalog.system("t") is None
    assert catalog.component("k") is catalog.components[0]


def test_a_party_is_in_every_group_that_lists_it_in_catalog_order() -> None:
    """For Cedar's ``in``: BB is in both groups, AA in one, CC in none."""
    catalog = build()
    assert catalog.groups_of("BB") == ("allies", "friends")
    assert catalog.groups_of("AA") == ("allies",)
    assert catalog.groups_of("CC") == ()
