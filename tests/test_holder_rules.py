"""The rules of the consent holders' report, stated on the pure code (``core.holders``).

``tests/test_holders.py`` states the derivation (de minimis, see-through,
reliance, cycles); these state what is shown of it: the path in words, the
path and the report as the command line and the API give them, the systems
listed with their holders, the refusal of an unknown system, and the bound on
what is kept between questions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from clearance.core import holders
from clearance.core.catalog import Catalog
from clearance.core.holders import (
    Basis,
    ConsentHolder,
    HolderPath,
    consent_holders,
    holders_report,
    systems_report,
)
from clearance.errors import NotFoundError

SYSTEM: dict[str, Any] = {
    "id": "s",
    "name": "Striker",
    "origin": "AA",
    "category": "missile",
    "range_km": 100,
}


def dep(component: str, share: str) -> dict[str, Any]:
    return {"kind": "component", "component": component, "share": share}


def comp_entry(
    id: str, supplier: str, inside: list[dict[str, Any]] | None = None, *, see_through: bool = False
) -> dict[str, Any]:
    return {
        "id": id,
        "name": id,
        "supplier": supplier,
        "see_through": see_through,
        "dependencies": inside or [],
    }


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test derives its holders afresh."""
    monkeypatch.setattr(holders, "_CACHE", {})


def catalog(share: str = "0.3") -> Catalog:
    """System ``s`` of AA: component ``k`` of BB (``share`` of its value, itself licensed
    by DD) and software of CC; a second system ``t`` of AA with nothing inside."""
    return Catalog.model_validate(
        {
            "parties": [{"code": code, "name": code} for code in ("AA", "BB", "CC", "DD")],
            "components": [
                {
                    "id": "k",
                    "name": "k",
                    "supplier": "BB",
                    "dependencies": [{"kind": "licence", "supplier": "DD"}],
                }
            ],
            "systems": [
                {
                    "id": "s",
                    "name": "Striker",
                    "origin": "AA",
                    "category": "missile",
                    "range_km": 100,
                    "dependencies": [
                        {"kind": "component", "component": "k", "share": share},
                        {"kind": "software", "supplier": "CC"},
                    ],
                },
                {
                    "id": "t",
                    "name": "Tracker",
                    "origin": "AA",
                    "category": "radar",
                    "range_km": 0,
                    "major_defense_equipment": True,
                },
            ],
        }
    )


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (HolderPath(Basis.ORIGIN, ("s",), "AA"), "s → origin → AA"),
        (HolderPath(Basis.SOFTWARE, ("s",), "CC"), "s → software → CC"),
        (HolderPath(Basis.LICENCE, ("s", "k"), "DD"), "s → k → licence → DD"),
        (
            HolderPath(Basis.COMPONENT, ("s", "k"), "BB", Decimal("0.3")),
            "s → k → component (30% of value) → BB",
        ),
        (
            HolderPath(Basis.SEE_THROUGH, ("s", "k", "j"), "BB", Decimal("0.0125")),
            "s → k → j → see-through (1.25% of value) → BB",
        ),
        (
            HolderPath(Basis.COMPONENT, ("s", "k"), "BB", Decimal("0")),
            "s → k → component (0% of value) → BB",
        ),
    ],
)
def test_a_path_reads_from_the_system_to_the_party(path: HolderPath, text: str) -> None:
    """A path in words: through each item, the basis (with the share a component makes up),
    then the party; an origin path names only the system."""
    assert path.text == text


def test_every_basis_gives_its_holders_and_only_those_paths() -> None:
    """Origin; components over the party's de minimis, shares multiplied along the path and
    added up per party (exactly 25% is not over it); see-through at any share; reliance at any
    depth, without the small components of the same party."""
    components = [
        comp_entry("k", "BB", [dep("j", "0.6")]),
        comp_entry("j", "CC", [{"kind": "licence", "supplier": "DD"}]),
        comp_entry("e", "EE"),
        comp_entry("f", "FF", see_through=True),
        comp_entry("g1", "GG"),
        comp_entry("g2", "GG"),
    ]
    system = [
        dep("k", "0.5"),
        dep("e", "0.25"),
        {"kind": "intelligence", "supplier": "EE"},
        dep("f", "0.05"),
        dep("g1", "0.15"),
        dep("g2", "0.15"),
    ]
    shown = Catalog.model_validate(
        {
            "parties": [{"code": c, "name": c} for c in ("AA", "BB", "CC", "DD", "EE", "FF", "GG")],
            "components": components,
            "systems": [{**SYSTEM, "dependencies": system}],
        }
    )
    found = {h.party: h.paths for h in consent_holders(shown, "s")}
    assert found == {
        "AA": (HolderPath(Basis.ORIGIN, ("s",), "AA"),),
        "BB": (HolderPath(Basis.COMPONENT, ("s", "k"), "BB", Decimal("0.5")),),
        "CC": (HolderPath(Basis.COMPONENT, ("s", "k", "j"), "CC", Decimal("0.30")),),
        "DD": (HolderPath(Basis.LICENCE, ("s", "k", "j"), "DD"),),
        "EE": (HolderPath(Basis.INTELLIGENCE, ("s",), "EE"),),
        "FF": (HolderPath(Basis.SEE_THROUGH, ("s", "f"), "FF", Decimal("0.05")),),
        "GG": (
            HolderPath(Basis.COMPONENT, ("s", "g1"), "GG", Decimal("0.15")),
            HolderPath(Basis.COMPONENT, ("s", "g2"), "GG", Decimal("0.15")),
        ),
    }
    assert [p.text for paths in found.values() for p in paths] == [
        "s → origin → AA",
        "s → k → component (50% of value) → BB",
        "s → k → j → component (30% of value) → CC",
        "s → k → j → licence → DD",
        "s → intelligence → EE",
        "s → f → see-through (5% of value) → FF",
        "s → g1 → component (15% of value) → GG",
        "s → g2 → component (15% of value) → GG",
    ]


