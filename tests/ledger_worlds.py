"""Small ledgers for the ledger's rule files: a migrated SQLite file copied per test, a few
events appended as the service appends them, and the SQL an attacker would run.

Migrating a database takes a tenth of a second; it is done once per process, into a
template the tests copy, so that a run that forks a process per test run (mutation
testing) pays it once.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from clearance.core.chain import GENESIS, Scheme, link_hash
from clearance.core.events import CaseStateChanged, QuestionAnswered
from clearance.service.anchoring import WITNESS_FILE, Witness
from clearance.store.db import open_database
from clearance.store.ledger import Sealer
from clearance.store.repository import Store

__all__ = ["CASES", "T0", "add_case", "fill", "ledger_store", "row", "sql", "v1_events"]

T0 = dt.datetime(2025, 6, 15, 9, 0, tzinfo=dt.UTC)


@functools.cache
def _template() -> Path:
    """A migrated, empty database file, made once per process."""
    path = Path(tempfile.mkdtemp(prefix="ledger-template-")) / "clearance.db"
    database = open_database(f"sqlite:///{path}")
    try:
        database.migrate()
    finally:
        database.dispose()
    return path


@contextmanager
def ledger_store(folder: Path, sealer: Sealer | None, *, witness: bool = True) -> Iterator[Store]:
    """A store over a new copy of the empty database in ``folder``, sealed by ``sealer``, with
    its witness file in ``folder`` kept after each commit (unless ``witness`` is False)."""
    path = folder / "clearance.db"
    shutil.copyfile(_template(), path)
    database = open_database(f"sqlite:///{path}")
    kept = Witness(folder / WITNESS_FILE) if witness else None
    try:
        yield Store(
            database,
            sealer=sealer,
            observers=[] if kept is None else [kept],
            witness=kept,
        )
    finally:
        database.dispose()


CASES = (None, "case-a", "case-b", "case-a")
"""The case of each state change in turn (``fill``): events 1 and 9 have none, 3 and 7 are
case-a's, 5 is case-b's."""


def fill(store: Store, count: int, *, start: int = 0) -> None:
    """``count`` events, two per transaction: a case's state change (``CASES``), then a
    question answered (of no case)."""
    for first in range(start, start + count, 2):
        with store.transaction() as tx:
            for index in range(first, min(first + 2, start + count)):
                at = T0 + dt.timedelta(minutes=index)
                if index % 2:
                    tx.append(QuestionAnswered(f"answer {index}"), actor="austin", at=at)
                else:
                    tx.append(
                        CaseStateChanged("in_review", "denied", f"reason {index}"),
                        actor="hegseth",
                        at=at,
                        case_id=CASES[(index // 2) % 4],
                    )


def sql(store: Store, statement: str, **params: object) -> None:
    """SQL run past the store, as someone with the database but not the key would."""
    with store.database.engine.begin() as connection:
        connection.execute(text(statement), params)


def row(store: Store, seq: int) -> dict[str, Any]:
    """The ledger's row ``seq`` as stored."""
    with store.database.engine.connect() as connection:
        found = connection.execute(text("SELECT * FROM ledger WHERE seq = :s"), {"s": seq})
        return dict(found.mappings().one())


def add_case(store: Store, case_id: str, number: int, classification: int) -> None:
    """A case row of its own (no event records it), classified at ``classification``, and
    its submitter's row the first time."""
    sql(
        store,
        "INSERT INTO users (id, name, party, public_key, created_at, roles, clearance)"
        " SELECT 'ua.liaison', 'UA liaison', 'UA', 'key', :at, 'submitter', 0"
        " WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = 'ua.liaison')",
        at=T0,
    )
    sql(
        store,
        "INSERT INTO cases (id, number, submitted_by, request, request_digest, decision,"
        " outcome, state, is_open, classification, system, requester, sla_days, version,"
        " created_at, state_since) VALUES (:id, :n, 'ua.liaison', '{}', 'sha256:0', '{}',"
        " 'permitted', 'submitted', 1, :level, 'atacms', 'UA', 5, 1, :at, :at)",
        id=case_id,
        n=number,
        level=classification,
        at=T0,
    )


def v1_events(store: Store, seqs: range) -> None:
    """Events of scheme 1, unsealed, as a ledger written before seals holds them."""
    prev = GENESIS if seqs.start == 1 else row(store, seqs.start - 1)["hash"]
    for seq in seqs:
        body = json.dumps(
            {
                "actor": "a",
                "at": "2025-01-01T00:00:00+00:00",
                "case_id": None,
                "payload": {"answer": f"answer {seq}"},
                "type": "question_answered",
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = link_hash(seq, None, prev, body, Scheme.V1)
        sql(
            store,
            "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
            " VALUES (:s, NULL, 'question_answered', :p, :b, :h, 1, NULL)",
            s=seq,
            p=prev,
            b=body,
            h=digest,
        )
        prev = digest
