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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clearance.core.catalog import Catalog
from clearance.core.request import EmployRequest, TransferRequest
from clearance.core.stockpile import StockpileFacts

__all__ = ["catalog_entities", "cedar_request"]


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


def cedar_request(
    request: EmployRequest | TransferRequest,
    bases: Iterable[str],
    approvals: Iterable[str],
    stockpile: StockpileFacts | None = None,
) -> dict[str, Any]:
    """The Cedar request for one holder: the request's facts, the holder's bases, approvals.

    ``stockpile`` (transfers from a tracked position only) becomes ``context.stockpile``.
    """
    context: dict[str, Any] = {
        "quantity": request.quantity,
        "basis": sorted(bases),
        "approvals": [_ref("Authority", a) for a in sorted(approvals)],
    }
    if isinstance(request, EmployRequest):
        context["target"] = {"territory": _ref("Party", request.target.territory)}
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
