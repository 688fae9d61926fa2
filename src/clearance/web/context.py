"""What one server process holds: settings, the database, the pack and the services.

Nothing here is state that two instances could disagree on: sessions, tokens,
idempotency keys, versions and the ledger all live in the database, so any
number of instances against one PostgreSQL behave as one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.service.accounts import Accounts
from clearance.service.cases import CaseService
from clearance.service.people import People
from clearance.settings import Settings
from clearance.store.db import Database, open_database
from clearance.store.repository import Store

__all__ = ["Server", "open_server"]


@dataclass(frozen=True, slots=True)
class Server:
    settings: Settings
    database: Database
    store: Store
    pack: ScenarioPack
    screener: Screener
    cases: CaseService
    people: People
    accounts: Accounts

    def key_path(self, user: str) -> Path:
        return self.settings.data_dir / "keys" / f"{user}.key"

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def open_server(settings: Settings) -> Server:
    database = open_database(settings.database_url)
    store = Store(database)
    pack = load_pack(settings.scenario)
    screener = Screener(pack)
    return Server(
        settings=settings,
        database=database,
        store=store,
        pack=pack,
        screener=screener,
        cases=CaseService(store, screener, default_sla_days=settings.sla_days),
        people=People(store, pack.catalog),
        accounts=Accounts(store),
    )
