"""Who has a right of consent over a system, and through what.

A party holds consent over a system when

- it is the system's **origin**;
- its components make up **more than its de minimis share** of the system's
  value (per party, default 25%), adding up every component it supplies at
  any depth, each weighted by the shares along its path;
- it supplies a **see-through** component, whatever that component's share
  (the ITAR rule: a controlled item stays controlled inside anything);
- the system, or any component inside it, relies on its **targeting data,
  intelligence, software or licence**.

Each holder comes with every path that gives it the right, so a reviewer can
see *why* the United States must consent to a British missile.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from clearance.core.catalog import Catalog, ComponentDependency, Dependency
from clearance.errors import NotFoundError

__all__ = [
    "Basis",
    "ConsentHolder",
    "HolderPath",
    "consent_holders",
    "holders_report",
    "systems_report",
]


class Basis(StrEnum):
    """The kind of link that gives a party its right of consent."""

    ORIGIN = "origin"
    COMPONENT = "component"
    SEE_THROUGH = "see-through"
    TARGETING_DATA = "targeting-data"
    INTELLIGENCE = "intelligence"
    SOFTWARE = "software"
    LICENCE = "licence"


@dataclass(frozen=True, slots=True)
class HolderPath:
    """One route from a system to a party that gives the party consent.

    ``via`` runs from the system through the components down to the item that
    carries the dependency; ``share`` is the value share of the system that the
    route's last component makes up (components only).
    """

    basis: Basis
    via: tuple[str, ...]
    party: str
    share: Decimal | None = None

    @property
    def text(self) -> str:
        """``storm-shadow → targeting-data → US``, the way reviewers read it."""
        if self.basis is Basis.ORIGIN:
            return f"{self.via[0]} → origin → {self.party}"
        steps = " → ".join(self.via)
        share = f" ({float(self.share * 100):g}% of value)" if self.share is not None else ""
        return f"{steps} → {self.basis.value}{share} → {self.party}"

    def as_dict(self) -> dict[str, object]:
        return {
            "basis": self.basis.value,
            "via": list(self.via),
            "party": self.party,
            "share": None if self.share is None else float(self.share),
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class ConsentHolder:
    """A party whose consent is needed, with every path that gives it."""

    party: str
    paths: tuple[HolderPath, ...]

    @property
    def bases(self) -> frozenset[Basis]:
        return frozenset(path.basis for path in self.paths)


@dataclass(slots=True)
class _Walk:
    catalog: Catalog
    reliance: dict[str, list[HolderPath]]
    component_paths: dict[str, list[HolderPath]]
    component_share: dict[str, Decimal]
    see_through: set[str]

    def dependencies(
        self, deps: tuple[Dependency, ...], via: tuple[str, ...], weight: Decimal
    ) -> None:
        for dep in deps:
            if isinstance(dep, ComponentDependency):
                component = self.catalog.component(dep.component)
                share = weight * dep.share
                here = (*via, component.id)
                supplier = component.supplier
                basis = Basis.SEE_THROUGH if component.see_through else Basis.COMPONENT
                self.component_paths[supplier].append(HolderPath(basis, here, supplier, share))
                self.component_share[supplier] += share
                if component.see_through:
                    self.see_through.add(supplier)
                self.dependencies(component.dependencies, here, share)
            else:
                path = HolderPath(Basis(dep.kind.value), via, dep.supplier)
                self.reliance[dep.supplier].append(path)


def _derive(catalog: Catalog, system_id: str) -> tuple[ConsentHolder, ...]:
    system = catalog.system(system_id)
    if system is None:
        raise KeyError(system_id)
    walk = _Walk(catalog, defaultdict(list), defaultdict(list), defaultdict(Decimal), set())
    walk.dependencies(system.dependencies, (system.id,), Decimal(1))

    paths: dict[str, list[HolderPath]] = defaultdict(list)
    paths[system.origin].append(HolderPath(Basis.ORIGIN, (system.id,), system.origin))
    for party, share in walk.component_share.items():
        threshold = _threshold(catalog, party)
        if party in walk.see_through or share > threshold:
            paths[party].extend(walk.component_paths[party])
    for party, routes in walk.reliance.items():
        paths[party].extend(routes)
    return tuple(
        ConsentHolder(party, tuple(dict.fromkeys(routes)))
        for party, routes in sorted(paths.items())
    )


def _threshold(catalog: Catalog, party_code: str) -> Decimal:
    party = catalog.party(party_code)
    assert party is not None  # catalog validation makes every supplier a party
    return party.de_minimis


_CACHE: dict[tuple[str, str], tuple[ConsentHolder, ...]] = {}
_CACHE_LIMIT = 65_536


def consent_holders(catalog: Catalog, system_id: str) -> tuple[ConsentHolder, ...]:
    """Every party with a right of consent over ``system_id``, sorted by party code.

    Cached per catalog revision: the derivation walks the whole component tree,
    and a screening run asks the same question for every request.
    Raises ``KeyError`` for a system that is not in the catalog.
    """
    key = (catalog.revision, system_id)
    found = _CACHE.get(key)
    if found is None:
        found = _derive(catalog, system_id)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def holders_report(catalog: Catalog, system_id: str) -> dict[str, Any]:
    """Who must consent to ``system_id`` and why, as the CLI and the API show it."""
    if catalog.system(system_id) is None:
        known = ", ".join(s.id for s in catalog.systems)
        raise NotFoundError(f"unknown system '{system_id}' (known: {known})")
    found = consent_holders(catalog, system_id)
    return {
        "system": system_id,
        "catalog_revision": catalog.revision,
        "consent_holders": [h.party for h in found],
        "holder_paths": {h.party: [p.as_dict() for p in h.paths] for h in found},
    }


def systems_report(catalog: Catalog) -> list[dict[str, Any]]:
    """Every system of the catalog with its consent holders."""
    return [
        {
            **s.model_dump(mode="json", exclude={"dependencies"}),  # pragma: no mutate
            "consent_holders": [h.party for h in consent_holders(catalog, s.id)],
        }
        for s in catalog.systems
    ]
