"""Shared worlds for service tests: people with keys and offices over a real store."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearance.core.signing import Signer, new_key_pair, unlock
from clearance.policy.engine import Screener
from clearance.service.anchoring import SystemKey
from clearance.service.cases import CaseService
from clearance.service.people import People
from clearance.store.db import open_database
from clearance.store.repository import Store

T0 = dt.datetime(2025, 6, 15, 9, 0, tzinfo=dt.UTC)

G2 = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
G3 = {**G2, "system": "storm-shadow"}
G1 = {**G2, "date": "2024-12-01"}
G5 = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "eram",
    "quantity": 3350,
    "funding": "european-partners",
    "date": "2025-08-28",
}
ATACMS = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "atacms",
    "quantity": 100,
    "date": "2025-09-01",
}
"""A US transfer of ATACMS from its tracked stock: green after, 1,000 on hand."""


@dataclass
class World:
    store: Store
    cases: CaseService
    people: People
    keys: dict[str, Signer]


PEOPLE = {"ua.liaison": "UA", "us.liaison": "US", "austin": "US", "hegseth": "US", "usdp": "US"}


@pytest.fixture(scope="session")
def world_keys() -> dict[str, tuple[str, Signer]]:
    """Each person's public key and unlocked signer, made once for the whole run: sealing
    and unlocking a key file costs a few tenths of a second, on purpose."""
    keys = {}
    for user in PEOPLE:
        public, content = new_key_pair(f"passphrase of {user}")
        keys[user] = (public, unlock(content, f"passphrase of {user}"))
    return keys


def make_world(
    store: Store, screener: Screener, world_keys: dict[str, tuple[str, Signer]]
) -> World:
    """The people of ``PEOPLE`` with their keys and offices, over ``store``."""
    people = People(store, screener.catalog)
    keys: dict[str, Signer] = {}
    for user, party in PEOPLE.items():
        public, keys[user] = world_keys[user]
        people.add_user(
            user_id=user, name=user, party=party, public_key=public, actor="admin", now=T0
        )
    people.grant(
        user_id="austin",
        authority="us.secdef",
        valid_from=dt.date(2021, 1, 22),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    people.grant(
        user_id="hegseth",
        authority="us.secdef",
        valid_from=dt.date(2025, 1, 25),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    people.grant(
        user_id="usdp",
        authority="us.usdp",
        valid_from=dt.date(2025, 3, 1),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    return World(store, CaseService(store, screener, default_sla_days=14), people, keys)


@pytest.fixture
def world(store: Store, screener: Screener, world_keys: dict[str, tuple[str, Signer]]) -> World:
    return make_world(store, screener, world_keys)


FreshStore = Callable[[], AbstractContextManager[Store]]
FreshWorld = Callable[[], AbstractContextManager[World]]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_store(
    request: pytest.FixtureRequest, system_key: SystemKey, tmp_path: Path
) -> FreshStore:
    """A maker of new, empty, migrated stores, on SQLite and on PostgreSQL: for a property
    test, whose examples must each start from nothing (a fixture is made once per test, and
    state left by one example would leak into the next, so a failure would neither replay
    nor shrink)."""
    made = itertools.count()

    @contextmanager
    def make() -> Iterator[Store]:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'example-{next(made)}.db'}"
        else:
            url = request.getfixturevalue("pg_cluster").fresh_database()
        database = open_database(url)
        try:
            database.migrate()
            yield Store(database, sealer=system_key)
        finally:
            database.dispose()

    return make


@pytest.fixture
def fresh_world(
    fresh_store: FreshStore, screener: Screener, world_keys: dict[str, tuple[str, Signer]]
) -> FreshWorld:
    """A maker of new worlds (``make_world``), each over a new store (``fresh_store``)."""

    @contextmanager
    def make() -> Iterator[World]:
        with fresh_store() as store:
            yield make_world(store, screener, world_keys)

    return make
