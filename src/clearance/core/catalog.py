"""The catalog: parties, their offices, weapon systems and what they depend on.

The catalog is data from a scenario pack, validated here with pydantic so that
every error can name the path inside the file (``systems[2].origin``). The
model is immutable: a changed catalog is a new catalog with a new revision,
which is what consent-holder derivation caches on.

Zones name sets of target regions (ISO 3166-2) with a history, so that policy
can say "the regions across the border from Kharkiv" once and the catalog
revision changes when a zone does.

Components are declared once, by id, and referenced from systems and from
other components. That is how real bills of materials look, and it is why
the graph can contain cycles: they are refused when the catalog is built.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clearance.core.dates import check_in_range
from clearance.core.digest import canonical_digest
from clearance.core.regions import region_problem

__all__ = [
    "DEFAULT_DE_MINIMIS",
    "Authority",
    "Catalog",
    "CatalogIntegrityError",
    "Component",
    "ComponentDependency",
    "Dependency",
    "DependencyKind",
    "Party",
    "RelianceDependency",
    "System",
    "Zone",
    "ZoneSpan",
]

DEFAULT_DE_MINIMIS = Decimal("0.25")
"""A party's controlled value share must exceed this to make it a consent holder."""

PARTY_CODE = r"^([A-Z]{2}|[a-z][a-z0-9-]*)$"
"""ISO 3166-1 alpha-2 (``US``) or a lower-case group name (``european-partners``)."""

ID = r"^[a-z0-9][a-z0-9.-]*$"

PartyCode = Annotated[str, Field(pattern=PARTY_CODE)]
Share = Annotated[Decimal, Field(ge=0, le=1)]


class DependencyKind(StrEnum):
    """What a system or component relies on another party for."""

    COMPONENT = "component"
    TARGETING_DATA = "targeting-data"
    INTELLIGENCE = "intelligence"
    SOFTWARE = "software"
    LICENCE = "licence"


class CatalogIntegrityError(ValueError):
    """The catalog's entries do not fit together (unknown reference, cycle).

    ``where`` is the path inside the catalog file, e.g. ``systems[1].origin``.
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Party(_Frozen):
    """A state or a named group of states that can hold consent or fund a purchase."""

    code: PartyCode
    name: str
    kind: Literal["state", "group"] = "state"
    members: tuple[PartyCode, ...] = ()
    de_minimis: Share = DEFAULT_DE_MINIMIS

    @model_validator(mode="after")
    def _members_only_for_groups(self) -> Party:
        if self.members and self.kind != "group":
            raise ValueError("only a party of kind 'group' can have members")
        return self


class Authority(_Frozen):
    """An office of a party (``us.secdef``); policy names offices, not people."""

    id: Annotated[str, Field(pattern=ID)]
    party: PartyCode
    title: str


class ComponentDependency(_Frozen):
    """Reliance on a component, with the share of the parent's value it makes up."""

    kind: Literal[DependencyKind.COMPONENT] = DependencyKind.COMPONENT
    component: Annotated[str, Field(pattern=ID)]
    share: Share


class RelianceDependency(_Frozen):
    """Reliance on data, intelligence, software or a licence supplied by a party."""

    kind: Literal[
        DependencyKind.TARGETING_DATA,
        DependencyKind.INTELLIGENCE,
        DependencyKind.SOFTWARE,
        DependencyKind.LICENCE,
    ]
    supplier: PartyCode
    description: str = ""


Dependency = Annotated[ComponentDependency | RelianceDependency, Field(discriminator="kind")]


class Component(_Frozen):
    """A part supplied by a party; ``see_through`` items stay controlled at any share."""

    id: Annotated[str, Field(pattern=ID)]
    name: str
    supplier: PartyCode
    see_through: bool = False
    dependencies: tuple[Dependency, ...] = ()


class System(_Frozen):
    """A weapon system or munition type in the catalog."""

    id: Annotated[str, Field(pattern=ID)]
    name: str
    origin: PartyCode
    category: str
    range_km: Annotated[int, Field(ge=0)]
    major_defense_equipment: bool = False
    """Major defence equipment in the sense of the US Arms Export Control Act (legislative
    review thresholds are lower for it)."""
    illustrative: bool = False
    notes: str = ""
    dependencies: tuple[Dependency, ...] = ()


class ZoneSpan(_Frozen):
    """The regions a zone holds from ``effective_from`` until its next span (an empty
    ``regions`` ends the zone)."""

    effective_from: dt.date
    regions: tuple[str, ...]
    note: str = ""


class Zone(_Frozen):
    """A named set of regions that policy can test (``kharkiv-border``), with its history.

    Like a holder's bundles, a zone's spans replace one another from their dates
    and the old ones are kept, so a request is judged by the zone as it stood on
    the request's date.
    """

    id: Annotated[str, Field(pattern=ID)]
    name: str
    illustrative: bool = False
    notes: str = ""
    history: Annotated[tuple[ZoneSpan, ...], Field(min_length=1)]

    def regions_on(self, on: dt.date) -> tuple[str, ...]:
        """The regions the zone holds on ``on`` (none before its first span)."""
        index = bisect.bisect_right([s.effective_from for s in self.history], on) - 1
        return self.history[index].regions if index >= 0 else ()


