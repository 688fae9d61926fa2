"""The REST API under /api/v1: everything the command line does, for other systems.

One module per area, mirroring the pages (``web/pages``): account, screening,
policy (catalog and bundles), proposals, cases, stockpile, ledger, reports,
notifications. Each route is a few lines over the service layer. Every error is a ``ClearanceError``
rendered by ``errors.py`` as ``{"code", "message", "field"?}`` with the
status its class names; the OpenAPI document says so for every route.
"""

from __future__ import annotations

from . import (
    account,
    cases,
    ledger,
    notifications,
    policy,
    proposals,
    reports,
    screening,
    stockpile,
)

__all__ = ["ROUTERS"]

ROUTERS = tuple(
    area.router
    for area in (
        account,
        screening,
        policy,
        proposals,
        cases,
        stockpile,
        ledger,
        reports,
        notifications,
    )
)
