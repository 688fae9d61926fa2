"""Shared fixtures: the seed pack, loaded once, and a screener over it; keys sealed at the
tests' costs (tests/key_costs.py); the line that says how to run the tests again in the
same random order; and what keeps a mutation run's forked test runs cheap."""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from clearance.core import signing
from clearance.core.signing import KdfCost
from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.service.anchoring import WITNESS_FILE, SystemKey, Witness
from clearance.store.db import open_database
from clearance.store.repository import Store

from . import key_costs
from .databases import PostgresCluster, postgres_cluster

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

signing.KDF = key_costs.TESTS  # keys sealed in the tests' own processes (tests/key_costs.py)

# The ``world`` and ``cli`` fixtures, shared by the service and command tests.
pytest_plugins = ["tests.worlds", "tests.cli_support"]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Under mutmut (``make mutation``, docs/testing.md), every object the session left is
    frozen out of the garbage collector. mutmut forks each mutant's test run from the
    process that ran the whole selection, and pytest collects garbage several times as a
    session ends (its check for unraisable exceptions): over the inherited heap that took
    most of a short run's time (0.66 s of a one-test run; 0.17 s frozen). What a forked run
    makes itself is still collected as before; outside mutmut nothing changes."""
    if "MUTANT_UNDER_TEST" in os.environ:
        gc.freeze()


_setup_seconds: dict[str, float] = {}
"""Under mutmut, the seconds each test's fixtures took to set up, by test id, in this
process's runs (mutmut times only the tests' calls)."""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "setup" and "MUTANT_UNDER_TEST" in os.environ:
        _setup_seconds[report.nodeid] = report.duration


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under mutmut, a mutant's tests run quickest first. mutmut stops a mutant's run at its
    first failing test (``-x``) and most mutants are killed, so the time a killed mutant
    costs is what runs before the test that kills it. A test's time is the seconds mutmut
    timed its call in its own run of the whole selection, held in the process it forks
    each mutant's run from, and the seconds its fixtures took to set up in that process (a
    quick call over a SQLite world still pays for the world); a test mutmut has not timed
    goes last. A survivor runs every test whatever the order. Outside mutmut nothing
    changes."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return
    durations = _mutmut_durations()
    if durations:
        items.sort(
            key=lambda item: (
                durations.get(item.nodeid, float("inf")) + _setup_seconds.get(item.nodeid, 0.0)
            )
        )


def _mutmut_durations() -> Mapping[str, float]:
    """The seconds mutmut timed each test of the selection in, by test id: its state in
    this process (forked from the one that timed them), or nothing outside mutmut."""
    try:
        from mutmut.state import state
    except ImportError:
        return {}
    return state().duration_by_test


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The seed of the run's order at the end of the run, where a failure is read (the
    header's ``Using --randomly-seed`` line is left out under ``-q``): the same seed runs
    the same files in the same order, each test with the same ``random`` state."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.getoption("randomly_reorganize", True):
        terminalreporter.write_line(
            f"random order: --randomly-seed={seed} runs the tests again in this order"
        )


@pytest.fixture
def real_key_costs(monkeypatch: pytest.MonkeyPatch) -> KdfCost:
    """Keys sealed at the costs of ``clearance`` itself for this test (tests/key_costs.py)."""
    monkeypatch.setattr(signing, "KDF", key_costs.REAL)
    return key_costs.REAL


@pytest.fixture(scope="session")
def seed_pack() -> ScenarioPack:
    return load_pack()


@pytest.fixture(scope="session")
def screener(seed_pack: ScenarioPack) -> Screener:
    return Screener(seed_pack)


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