def _check_zone(where: str, zone: Zone) -> None:
    """Refuse spans out of date order or on one date, and regions ISO 3166-2 does not list."""
    for index, span in enumerate(zone.history):
        at = f"{where}.history[{index}]"
        try:
            check_in_range(span.effective_from)
        except ValueError as exc:
            raise CatalogIntegrityError(f"{at}.effective_from", str(exc)) from None
        if index and span.effective_from <= zone.history[index - 1].effective_from:
            earlier = zone.history[index - 1].effective_from.isoformat()
            raise CatalogIntegrityError(
                f"{at}.effective_from",
                f"zone '{zone.id}' already has a span from {earlier}: spans must be in date"
                " order, one per date",
            )
        for number, region in enumerate(span.regions):
            problem = region_problem(region)
            if problem is not None:
                raise CatalogIntegrityError(f"{at}.regions[{number}]", problem)


def _unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            raise CatalogIntegrityError(f"{kind}[{index}]", f"duplicate id '{item}'")
        seen.add(item)


class Catalog(_Frozen):
    """Everything the decision engine knows about who makes and supplies what."""

    parties: tuple[Party, ...]
    authorities: tuple[Authority, ...] = ()
    components: tuple[Component, ...] = ()
    systems: tuple[System, ...]
    zones: tuple[Zone, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        _unique("parties", [p.code for p in self.parties])
        _unique("zones", [z.id for z in self.zones])
        for index, zone in enumerate(self.zones):
            _check_zone(f"zones[{index}]", zone)
        _unique("authorities", [a.id for a in self.authorities])
        _unique("components", [c.id for c in self.components])
        _unique("systems", [s.id for s in self.systems])
        parties = {p.code for p in self.parties}
        components = {c.id for c in self.components}

        def party(where: str, code: str) -> None:
            if code not in parties:
                raise CatalogIntegrityError(where, f"unknown party '{code}'")

        def dependencies(where: str, deps: tuple[Dependency, ...]) -> None:
            for index, dep in enumerate(deps):
                at = f"{where}.dependencies[{index}]"
                if isinstance(dep, ComponentDependency):
                    if dep.component not in components:
                        raise CatalogIntegrityError(
                            f"{at}.component", f"unknown component '{dep.component}'"
                        )
                else:
                    party(f"{at}.supplier", dep.supplier)

        for index, p in enumerate(self.parties):
            for member_index, member in enumerate(p.members):
                party(f"parties[{index}].members[{member_index}]", member)
        for index, a in enumerate(self.authorities):
            party(f"authorities[{index}].party", a.party)
        for index, c in enumerate(self.components):
            party(f"components[{index}].supplier", c.supplier)
            dependencies(f"components[{index}]", c.dependencies)
        for index, s in enumerate(self.systems):
            party(f"systems[{index}].origin", s.origin)
            dependencies(f"systems[{index}]", s.dependencies)
        self._refuse_cycles()
        return self

    def _refuse_cycles(self) -> None:
        """Refuse a component that (through others) contains itself."""
        index_of = {c.id: i for i, c in enumerate(self.components)}
        by_id = {c.id: c for c in self.components}
        done: set[str] = set()

        def visit(component_id: str, trail: tuple[str, ...]) -> None:
            if component_id in trail:
                cycle = " → ".join((*trail[trail.index(component_id) :], component_id))
                where = f"components[{index_of[trail[-1]]}]"
                raise CatalogIntegrityError(where, f"dependency cycle {cycle}")
            if component_id in done:
                return
            for dep in by_id[component_id].dependencies:
                if isinstance(dep, ComponentDependency):
                    visit(dep.component, (*trail, component_id))
            done.add(component_id)  # pragma: no mutate

        for component in self.components:
            visit(component.id, ())

    @cached_property
    def revision(self) -> str:
        """Content digest: equal catalogs have equal revisions, whatever the file layout.

        Zones are in it (a changed zone is a changed catalog); a catalog without
        zones digests as it did before zones existed, so its recorded revisions hold.
        """
        data = self.model_dump(mode="json")
        if not self.zones:
            del data["zones"]
        return canonical_digest(data)

    @cached_property
    def _parties(self) -> dict[str, Party]:
        return {p.code: p for p in self.parties}

    @cached_property
    def _authorities(self) -> dict[str, Authority]:
        return {a.id: a for a in self.authorities}

    @cached_property
    def _components(self) -> dict[str, Component]:
        return {c.id: c for c in self.components}

    @cached_property
    def _systems(self) -> dict[str, System]:
        return {s.id: s for s in self.systems}

    def party(self, code: str) -> Party | None:
        return self._parties.get(code)

    def authority(self, authority_id: str) -> Authority | None:
        return self._authorities.get(authority_id)

    def component(self, component_id: str) -> Component:
        return self._components[component_id]

    def system(self, system_id: str) -> System | None:
        return self._systems.get(system_id)

    def zone(self, zone_id: str) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)

    def zones_of(self, region: str, on: dt.date) -> tuple[str, ...]:
        """The zones that hold ``region`` on ``on``, sorted: what policy sees of a target."""
        return tuple(sorted(z.id for z in self.zones if region in z.regions_on(on)))

    def groups_of(self, code: str) -> tuple[str, ...]:
        """The groups a party belongs to, for Cedar's ``in`` (``DE in european-partners``)."""
        return tuple(p.code for p in self.parties if code in p.members)
