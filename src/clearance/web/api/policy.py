"""The catalog and the policy through the API: systems, consent holders, bundles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from clearance.core.holders import holders_report, systems_report
from clearance.errors import NotFoundError

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.policy import BundleBody, HoldersBody, SystemBody
from .params import PREFIX

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)


@router.get("/catalog/systems", tags=["catalog"], response_model=list[SystemBody])
def systems(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """Every system of the catalog, with its consent holders."""
    return systems_report(srv.pack.catalog)


@router.get("/catalog/systems/{system}/holders", tags=["catalog"], response_model=HoldersBody)
def holders(system: str, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Who must consent to a system, and the dependency path that gives each the right."""
    return holders_report(srv.pack.catalog, system)


def _bundle(bundle: Any, until: Any, text: bool) -> dict[str, Any]:
    data = {
        "holder": bundle.holder,
        "folder": bundle.folder,
        "revision": bundle.revision,
        "title": bundle.title,
        "summary": bundle.summary,
        "effective_from": bundle.effective_from.isoformat(),
        "in_force_until": until.isoformat() if until else None,
        "illustrative": bundle.illustrative,
        "review_sla_days": bundle.review_sla_days,
        "policies": [p.id for p in bundle.policies],
    }
    if text:
        data["text"] = bundle.text
    return data


@router.get("/bundles", tags=["policy"], response_model=list[BundleBody])
def bundles(viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """Every holder's policy bundles, oldest first, with the dates each was in force."""
    history = srv.screener.history  # the pack and the activated proposals
    return [_bundle(b, history.in_force_until(b), False) for b in history]


@router.get(
    "/bundles/{holder}",
    tags=["policy"],
    response_model=list[BundleBody],
    response_model_exclude_unset=True,  # no "text": null on the list above
)
def bundles_of(holder: str, viewer: Viewer, srv: Srv) -> list[dict[str, Any]]:
    """One holder's bundles with their policy text."""
    history = srv.screener.history  # the pack and the activated proposals
    found = history.of(holder)
    if not found:
        raise NotFoundError(f"no bundles for '{holder}' (holders: {', '.join(history.holders)})")
    return [_bundle(b, history.in_force_until(b), True) for b in found]
