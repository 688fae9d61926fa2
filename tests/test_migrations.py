"""The schema comes only from the migrations, and they build exactly what the models say."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import clearance.store
from clearance.core.events import ConditionMet
from clearance.store.db import open_database
from clearance.store.models import Base
from clearance.store.repository import Store

MIGRATIONS = Path(clearance.store.__file__).parent / "migrations"


def test_the_migrations_build_the_models_schema(database_url: str) -> None:
    database = open_database(database_url)
    try:
        database.migrate()
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        database.dispose()


def _everything(store: Store) -> dict[str, Any]:
    """Every table's columns, indexes, constraints and rows: what a migration could change."""
    with store.database.engine.connect() as connection:
        seen = inspect(connection)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in seen.get_columns(table)],
                sorted(
                    (i["name"] or "", tuple(i["column_names"])) for i in seen.get_indexes(table)
                ),
                sorted(str(u["column_names"]) for u in seen.get_unique_constraints(table)),
                sorted(map(repr, connection.execute(text(f'SELECT * FROM "{table}"')).all())),
            )
            for table in sorted(seen.get_table_names())
        }


def test_migrating_twice_changes_nothing(store: Store) -> None:
    with store.transaction() as tx:  # something stored, for the second run to leave alone
        tx.append(ConditionMet("c", "e"), actor="a", at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    before = _everything(store)
    assert before["ledger"][3], "the event is stored"
    store.database.migrate()
    assert _everything(store) == before
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with store.database.engine.connect() as connection:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert found == head


def test_upgrading_flags_the_open_cases_already_stored(database_url: str) -> None:
    database = open_database(database_url)
    try:
        database.migrate("0001")
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, name, party, public_key, created_at)"
                    " VALUES ('u', 'U', 'UA', 'k', '2025-01-01 00:00:00+00:00')"
                )
            )
            for number, state in enumerate(["in_review", "denied", "approved_with_conditions"]):
                connection.execute(
                    text(
                        "INSERT INTO cases (id, number, submitted_by, request, request_digest,"
                        " decision, outcome, state, sla_days, version, created_at, state_since)"
                        " VALUES (:id, :n, 'u', '{}', 'd', '{}', 'o', :s, 14, 1,"
                        " '2025-01-01 00:00:00+00:00', '2025-01-01 00:00:00+00:00')"
                    ),
                    {"id": f"c{number}", "n": number, "s": state},
                )
        database.migrate()
        with database.engine.connect() as connection:
            flags = dict(connection.execute(text("SELECT state, is_open FROM cases")).all())
        assert {state: bool(flag) for state, flag in flags.items()} == {
            "in_review": True,
            "denied": False,
            "approved_with_conditions": True,
        }
    finally:
        database.dispose()


def test_upgrading_gives_tokens_already_issued_an_expiry_and_drops_old_failures(
    database_url: str,
) -> None:
    """Tokens issued before 0009 did not expire: they get 90 days from the upgrade, so no
    system is cut off by it and none lives for ever. Failures without an address go."""
    database = open_database(database_url)
    try:
        database.migrate("0007")
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, name, party, public_key, created_at)"
                    " VALUES ('u', 'U', 'UA', 'k', '2024-01-01 00:00:00+00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO api_tokens (id, token_hash, user_id, name, created_at)"
                    " VALUES ('t', 'sha256:x', 'u', 'old', '2024-01-01 00:00:00+00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO sign_in_failures (user_id, at)"
                    " VALUES ('u', '2024-01-01 00:00:00+00:00')"
                )
            )
        before = dt.datetime.now(dt.UTC)
        database.migrate()
        after = dt.datetime.now(dt.UTC)
        store = Store(database)
        with store.reading() as tx:
            [token] = tx.people.tokens("u")
            assert tx.people.sign_in_failures("u", "", before - dt.timedelta(days=3650)) == (
                0,
                None,
            )
        ninety = dt.timedelta(days=90)
        assert before + ninety <= token.expires_at <= after + ninety
        assert token.state(after) == "active"
    finally:
        database.dispose()
