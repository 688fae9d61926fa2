"""The ledger as its readers use it: a page of events, the whole chain checked, an export,
the checkpoints: each refused, through the door (``service.access``), to a reader the
rules do not let read it.

The ledger's own checks are ``service.audit``, ``service.anchoring`` and
``service.ledger_files``, which the local operator's commands call directly;
these are the same operations as a user asks for them, on the web or with
``--as`` at the command line.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearance.core.anchors import Checkpoint
from clearance.errors import LedgerBroken
from clearance.service import anchoring, audit, ledger_files
from clearance.service.access import Action, Principal, check, principal, today
from clearance.service.audit import AuditReport
from clearance.store.protocol import Transaction
from clearance.store.repository import Store

__all__ = ["checkpoints", "export", "ledger_page", "sign_checkpoint", "verify"]


def _allowed(store: Store, actor: str, action: Action) -> Principal:
    with store.reading() as tx:
        reader = principal(tx, actor, today())
    check(reader, action)
    return reader


def ledger_page(
    store: Store,
    *,
    actor: str,
    case_id: str | None = None,
    type: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Events newest first, as ``actor`` may read them: none of a case above their
    clearance (so a case they may not see has no events for them)."""
    with store.reading() as tx:
        reader = principal(tx, actor, today())
        check(reader, Action.LEDGER_READ)
        return _page(
            tx,
            max_level=None if reader.user is None else reader.user.clearance,
            case_id=case_id,
            type=type,
            before=before,
            limit=limit,
        )


def verify(store: Store, data_dir: Path, *, actor: str) -> AuditReport:
    """The whole chain checked (it reads every event of every case: TOP SECRET auditors)."""
    _allowed(store, actor, Action.LEDGER_VERIFY)
    return audit.verify_installation(store, data_dir, workers=1)


def export(
    store: Store, *, actor: str, now: dt.datetime
) -> tuple[ledger_files.ExportSummary, Iterator[str]]:
    """The ledger as JSON lines that verify on their own, events of cases above ``actor``'s
    clearance redacted to what checking the chain needs."""
    reader = _allowed(store, actor, Action.LEDGER_READ)
    level = None if reader.user is None else reader.user.clearance
    return ledger_files.open_export(store, now=now, reader_level=level)


def checkpoints(store: Store, *, actor: str, limit: int) -> list[dict[str, object]]:
    """The checkpoints kept in the database, newest first (ledger readers)."""
    _allowed(store, actor, Action.LEDGER_READ)
    return anchoring.stored_checkpoints(store, limit=limit)


def sign_checkpoint(store: Store, *, actor: str, now: dt.datetime) -> Checkpoint:
    """Sign a checkpoint of the ledger now and keep it (ledger readers)."""
    _allowed(store, actor, Action.LEDGER_READ)
    return anchoring.checkpoint(store, now=now, reason="on demand")


def _page(
    tx: Transaction,
    *,
    max_level: int | None,
    case_id: str | None,
    type: str | None,
    before: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """A page of events read in ``tx``, none of a case above ``max_level``. ``LedgerBroken``
    if a body is not the JSON object every event is (changed outside clearance: the audit
    names it)."""
    events = tx.ledger.page(
        max_level=max_level, case_id=case_id, type=type, before=before, limit=limit
    )
    page = []
    for e in events:
        try:
            body = json.loads(e.body)
        except (ValueError, TypeError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise LedgerBroken(f"event {e.seq} is not a ledger event: its body is not JSON")
        page.append({"seq": e.seq, "case_id": e.case_id, "hash": e.hash, **body})
    return page