def test_a_path_as_data_carries_its_basis_route_party_share_and_words() -> None:
    """The share is a number (or null when there is none), next to the words."""
    component = HolderPath(Basis.COMPONENT, ("s", "k"), "BB", Decimal("0.3"))
    assert component.as_dict() == {
        "basis": "component",
        "via": ["s", "k"],
        "party": "BB",
        "share": 0.3,
        "text": "s → k → component (30% of value) → BB",
    }
    assert HolderPath(Basis.ORIGIN, ("s",), "AA").as_dict() == {
        "basis": "origin",
        "via": ["s"],
        "party": "AA",
        "share": None,
        "text": "s → origin → AA",
    }


def test_a_holder_s_bases_are_those_of_its_paths() -> None:
    """Each basis once, whatever the number of paths."""
    holder = ConsentHolder(
        "BB",
        (
            HolderPath(Basis.COMPONENT, ("s", "k"), "BB", Decimal("0.3")),
            HolderPath(Basis.COMPONENT, ("s", "j"), "BB", Decimal("0.1")),
            HolderPath(Basis.SOFTWARE, ("s",), "BB"),
        ),
    )
    assert holder.bases == frozenset({Basis.COMPONENT, Basis.SOFTWARE})


def test_the_report_names_every_holder_and_each_of_its_paths() -> None:
    """What the command line and the API show of a system: its holders in order, and why."""
    shown = catalog()
    assert holders_report(shown, "s") == {
        "system": "s",
        "catalog_revision": shown.revision,
        "consent_holders": ["AA", "BB", "CC", "DD"],
        "holder_paths": {
            "AA": [
                {
                    "basis": "origin",
                    "via": ["s"],
                    "party": "AA",
                    "share": None,
                    "text": "s → origin → AA",
                }
            ],
            "BB": [
                {
                    "basis": "component",
                    "via": ["s", "k"],
                    "party": "BB",
                    "share": 0.3,
                    "text": "s → k → component (30% of value) → BB",
                }
            ],
            "CC": [
                {
                    "basis": "software",
                    "via": ["s"],
                    "party": "CC",
                    "share": None,
                    "text": "s → software → CC",
                }
            ],
            "DD": [
                {
                    "basis": "licence",
                    "via": ["s", "k"],
                    "party": "DD",
                    "share": None,
                    "text": "s → k → licence → DD",
                }
            ],
        },
    }


def test_an_unknown_system_is_refused_naming_the_known_ones() -> None:
    """The refusal lists every system the catalog holds, in its order."""
    with pytest.raises(NotFoundError) as refused:
        holders_report(catalog(), "scalp")
    assert str(refused.value) == "unknown system 'scalp' (known: s, t)"


def test_the_systems_are_listed_with_their_fields_and_holders_but_not_their_insides() -> None:
    """Every system of the catalog, in order, without its dependencies."""
    assert systems_report(catalog("0.2")) == [
        {
            "id": "s",
            "name": "Striker",
            "origin": "AA",
            "category": "missile",
            "range_km": 100,
            "major_defense_equipment": False,
            "illustrative": False,
            "notes": "",
            "consent_holders": ["AA", "CC", "DD"],
        },
        {
            "id": "t",
            "name": "Tracker",
            "origin": "AA",
            "category": "radar",
            "range_km": 0,
            "major_defense_equipment": True,
            "illustrative": False,
            "notes": "",
            "consent_holders": ["AA"],
        },
    ]


def test_an_unknown_system_s_holders_are_a_key_error_naming_it() -> None:
    """The derivation is asked only of systems the catalog holds."""
    with pytest.raises(KeyError) as refused:
        consent_holders(catalog(), "scalp")
    assert refused.value.args == ("scalp",)


def test_what_is_kept_between_questions_never_exceeds_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answers kept are dropped when the bound is reached, before one more is kept; an
    answer kept is given again as it was."""
    kept: dict[Any, Any] = {}
    monkeypatch.setattr(holders, "_CACHE", kept)
    monkeypatch.setattr(holders, "_CACHE_LIMIT", 2)
    shown = [catalog(share) for share in ("0.3", "0.4")]
    first = consent_holders(shown[0], "s")
    consent_holders(shown[0], "t")
    assert len(kept) == 2
    assert consent_holders(shown[0], "s") is first
    consent_holders(shown[1], "s")
    assert list(kept) == [(shown[1].revision, "s")]
