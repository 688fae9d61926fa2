"""Durability: every commit synced unless the operator says otherwise (SQLite's setting), and
every acknowledged submission still there after the process is killed, on both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.core.signing import Signer
from clearance.errors import InputError
from clearance.policy.engine import Screener
from clearance.service import audit
from clearance.service.anchoring import SystemKey
from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from clearance.store.db import Database, open_database
from clearance.store.repository import Store

from .worlds import make_world

# PRAGMA synchronous answers with a number: 1 is NORMAL, 2 is FULL.
LEVELS = {1: "NORMAL", 2: "FULL"}


def _in_force(database: Database) -> tuple[str, str]:
    """The level in force on a writer's connection and on a reader's, as SQLite reports it."""
    found = []
    for engine in (database.engine, database.reader):
        with engine.connect() as connection:
            found.append(LEVELS[connection.exec_driver_sql("PRAGMA synchronous").scalar_one()])
    return found[0], found[1]


@pytest.mark.parametrize(
    ("setting", "expected"), [(None, "FULL"), ("normal", "NORMAL"), ("FULL", "FULL")]
)
def test_the_server_syncs_as_the_setting_says(
    tmp_path: Path, setting: str | None, expected: str
) -> None:
    env = {"CLEARANCE_DATA_DIR": str(tmp_path)}
    if setting is not None:
        env["CLEARANCE_SQLITE_SYNCHRONOUS"] = setting
    server = Runtime(load_settings(env))
    try:
        assert _in_force(server.database) == (expected, expected)
    finally:
        server.database.dispose()


def test_full_is_the_default_of_the_store(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'clearance.db'}")
    try:
        assert _in_force(database) == ("FULL", "FULL")
    finally:
        database.dispose()


def test_an_unknown_level_names_the_setting() -> None:
    with pytest.raises(
        InputError, match="CLEARANCE_SQLITE_SYNCHRONOUS: must be FULL or NORMAL, not 'OFF'"
    ):
        load_settings({"CLEARANCE_SQLITE_SYNCHRONOUS": "OFF"})


# A process that submits from many threads at once and says each case's number the moment
# its submission is answered; killed with SIGKILL, nothing of it is flushed or closed.
_SUBMITTER = """
import datetime as dt, sys, threading
from pathlib import Path
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service.anchoring import SystemKey
from clearance.service.cases import CaseService
from clearance.store.db import open_database
from clearance.store.repository import Store

url, key = sys.argv[1], Path(sys.argv[2])
store = Store(open_database(url), sealer=SystemKey.load(key))
cases = CaseService(store, Screener(load_pack()), default_sla_days=14)
said = threading.Lock()

def submit(worker):
    for n in range(worker, 100_000, 8):
        request = {"action": "employ", "requester": "UA", "system": "atacms",
                   "quantity": 1 + n % 40, "target": {"territory": "RU"}, "date": "2025-06-15"}
        case, _ = cases.submit(request, actor="ua.liaison",
                               now=dt.datetime.now(dt.UTC), idempotency_key=f"kill-{n}")
        with said:
            sys.stdout.write(f"{case.number}\\n")
            sys.stdout.flush()

for worker in range(8):
    threading.Thread(target=submit, args=(worker,), daemon=True).start()
threading.Event().wait()
"""


def test_every_acknowledged_case_survives_kill_9(
    database_url: str, screener: Screener, world_keys: dict[str, tuple[str, Signer]], tmp_path: Path
) -> None:
    """Cases answered before the process is killed are all there afterwards, and the ledger
    verifies: a submission is answered only after the (durable) commit that holds it."""
    key = SystemKey.create(tmp_path / "system.key")
    database = open_database(database_url)
    database.migrate()
    make_world(Store(database, sealer=key), screener, world_keys)
    child = subprocess.Popen(
        [sys.executable, "-c", _SUBMITTER, database_url, str(key_path := tmp_path / "system.key")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < 60:
            line = child.stdout.readline()
            assert line, f"the submitter ended early (exit {child.poll()})"
            acknowledged.append(int(line))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert key_path.exists()

    store = Store(database, sealer=SystemKey.load(key_path))
    with store.reading() as tx:
        found = {n for n in acknowledged if tx.cases.by_number(n) is not None}
    assert found == set(acknowledged)
    report = audit.verify(store)
    assert report.ok, report
    database.dispose()
