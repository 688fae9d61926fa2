"""Small worlds for the service rule files: the people of ``tests.worlds`` over a new SQLite
file, with what costs seconds made once per process.

Sealing and unlocking the people's keys and loading the seed pack take seconds, on purpose
(the key files' work factor) or by size. They are kept here for the whole process, so that
a run that forks a process per test run (mutation testing) pays them once, and each world
costs a migration and a few rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.actors import ADMIN
from clearance.core.signing import Signer, new_key_pair, unlock
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service.anchoring import SystemKey
from clearance.service.cases import CaseService
from clearance.store.db import open_database
from clearance.store.repository import Store
from tests.worlds import PEOPLE, T0, World, make_world

__all__ = ["add_president", "keys", "own_service", "screener", "small_world", "system_key"]


@functools.cache
def keys() -> dict[str, tuple[str, Signer]]:
    """Each person's public key and unlocked signer (``tests.worlds.PEOPLE``)."""
    made = {}
    for user in PEOPLE:
        public, content = new_key_pair(f"passphrase of {user}")
        made[user] = (public, unlock(content, f"passphrase of {user}"))
    return made


@functools.cache
def screener() -> Screener:
    """A screener over the seed pack."""
    return Screener(load_pack())


@functools.cache
def system_key() -> SystemKey:
    """The system key that seals the small worlds' ledgers."""
    return SystemKey(Ed25519PrivateKey.generate())


@contextmanager
def small_world(folder: Path) -> Iterator[World]:
    """The people of ``tests.worlds`` with their offices, over a new SQLite file in
    ``folder``, sealed with ``system_key``."""
    database = open_database(f"sqlite:///{folder / 'clearance.db'}")
    try:
        database.migrate()
        yield make_world(Store(database, sealer=system_key()), screener(), keys())
    finally:
        database.dispose()


def own_service(world: World) -> World:
    """``world`` with a case service of its own. mutmut credits the code a module-scoped
    fixture runs to the file's first test alone, so a rule file whose tests each build
    their service lets every test reach the service's construction."""
    return dataclasses.replace(
        world, cases=CaseService(world.store, screener(), default_sla_days=14)
    )


def add_president(world: World, public_key: str) -> None:
    """``potus``, holding the US President's office from 20 January 2025 (who may waive a
    legislature's waiting period)."""
    world.people.add_user(
        user_id="potus", name="President", party="US", public_key=public_key, actor=ADMIN, now=T0
    )
    world.people.grant(
        user_id="potus",
        authority="us.president",
        valid_from=dt.date(2025, 1, 20),
        valid_to=None,
        actor=ADMIN,
        now=T0,
    )
