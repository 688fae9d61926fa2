"""Consent holders: de minimis arithmetic, see-through items, reliance, cycles, path texts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from clearance.core.catalog import Catalog, CatalogIntegrityError
from clearance.core.holders import Basis, consent_holders

PARTIES = ("AA", "BB", "CC", "DD", "GB", "US")


def make_catalog(
    system_deps: list[dict[str, Any]],
    components: list[dict[str, Any]] | None = None,
    *,
    origin: str = "AA",
    de_minimis: dict[str, Any] | None = None,
) -> Catalog:
    """One system ``s`` of ``origin`` with the given dependencies; parties AA–DD, GB, US."""
    de_minimis = de_minimis or {}
    parties = [
        {
            "code": code,
            "name": code,
            **({"de_minimis": de_minimis[code]} if code in de_minimis else {}),
        }
        for code in PARTIES
    ]
    return Catalog.model_validate(
        {
            "parties": parties,
            "components": [{"name": c["id"], **c} for c in components or []],
            "systems": [
                {
                    "id": "s",
                    "name": "s",
                    "origin": origin,
                    "category": "missile",
                    "range_km": 100,
                    "dependencies": system_deps,
                }
            ],
        }
    )


def comp(component: str, share: Any) -> dict[str, Any]:
    return {"kind": "component", "component": component, "share": share}


def holders_of(catalog: Catalog) -> dict[str, list[str]]:
    """``{party: [path text, ...]}`` for system ``s``."""
    return {h.party: [p.text for p in h.paths] for h in consent_holders(catalog, "s")}


# --- de minimis arithmetic ---------------------------------------------------------------


def test_origin_is_always_a_holder_and_its_path_reads_origin() -> None:
    assert holders_of(make_catalog([])) == {"AA": ["s → origin → AA"]}


def test_a_share_exactly_at_the_threshold_does_not_make_a_holder() -> None:
    catalog = make_catalog([comp("c1", "0.25")], [{"id": "c1", "supplier": "BB"}])
    assert "BB" not in holders_of(catalog)


def test_a_share_just_above_the_threshold_makes_a_holder() -> None:
    catalog = make_catalog([comp("c1", "0.2501")], [{"id": "c1", "supplier": "BB"}])
    found = consent_holders(catalog, "s")
    bb = next(h for h in found if h.party == "BB")
    assert bb.bases == {Basis.COMPONENT}
    assert [p.share for p in bb.paths] == [Decimal("0.2501")]
    assert [p.text for p in bb.paths] == ["s → c1 → component (25.01% of value) → BB"]


def test_shares_add_up_across_components_of_one_supplier() -> None:
    components = [{"id": "c1", "supplier": "BB"}, {"id": "c2", "supplier": "BB"}]
    catalog = make_catalog([comp("c1", "0.15"), comp("c2", "0.15")], components)
    assert holders_of(catalog)["BB"] == [
        "s → c1 → component (15% of value) → BB",
        "s → c2 → component (15% of value) → BB",
    ]


def test_shares_that_add_up_to_exactly_the_threshold_do_not_make_a_holder() -> None:
    # Written as floats, as YAML gives them: 0.10 + 0.15 must be exactly 0.25.
    components = [{"id": "c1", "supplier": "BB"}, {"id": "c2", "supplier": "BB"}]
    catalog = make_catalog([comp("c1", 0.10), comp("c2", 0.15)], components)
    assert "BB" not in holders_of(catalog)


def test_shares_of_different_suppliers_do_not_add_up() -> None:
    components = [{"id": "c1", "supplier": "BB"}, {"id": "c2", "supplier": "CC"}]
    catalog = make_catalog([comp("c1", "0.2"), comp("c2", "0.2")], components)
    assert set(holders_of(catalog)) == {"AA"}


def test_nested_shares_multiply_along_the_path() -> None:
    # inner is 50% of outer, outer is 50% of the system: 25% of the system, not above.
    components = [
        {"id": "outer", "supplier": "CC", "dependencies": [comp("inner", "0.5")]},
        {"id": "inner", "supplier": "BB"},
    ]
    at_threshold = make_catalog([comp("outer", "0.5")], components)
    assert set(holders_of(at_threshold)) == {"AA", "CC"}

    above = make_catalog([comp("outer", "0.6")], components)
    assert holders_of(above)["BB"] == ["s → outer → inner → component (30% of value) → BB"]


def test_nested_and_direct_shares_of_one_supplier_add_up() -> None:
    # 10% direct + 40% of 50% nested = 30% in all.
    components = [
        {"id": "direct", "supplier": "BB"},
        {"id": "outer", "supplier": "CC", "dependencies": [comp("inner", "0.4")]},
        {"id": "inner", "supplier": "BB"},
    ]
    catalog = make_catalog([comp("direct", "0.1"), comp("outer", "0.5")], components)
    assert holders_of(catalog)["BB"] == [
        "s → direct → component (10% of value) → BB",
        "s → outer → inner → component (20% of value) → BB",
    ]
    assert "CC" in holders_of(catalog)  # 50% of the value


def test_a_component_used_twice_counts_twice() -> None:
    components = [
        {"id": "a", "supplier": "CC", "dependencies": [comp("part", "0.5")]},
        {"id": "b", "supplier": "DD", "dependencies": [comp("part", "0.5")]},
        {"id": "part", "supplier": "BB"},
    ]
    # 0.2 * 0.5 + 0.2 * 0.5 = 0.2: not enough; 0.3 * 0.5 * 2 = 0.3: enough.
    assert "BB" not in holders_of(make_catalog([comp("a", "0.2"), comp("b", "0.2")], components))
    assert "BB" in holders_of(make_catalog([comp("a", "0.3"), comp("b", "0.3")], components))


@pytest.mark.parametrize(
    ("threshold", "share", "holder"),
    [
        ("0.1", "0.1", False),
        ("0.1", "0.11", True),
        ("0.5", "0.3", False),
        ("0.5", "0.51", True),
        ("0", "0.001", True),
        ("0", "0", False),
        ("1", "1", False),
    ],
)
def test_per_party_de_minimis_overrides_the_default(
    threshold: str, share: str, holder: bool
) -> None:
    catalog = make_catalog(
        [comp("c1", share)], [{"id": "c1", "supplier": "BB"}], de_minimis={"BB": threshold}
    )
    assert ("BB" in holders_of(catalog)) is holder


def test_a_party_s_override_applies_only_to_that_party() -> None:
    components = [{"id": "b", "supplier": "BB"}, {"id": "c", "supplier": "CC"}]
    catalog = make_catalog(
        [comp("b", "0.2"), comp("c", "0.2")], components, de_minimis={"BB": "0.1"}
    )
    assert set(holders_of(catalog)) == {"AA", "BB"}


def test_de_minimis_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValidationError):
        make_catalog([], de_minimis={"BB": "1.5"})
    with pytest.raises(ValidationError):
        make_catalog([comp("c1", "-0.1")], [{"id": "c1", "supplier": "BB"}])


# --- see-through -------------------------------------------------------------------------


@pytest.mark.parametrize("share", ["0", "0.01", "0.25", "0.9"])
def test_a_see_through_component_makes_a_holder_at_any_share(share: str) -> None:
    catalog = make_catalog(
        [comp("seeker", share)], [{"id": "seeker", "supplier": "BB", "see_through": True}]
    )
    found = {h.party: h for h in consent_holders(catalog, "s")}
    assert "BB" in found
    assert found["BB"].bases == {Basis.SEE_THROUGH}


def test_see_through_path_text_names_its_share() -> None:
    catalog = make_catalog(
        [comp("seeker", "0.05")], [{"id": "seeker", "supplier": "US", "see_through": True}]
    )
    assert holders_of(catalog)["US"] == ["s → seeker → see-through (5% of value) → US"]


def test_see_through_deep_inside_another_party_s_component_still_counts() -> None:
    components = [
        {"id": "kit", "supplier": "CC", "dependencies": [comp("chip", "0.01")]},
        {"id": "chip", "supplier": "BB", "see_through": True},
    ]
    catalog = make_catalog([comp("kit", "0.1")], components)
    holders = holders_of(catalog)
    assert "CC" not in holders  # 10%, under de minimis
    assert holders["BB"] == ["s → kit → chip → see-through (0.1% of value) → BB"]


def test_see_through_also_lists_the_party_s_other_components() -> None:
    components = [
        {"id": "seeker", "supplier": "BB", "see_through": True},
        {"id": "fin", "supplier": "BB"},
    ]
    catalog = make_catalog([comp("seeker", "0.01"), comp("fin", "0.01")], components)
    found = next(h for h in consent_holders(catalog, "s") if h.party == "BB")
    assert found.bases == {Basis.SEE_THROUGH, Basis.COMPONENT}


# --- reliance -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["targeting-data", "intelligence", "software", "licence"])
def test_reliance_makes_a_holder_whatever_its_kind(kind: str) -> None:
    catalog = make_catalog([{"kind": kind, "supplier": "US"}])
    found = next(h for h in consent_holders(catalog, "s") if h.party == "US")
    assert found.bases == {Basis(kind)}
    assert [p.text for p in found.paths] == [f"s → {kind} → US"]
    assert found.paths[0].share is None


def test_reliance_inside_a_small_component_still_makes_a_holder() -> None:
    components = [
        {
            "id": "kit",
            "supplier": "GB",
            "dependencies": [{"kind": "software", "supplier": "US"}],
        }
    ]
    catalog = make_catalog([comp("kit", "0.01")], components)
    holders = holders_of(catalog)
    assert "GB" not in holders
    assert holders["US"] == ["s → kit → software → US"]


def test_a_party_with_several_bases_keeps_every_path_and_holders_are_sorted() -> None:
    components = [{"id": "c1", "supplier": "AA"}]
    catalog = make_catalog(
        [
            {"kind": "intelligence", "supplier": "DD"},
            comp("c1", "0.3"),
            {"kind": "targeting-data", "supplier": "AA"},
        ],
        components,
    )
    assert holders_of(catalog) == {
        "AA": [
            "s → origin → AA",
            "s → c1 → component (30% of value) → AA",
            "s → targeting-data → AA",
        ],
        "DD": ["s → intelligence → DD"],
    }
    assert [h.party for h in consent_holders(catalog, "s")] == ["AA", "DD"]


def test_path_as_dict_carries_basis_via_share_and_text() -> None:
    catalog = make_catalog([comp("c1", "0.3")], [{"id": "c1", "supplier": "BB"}])
    bb = next(h for h in consent_holders(catalog, "s") if h.party == "BB")
    assert bb.paths[0].as_dict() == {
        "basis": "component",
        "via": ["s", "c1"],
        "party": "BB",
        "share": 0.3,
        "text": "s → c1 → component (30% of value) → BB",
    }


def test_an_unknown_system_raises_key_error() -> None:
    with pytest.raises(KeyError):
        consent_holders(make_catalog([]), "nosuch")


def test_the_cache_tells_catalogs_apart() -> None:
    component = [{"id": "c1", "supplier": "BB"}]
    below = make_catalog([comp("c1", "0.2")], component)
    above = make_catalog([comp("c1", "0.3")], component)
    assert "BB" not in holders_of(below)
    assert "BB" in holders_of(above)
    assert "BB" not in holders_of(below)


def test_the_seed_storm_shadow_holders(seed_pack: Any) -> None:
    found = {
        h.party: [p.text for p in h.paths]
        for h in consent_holders(seed_pack.catalog, "storm-shadow")
    }
    assert found["US"] == ["storm-shadow → targeting-data → US"]
    assert found["GB"] == ["storm-shadow → origin → GB"]
    assert set(found) == {"FR", "GB", "US"}
    flamingo = consent_holders(seed_pack.catalog, "flamingo")
    assert [h.party for h in flamingo] == ["UA"]


# --- cycles and references ------------------------------------------------------------------


def _integrity_error(exc: ValidationError) -> CatalogIntegrityError:
    cause = exc.errors()[0]["ctx"]["error"]
    assert isinstance(cause, CatalogIntegrityError)
    return cause


def test_a_dependency_cycle_is_refused_and_named() -> None:
    components = [
        {"id": "c1", "supplier": "BB", "dependencies": [comp("c2", "0.5")]},
        {"id": "c2", "supplier": "CC", "dependencies": [comp("c3", "0.5")]},
        {"id": "c3", "supplier": "DD", "dependencies": [comp("c1", "0.5")]},
    ]
    with pytest.raises(ValidationError) as caught:
        make_catalog([comp("c1", "0.5")], components)
    error = _integrity_error(caught.value)
    assert "dependency cycle c1 → c2 → c3 → c1" in error.problem
    assert error.where == "components[2]"


def test_a_component_that_contains_itself_is_a_cycle() -> None:
    components = [{"id": "loop", "supplier": "BB", "dependencies": [comp("loop", "0.1")]}]
    with pytest.raises(ValidationError) as caught:
        make_catalog([], components)
    error = _integrity_error(caught.value)
    assert "dependency cycle loop → loop" in error.problem
    assert error.where == "components[0]"


def test_a_diamond_is_not_a_cycle() -> None:
    components = [
        {"id": "a", "supplier": "BB", "dependencies": [comp("c", "0.5")]},
        {"id": "b", "supplier": "BB", "dependencies": [comp("c", "0.5")]},
        {"id": "c", "supplier": "CC"},
    ]
    catalog = make_catalog([comp("a", "0.5"), comp("b", "0.5")], components)
    assert holders_of(catalog)["CC"] == [
        "s → a → c → component (25% of value) → CC",
        "s → b → c → component (25% of value) → CC",
    ]


@pytest.mark.parametrize(
    ("deps", "components", "where", "problem"),
    [
        ([comp("ghost", "0.1")], [], "systems[0].dependencies[0].component", "ghost"),
        ([{"kind": "licence", "supplier": "ZZ"}], [], "systems[0].dependencies[0].supplier", "ZZ"),
        ([], [{"id": "c", "supplier": "ZZ"}], "components[0].supplier", "ZZ"),
    ],
)
def test_unknown_references_name_the_place(
    deps: list[dict[str, Any]], components: list[dict[str, Any]], where: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_catalog(deps, components)
    error = _integrity_error(caught.value)
    assert error.where == where
    assert problem in error.problem


def test_a_seed_system_flagged_illustrative_does_not_say_so_again_in_its_name(
    seed_pack: Any,
) -> None:
    """Every interface marks a flagged system "illustrative" itself (the catalog command, the
    web catalog, the request form); a name that says it too reads it twice."""
    flagged = [s for s in seed_pack.catalog.systems if s.illustrative]
    assert flagged
    assert [s.id for s in flagged if "illustrative" in s.name.lower()] == []
