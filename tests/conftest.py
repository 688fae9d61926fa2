"""Shared fixtures: the seed pack, loaded once, and a screener over it; and the order in
which parallel workers take the test files (docs/testing.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.service.anchoring import WITNESS_FILE, SystemKey, Witness
from clearance.store.db import open_database
from clearance.store.repository import Store

from .databases import PostgresCluster, postgres_cluster
from .parallel_support import worker

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# The ``world`` and ``cli`` fixtures, shared by the service and command tests.
pytest_plugins = ["tests.worlds", "tests.cli_support"]


@pytest.fixture(scope="session")
def seed_pack() -> ScenarioPack:
    return load_pack()


@pytest.fixture(scope="session")
def screener(seed_pack: ScenarioPack) -> Screener:
    return Screener(seed_pack)


# Parallel runs (pytest -n N, files handed out whole: --dist loadfile in pyproject.toml). A
# worker that finishes takes the next file in collection order, so the heaviest files go
# first and the light ones fill the gaps at the end, rather than a long file starting last
# and running on alone. A file's weight is its number of tests, a slow one counting as many.

SLOW_WEIGHT = 25  # a test marked slow takes a few seconds, ordinary ones a tenth of that


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if worker() == "main":
        return  # a serial run keeps the usual order
    weight: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        weight[module] = weight.get(module, 0) + (
            SLOW_WEIGHT if item.get_closest_marker("slow") else 1
        )
    items.sort(
        key=lambda item: (-weight[item.nodeid.split("::", 1)[0]], item.nodeid.split("::", 1)[0])
    )


# Databases: every store test runs on SQLite and on a real PostgreSQL server.


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clearance.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.fresh_database()


@pytest.fixture(scope="session")
def system_key(tmp_path_factory: pytest.TempPathFactory) -> SystemKey:
    """One system key for the tests' stores (a key per test would only cost time)."""
    return SystemKey.create(tmp_path_factory.mktemp("system") / "system.key")


@pytest.fixture
def store(database_url: str, system_key: SystemKey, tmp_path: Path) -> Iterator[Store]:
    """A migrated database behind a store sealed with the system key, with its witness."""
    database = open_database(database_url)
    database.migrate()
    witness = Witness(tmp_path / WITNESS_FILE)
    yield Store(database, sealer=system_key, observers=[witness], witness=witness)
    database.dispose()
