"""What one server process holds: settings, the database, the pack and the services.

Nothing here is state that two instances could disagree on for long:
sessions, tokens, idempotency keys, versions and the ledger all live in the
database, so any number of instances against one PostgreSQL behave as one.
The policy in force is the pack plus the activated proposals in the
database; each process looks for a new activation at most once a second
(``POLICY_RECHECK_S``) and then rebuilds its screener.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.service.accounts import Accounts
from clearance.service.anchoring import prepare, sealed_store
from clearance.service.cases import CaseService
from clearance.service.people import People
from clearance.service.proposals import PolicyProposals
from clearance.settings import Settings
from clearance.store.db import Database, open_database

__all__ = ["Server", "open_server"]


POLICY_RECHECK_S = 1.0


class Server:
    """Settings, store and services of one process; ``screener`` and ``cases`` follow activations."""

    def __init__(self, settings: Settings, database: Database, pack: ScenarioPack) -> None:
        self.settings = settings
        self.database = database
        self.store = sealed_store(
            database, key_path=settings.system_key, data_dir=settings.data_dir
        )
        self.pack = pack
        self.people = People(self.store, pack.catalog)
        self.accounts = Accounts(self.store, token_days=settings.token_days)
        self.proposals = PolicyProposals(self.store, pack)
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._marker: tuple[int, int] | None = None
        self._screener = Screener(pack)
        self._cases = CaseService(self.store, self._screener, default_sla_days=settings.sla_days)

    def _current(self) -> tuple[Screener, CaseService]:
        now = time.monotonic()
        if now - self._checked >= POLICY_RECHECK_S:
            with self._lock:
                if now - self._checked >= POLICY_RECHECK_S:
                    self._refresh()
                    self._checked = now
        return self._screener, self._cases

    def _refresh(self) -> None:
        marker = self.proposals.activated_marker()
        if marker == self._marker:
            return
        screener = Screener(self.proposals.in_force())
        self._screener, self._marker = screener, marker
        self._cases = CaseService(self.store, screener, default_sla_days=self.settings.sla_days)

    def prepare(self) -> None:
        """Migrate the database and anchor the ledger, as ``clearance init`` does."""
        prepare(self.store, self.settings.system_key, now=self.now())

    def policy_changed(self) -> None:
        """Look for the new policy on the next use (this process has just activated one)."""
        self._checked = float("-inf")

    @property
    def screener(self) -> Screener:
        return self._current()[0]

    @property
    def cases(self) -> CaseService:
        return self._current()[1]

    def key_path(self, user: str) -> Path:
        return self.settings.data_dir / "keys" / f"{user}.key"

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def open_server(settings: Settings) -> Server:
    database = open_database(settings.database_url, synchronous=settings.sqlite_synchronous)
    return Server(settings, database, load_pack(settings.scenario))
