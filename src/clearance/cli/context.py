"""What the case commands share: settings, the database, the pack, the acting user's key."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clearance.errors import InputError, SignatureError, StoreError
from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.settings import Settings, load_settings

from .json_input import unreadable

if TYPE_CHECKING:  # the database stack is imported by the commands that use it, not by all
    from clearance.core.signing import Signer
    from clearance.service.accounts import Accounts
    from clearance.service.cases import CaseService
    from clearance.service.people import People
    from clearance.service.proposals import PolicyProposals
    from clearance.store.db import Database

ActorOption = Annotated[
    str,
    typer.Option(
        "--as", help="The user who acts (their key signs what they decide).", show_default=False
    ),
]
PassphraseOption = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        envvar="CLEARANCE_PASSPHRASE",
        help="Passphrase of the acting user's key (asked for when not given).",
        show_default=False,
    ),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="The acting user's key file. Default: <data dir>/keys/<user>.key.",
        show_default=False,
    ),
]


_opened: list[Database] = []


def close_databases() -> None:
    """Close the pools a command opened when it ends, not when the process does."""
    while _opened:
        _opened.pop().dispose()


def screening_pack(scenario: Path | None) -> ScenarioPack:
    """The pack to screen by: with the proposals activated in the database, when there is one.

    Screening needs no database, but where one holds activated policy,
    screening without it would answer by an older policy than cases do. A
    database that is not there, or not set up, means the pack alone.
    """
    from clearance.service.proposals import policy_in_force
    from clearance.store.db import existing_database
    from clearance.store.repository import Store

    pack = load_pack(scenario)
    database = existing_database(load_settings().database_url)
    if database is None:
        return pack
    _opened.append(database)
    try:
        return policy_in_force(Store(database), pack)
    except StoreError:
        return pack


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class App:
    """Settings, store and services, opened once per command."""

    def __init__(self, scenario: Path | None = None) -> None:
        self.settings: Settings = load_settings()
        # The data folder holds the database and private keys: its owner's only.
        try:
            self.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            folder = f"CLEARANCE_DATA_DIR ({self.settings.data_dir})"
            raise InputError(folder, f"cannot be made a folder: {exc.strerror or exc}") from None
        from clearance.service.anchoring import sealed_store
        from clearance.store.db import open_database

        self.database = open_database(
            self.settings.database_url, synchronous=self.settings.sqlite_synchronous
        )
        _opened.append(self.database)
        self.store = sealed_store(
            self.database, key_path=self.settings.system_key, data_dir=self.settings.data_dir
        )
        self._scenario = scenario or self.settings.scenario

    @functools.cached_property
    def pack(self) -> ScenarioPack:
        """The scenario pack on disk, loaded once per command."""
        return load_pack(self._scenario)

    def screener(self) -> Screener:
        """The policy in force: the pack and the proposals activated in the database."""
        from clearance.service.proposals import policy_in_force

        return Screener(policy_in_force(self.store, self.pack))

    def proposals(self) -> PolicyProposals:
        from clearance.service.proposals import PolicyProposals

        return PolicyProposals(self.store, self.pack)

    def cases(self) -> CaseService:
        from clearance.service.cases import CaseService

        return CaseService(self.store, self.screener(), default_sla_days=self.settings.sla_days)

    def people(self) -> People:
        from clearance.service.people import People

        return People(self.store, self.pack.catalog)

    def accounts(self) -> Accounts:
        from clearance.service.accounts import Accounts

        return Accounts(self.store, token_days=self.settings.token_days)

    def key_path(self, user: str, given: Path | None) -> Path:
        return given or self.settings.data_dir / "keys" / f"{user}.key"

    def signer(self, user: str, key_file: Path | None, passphrase: str | None) -> Signer:
        from clearance.service.keyfiles import open_key_file

        path = self.key_path(user, key_file)
        try:
            exists = path.exists()
        except OSError as exc:  # a name too long for the file system, say
            raise unreadable(path, exc) from None
        if not exists:
            raise SignatureError(f"no key file for {user} at {path}")
        if passphrase is None:
            passphrase = typer.prompt(f"passphrase for {user}", hide_input=True)
        return open_key_file(path, passphrase, missing=f"no key file for {user} at {path}")
