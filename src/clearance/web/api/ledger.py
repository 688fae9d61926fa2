"""The ledger through the API: events, verification, export, checkpoints, the system key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from clearance.service import anchoring, auditing

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.ledger import (
    CheckpointBody,
    LedgerEvent,
    PublicKey,
    StoredCheckpoint,
    VerifyReport,
)
from .params import PREFIX, TEXT

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["ledger"])

_NDJSON: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/x-ndjson": {
                "schema": {
                    "type": "string",
                    "description": "One JSON object a line: a header, signed checkpoints,"
                    " a redaction statement when events are redacted, then one line per"
                    " event (docs/verifying.md#the-ledger-export).",
                }
            }
        },
        "description": "JSON lines",
    }
}


@router.get("/ledger", response_model=list[LedgerEvent])
def ledger(
    viewer: Viewer,
    srv: Srv,
    case: Annotated[str | None, Query(max_length=40, pattern=TEXT)] = None,
    type: Annotated[str | None, Query(max_length=40, pattern=TEXT)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Ledger events, newest first (auditors): none of a case above your clearance."""
    return auditing.ledger_page(
        srv.store, actor=viewer.id, case_id=case, type=type, before=before, limit=limit
    )


@router.get("/ledger/verify", response_model=VerifyReport)
def verify_ledger(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Check the whole hash chain (auditors cleared TOP SECRET: it covers every case)."""
    return auditing.verify(srv.store, srv.settings.data_dir, actor=viewer.id).as_dict()


@router.get("/ledger/export", response_class=StreamingResponse, responses=_NDJSON)
def export_ledger(viewer: Viewer, srv: Srv) -> StreamingResponse:
    """The ledger as JSON lines that verify on their own (auditors; docs/verifying.md). A
    checkpoint is signed first; events of cases above your clearance are redacted to what
    checking the chain needs."""
    _, lines = auditing.export(srv.store, actor=viewer.id, now=srv.now())
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="ledger.jsonl"'},
    )


@router.get("/ledger/checkpoints", response_model=list[StoredCheckpoint])
def checkpoints(
    viewer: Viewer, srv: Srv, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """The checkpoints kept in the database, newest first (auditors): keep one to check the
    ledger against later (``clearance audit verify --checkpoint``)."""
    return auditing.checkpoints(srv.store, actor=viewer.id, limit=limit)


@router.post("/ledger/checkpoints", status_code=201, response_model=CheckpointBody)
def sign_checkpoint(viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """Sign a checkpoint of the ledger now and keep it (auditors); refused (409
    ``ledger_broken``) when the ledger does not verify since the last one."""
    return auditing.sign_checkpoint(srv.store, actor=viewer.id, now=srv.now()).as_dict()


@router.get("/ledger/public-key", response_model=PublicKey)
def system_public_key(srv: Srv) -> dict[str, str | None]:
    """The installation's system public key, which seals the ledger and signs checkpoints.
    Public: anyone may have it; an auditor should also have it from the operator directly."""
    return {"system_public_key": anchoring.installation_key(srv.store)}
