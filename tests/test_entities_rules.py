"""The Cedar vocabulary clearance speaks, stated on the pure code (``policy.entities``,
``policy.locations``).

What entities the catalog becomes, what a request becomes for one holder, and
which zones a target lies in: exactly, value for value, since every policy of
every bundle is written against these shapes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.core.catalog import Catalog
from clearance.core.request import AnyRequest, parse_request
from clearance.core.stockpile import Balance, Position, Thresholds, assess
from clearance.policy.entities import (
    OUTSIDE_ZONES,
    catalog_entities,
    cedar_request,
    target_zones,
    zone_labels,
)
from clearance.policy.locations import pydantic_location
from clearance.policy.pack import ScenarioPack


@pytest.fixture(scope="module")
def catalog(seed_pack: ScenarioPack) -> Catalog:
    return seed_pack.catalog


def request(**fields: Any) -> AnyRequest:
    data: dict[str, Any] = {
        "action": "employ",
        "requester": "UA",
        "system": "atacms",
        "quantity": 2,
        "target": {"territory": "RU"},
        "date": "2025-06-15",
    }
    data.update(fields)
    if data["action"] == "transfer":
        data.pop("target")
    return parse_request(data)


def test_every_party_authority_and_system_is_an_entity(catalog: Catalog) -> None:
    entities = catalog_entities(catalog)
    assert len(entities) == len(catalog.parties) + len(catalog.authorities) + len(catalog.systems)
    by_uid = {(e["uid"]["type"], e["uid"]["id"]): e for e in entities}
    assert by_uid[("Party", "GB")] == {
        "uid": {"type": "Party", "id": "GB"},
        "attrs": {"name": "United Kingdom", "kind": "state"},
        "parents": [
            {"type": "Party", "id": "european-partners"},
            {"type": "Party", "id": "aeca-favoured"},
        ],
    }
    assert by_uid[("Party", "US")]["parents"] == []
    assert by_uid[("Authority", "us.secdef")] == {
        "uid": {"type": "Authority", "id": "us.secdef"},
        "attrs": {
            "party": {"__entity": {"type": "Party", "id": "US"}},
            "title": "Secretary of Defense",
        },
        "parents": [],
    }
    atacms = catalog.system("atacms")
    assert atacms is not None
    assert by_uid[("System", "atacms")] == {
        "uid": {"type": "System", "id": "atacms"},
        "attrs": {
            "name": atacms.name,
            "origin": {"__entity": {"type": "Party", "id": "US"}},
            "category": atacms.category,
            "range_km": atacms.range_km,
        },
        "parents": [],
    }
    assert [e["uid"]["type"] for e in entities] == (
        ["Party"] * len(catalog.parties)
        + ["Authority"] * len(catalog.authorities)
        + ["System"] * len(catalog.systems)
    )


def test_a_use_becomes_its_facts_the_holder_s_bases_and_the_approvals(catalog: Catalog) -> None:
    """Bases and approvals sorted; the target with its region and sorted zones."""
    asked = request(target={"territory": "RU", "region": "RU-BEL"})
    assert cedar_request(
        asked, ["see-through", "origin"], ["us.secdef", "us.president"], None, ["z2", "z1"]
    ) == {
        "principal": {"type": "Party", "id": "UA"},
        "action": {"type": "Action", "id": "employ"},
        "resource": {"type": "System", "id": "atacms"},
        "context": {
            "quantity": 2,
            "basis": ["origin", "see-through"],
            "approvals": [
                {"__entity": {"type": "Authority", "id": "us.president"}},
                {"__entity": {"type": "Authority", "id": "us.secdef"}},
            ],
            "target": {
                "territory": {"__entity": {"type": "Party", "id": "RU"}},
                "region": "RU-BEL",
                "zones": ["z1", "z2"],
            },
        },
    }


def test_a_use_without_a_region_carries_no_region_and_no_zones(catalog: Catalog) -> None:
    context = cedar_request(request(), ["origin"], [], None, ["z1"])["context"]
    assert context == {
        "quantity": 2,
        "basis": ["origin"],
        "approvals": [],
        "target": {"territory": {"__entity": {"type": "Party", "id": "RU"}}},
    }


def test_a_transfer_carries_recipient_funding_value_and_stockpile(catalog: Catalog) -> None:
    facts = assess(Position("US", "atacms"), Balance(10), Thresholds(), 3, dt.date(2025, 6, 15))
    asked = request(
        action="transfer", requester="US", recipient="UA", funding="GB", value_usd=5, quantity=3
    )
    assert cedar_request(asked, ["origin"], [], facts) == {
        "principal": {"type": "Party", "id": "US"},
        "action": {"type": "Action", "id": "transfer"},
        "resource": {"type": "System", "id": "atacms"},
        "context": {
            "quantity": 3,
            "basis": ["origin"],
            "approvals": [],
            "recipient": {"__entity": {"type": "Party", "id": "UA"}},
            "funding": {"__entity": {"type": "Party", "id": "GB"}},
            "value_usd": 5,
            "stockpile": facts.cedar(),
        },
    }
    bare = request(action="transfer", requester="US", recipient="UA")
    assert cedar_request(bare, [], [])["context"] == {
        "quantity": 2,
        "basis": [],
        "approvals": [],
        "recipient": {"__entity": {"type": "Party", "id": "UA"}},
    }


def test_a_target_lies_in_the_zones_holding_its_region_on_the_day(catalog: Catalog) -> None:
    day = dt.date(2025, 6, 15)
    asked = request(target={"territory": "RU", "region": "RU-BEL"})
    assert target_zones(catalog, asked, day) == catalog.zones_of("RU-BEL", day)
    assert target_zones(catalog, asked, day) != ()
    assert target_zones(catalog, request(), day) == ()
    assert (
        target_zones(catalog, request(action="transfer", requester="US", recipient="UA"), day) == ()
    )


def test_a_change_is_labelled_by_the_zones_of_its_target_or_outside_them(catalog: Catalog) -> None:
    day = dt.date(2025, 6, 15)
    inside = request(target={"territory": "RU", "region": "RU-BEL"})
    assert zone_labels(catalog, inside) == catalog.zones_of("RU-BEL", day)
    outside = request(target={"territory": "RU", "region": "RU-MOW"})
    assert catalog.zones_of("RU-MOW", day) == ()
    assert zone_labels(catalog, outside) == (OUTSIDE_ZONES,)
    assert OUTSIDE_ZONES == "outside every zone"
    assert zone_labels(catalog, request()) == ()
    assert zone_labels(catalog, request(action="transfer", requester="US", recipient="UA")) == ()


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("systems", 2, "origin"), "systems[2].origin"),
        (("parties",), "parties"),
        ((0, "id"), "[0].id"),
        (("a", "b", 1, 2), "a.b[1][2]"),
        ((), ""),
    ],
)
def test_a_place_in_a_pack_file_is_written_with_dots_and_brackets(
    loc: tuple[int | str, ...], text: str
) -> None:
    assert pydantic_location(loc) == text
