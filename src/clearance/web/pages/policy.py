"""The catalog and the policy: the systems and their consent holders, each holder's bundles,
each against the one before it (its text; and, asked for one bundle at a time since it
judges thousands of requests, its effect: ``service.bundle_diffs``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from clearance.core.access import Level
from clearance.core.holders import consent_holders, holders_report, systems_report
from clearance.errors import InputError, NotFoundError
from clearance.service import bundle_diffs

from ..auth import Srv, Viewer
from ..charts import holders_graph
from ..diffs import laid_out
from ..rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/catalog")
def catalog_page(request: Request, viewer: Viewer, srv: Srv) -> Response:
    return render(
        request,
        "catalog.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title="Catalog",
        systems=systems_report(srv.pack.catalog),
        revision=srv.pack.catalog.revision,
    )


@router.get("/catalog/{system}")
def system_page(system: str, request: Request, viewer: Viewer, srv: Srv) -> Response:
    catalog = srv.pack.catalog
    report = holders_report(catalog, system)  # NotFoundError for an unknown system
    found = catalog.system(system)
    assert found is not None
    holders = consent_holders(catalog, system)
    graph = holders_graph(
        system,
        found.name,
        holders,
        {p.code: p.name for p in catalog.parties},
        {c.id: c.name for c in catalog.components},
    )
    history = srv.screener.history  # the pack and the activated proposals
    today = srv.now().date()
    return render(
        request,
        "system.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title=found.name,
        system=found,
        report=report,
        holders=holders,
        graph=graph,
        in_force={h.party: history.bundle_in_force(h.party, today) for h in holders},
        names={p.code: p.name for p in catalog.parties},
        components={c.id: c for c in catalog.components},
    )


@router.get("/policy")
def policy_page(request: Request, viewer: Viewer, srv: Srv) -> Response:
    history = srv.screener.history  # the pack and the activated proposals
    today = srv.now().date()
    return render(
        request,
        "policy.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title="Policy",
        holders=[
            (holder, history.of(holder), history.bundle_in_force(holder, today))
            for holder in history.holders
        ],
        history=history,
        names={p.code: p.name for p in srv.pack.catalog.parties},
        today=today,
    )


@router.get("/policy/{holder}")
def holder_policy_page(
    holder: str,
    request: Request,
    viewer: Viewer,
    srv: Srv,
    effect: Annotated[dt.date | None, Query()] = None,
) -> Response:
    """A holder's bundles, newest first; ``effect``: the day a bundle took effect, to show
    which requests it decides differently from the one before it."""
    screener = srv.screener  # the pack and the activated proposals
    history = screener.history
    bundles = history.of(holder)
    if not bundles:
        raise NotFoundError(f"no bundles for '{holder}' (holders: {', '.join(history.holders)})")
    comparisons = bundle_diffs.history(srv.store, screener, holder)
    if effect is not None:
        index = next((i for i, c in enumerate(comparisons) if c.new.effective_from == effect), None)
        if index is None:
            raise InputError("effect", f"no bundle of {holder} takes effect on {effect}")
        comparisons[index] = bundle_diffs.judged(screener, comparisons[index])
    today = srv.now().date()
    return render(
        request,
        "policy_holder.html",
        viewer=viewer,
        level=Level.UNCLASSIFIED,
        title=f"Policy of {holder}",
        holder=holder,
        name={p.code: p.name for p in srv.pack.catalog.parties}.get(holder, holder),
        bundles=[
            (c.new, history.in_force_until(c.new), c, laid_out(c.files))
            for c in reversed(comparisons)
        ],
        current=history.bundle_in_force(holder, today),
        authorities={a.id: a.title for a in srv.pack.catalog.authorities},
        today=today,
        effect=effect,
        sample=bundle_diffs.SAMPLE,
    )
