"""The REST API under /api/v1: everything the command line does, for other systems.

One module per area, mirroring the pages (``web/pages``): account, screening,
policy (catalog and bundles), proposals, cases, stockpile, ledger. Each route
is a few lines over the service layer and declares the model of what it
answers (``bodies`` modules), so the OpenAPI document describes every body.
Every error is a ``ClearanceError`` rendered by ``errors.py`` as ``{"code",
"message", "field"?}`` with the status its class names; the OpenAPI document
says so for every route.
"""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import ERROR_RESPONSES
from . import account, cases, ledger, policy, proposals, screening, stockpile

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
for _area in (account, screening, policy, proposals, cases, stockpile, ledger):
    router.include_router(_area.router)
