"""SQLite's durability as configured: every commit synced unless the operator says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearance.errors import InputError
from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from clearance.store.db import Database, open_database

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
