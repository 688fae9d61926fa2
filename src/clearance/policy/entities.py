"""The Cedar vocabulary clearance speaks: entities from the catalog, requests from requests.

Every bundle's schema must declare these types (the seed pack's
``schema.cedarschema`` is the reference):

- ``Party`` (``name``, ``kind``), a member of the groups it belongs to, so that
  ``Party::"DE" in Party::"european-partners"`` holds;
- ``Authority`` (``party``, ``title``), the offices that gates name;
- ``System`` (``name``, ``origin``, ``category``, ``range_km``);
- actions ``employ`` and ``transfer`` with principal ``Party`` (the requester),
  resource ``System`` and the context built by ``cedar_request``; a schema that
  declares ``stockpile`` in the context must declare it as the seed does.

A target's region and zones travel in the context, not as entities: a zone's
regions change with the date (``core.catalog.Zone``), and the entities of a
bundle are built once, so ``context.target.region`` is the ISO 3166-2 code and
``context.target.zones`` the zones holding it on the date the request is judged
as of. Both are absent when the request names no region, so a policy that tests
them (``context.target has zones && …``) does not permit without one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from clearance.core.catalog import Catalog
from clearance.core.request import EmployRequest, TransferRequest
from clearance.core.stockpile import StockpileFacts

__all__ = ["OUTSIDE_ZONES", "catalog_entities", "cedar_request", "target_zones", "zone_labels"]

OUTSIDE_ZONES = "outside every zone"
"""How reports name a target region that no zone holds."""


def _uid(kind: str, id_: str) -> dict[str, str]:
    return {"type": kind, "id": id_}


def _ref(kind: str, id_: str) -> dict[str, dict[str, str]]:
    return {"__entity": _uid(kind, id_)}


def catalog_entities(catalog: Catalog) -> list[dict[str, Any]]:
    """Cedar entities for every party, authority and system of the catalog."""
    entities: list[dict[str, Any]] = [
        {
            "uid": _uid("Party", p.code),
            "attrs": {"name": p.name, "kind": p.kind},
            "parents": [_uid("Party", g) for g in catalog.groups_of(p.code)],
        }
        for p in catalog.parties
    ]
    entities += [
        {
            "uid": _uid("Authority", a.id),
            "attrs": {"party": _ref("Party", a.party), "title": a.title},
            "parents": [],
        }
        for a in catalog.authorities
    ]
    entities += [
        {
            "uid": _uid("System", s.id),
            "attrs": {
                "name": s.name,
                "origin": _ref("Party", s.origin),
                "category": s.category,
                "range_km": s.range_km,
            },
            "parents": [],
        }
        for s in catalog.systems
    ]
    return entities


def target_zones(
    catalog: Catalog, request: EmployRequest | TransferRequest, on: dt.date
) -> tuple[str, ...]:
    """The zones holding the request's target region on ``on`` (none without a region)."""
    if isinstance(request, EmployRequest) and request.target.region is not None:
        return catalog.zones_of(request.target.region, on)
    return ()


def zone_labels(catalog: Catalog, request: EmployRequest | TransferRequest) -> tuple[str, ...]:
    """Where a changed outcome lies, for reports that count changes by zone: the zones holding
    the target's region on the request's date, ``OUTSIDE_ZONES`` for a region none holds, and
    nothing for a request without a region (its change does not depend on one)."""
    if not isinstance(request, EmployRequest) or request.target.region is None:
        return ()
    return target_zones(catalog, request, request.date) or (OUTSIDE_ZONES,)


def cedar_request(
    request: EmployRequest | TransferRequest,
    bases: Iterable[str],
    approvals: Iterable[str],
    stockpile: StockpileFacts | None = None,
    zones: Iterable[str] = (),
) -> dict[str, Any]:
    """The Cedar request for one holder: the request's facts, the holder's bases, approvals.

    ``stockpile`` (transfers from a tracked position only) becomes ``context.stockpile``;
    ``zones`` (from ``target_zones``) becomes ``context.target.zones`` with the region.
    """
    context: dict[str, Any] = {
        "quantity": request.quantity,
        "basis": sorted(bases),
        "approvals": [_ref("Authority", a) for a in sorted(approvals)],
    }
    if isinstance(request, EmployRequest):
        target: dict[str, Any] = {"territory": _ref("Party", request.target.territory)}
        if request.target.region is not None:
            target["region"] = request.target.region
            target["zones"] = sorted(zones)
        context["target"] = target
    else:
        context["recipient"] = _ref("Party", request.recipient)
        if request.funding is not None:
            context["funding"] = _ref("Party", request.funding)
        if request.value_usd is not None:
            context["value_usd"] = request.value_usd
        if stockpile is not None:
            context["stockpile"] = stockpile.cedar()
    return {
        "principal": _uid("Party", request.requester),
        "action": _uid("Action", request.action),
        "resource": _uid("System", request.system),
        "context": context,
    }
