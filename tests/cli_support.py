"""Running ``clearance`` in this process, as a user would, against a real database.

The ``cli`` fixture's users and their key files are made once per kind of
database and copied for each test (``databases.Template``): ``users add``
seals each new key with a deliberately slow derivation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clearance.cli import context as cli_context
from clearance.cli.app import main, whole_app
from clearance.store.models import Base

from .databases import Template, clone_made_once


class Cli:
    """Runs ``clearance`` commands in this process, through the same ``main`` as the script.

    In-process keeps the many bad-input cases fast; the subprocess test at the
    end proves the installed entry point behaves the same.
    """

    def __init__(self, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp_path
        self.database_url = database_url
        self.env = {
            "CLEARANCE_DATA_DIR": str(tmp_path / "data"),
            "CLEARANCE_DATABASE_URL": database_url,
            "CLEARANCE_PASSPHRASE": "correct horse battery",
            "COLUMNS": "200",
        }
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)

    def __call__(self, *args: str, ok: bool = True) -> Run:
        out, err = io.StringIO(), io.StringIO()
        code: int | str | None = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exit_:
                code = exit_.code
        result = Run(int(code or 0), out.getvalue(), err.getvalue())
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def file(self, name: str, data: object) -> str:
        path = self.tmp / name
        path.write_text(json.dumps(data))
        return str(path)

    def snapshot(self) -> tuple[object, ...]:
        """Every row of every table, and the key files: what a failed command must not touch."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                rows = tuple(
                    tuple(connection.execute(sa.select(table).order_by(*table.primary_key.columns)))
                    for table in Base.metadata.sorted_tables
                )
        finally:
            engine.dispose()
        keys = tuple(sorted(p.name for p in (self.tmp / "data" / "keys").glob("*")))
        return rows, keys


def pin_the_commands_clock(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """Every command module's ``now`` (``cli.context.now``, imported by name) reads
    ``moment``: what a command takes for today is then the test's day, even across
    midnight. Called again, the new moment replaces the old."""
    whole_app()  # and with it every command's module
    clock = cli_context.now

    def pinned() -> dt.datetime:
        return moment

    for name, module in list(sys.modules.items()):
        if name.startswith("clearance.cli.") and getattr(module, "now", None) is clock:
            monkeypatch.setattr(module, "now", pinned)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def _set_up(cli: Cli) -> None:
    """What every ``cli`` test starts from: a database, three users, one office."""
    cli("init")
    cli("users", "add", "ua.liaison", "--name", "Liaison", "--party", "UA")
    cli("users", "add", "secdef", "--name", "Secretary", "--party", "US")
    cli("users", "add", "usdp", "--name", "Under Secretary", "--party", "US")
    cli("users", "grant", "secdef", "us.secdef", "--from", "2025-01-25")


@pytest.fixture(scope="session")
def cli_made() -> dict[str, Template]:
    """The set-up, made once per kind of database as tests first ask for it."""
    return {}


@pytest.fixture
def cli(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    cli_made: dict[str, Template],
) -> Cli:
    def make(url: str, data_dir: Path) -> None:
        with pytest.MonkeyPatch.context() as patch:
            _set_up(Cli(data_dir.parent, url, patch))

    cluster = None if database_url.startswith("sqlite") else request.getfixturevalue("pg_cluster")
    clone_made_once(
        cli_made,
        database_url,
        tmp_path / "data",
        cluster=cluster,
        scratch=tmp_path_factory,
        make=make,
    )
    return Cli(tmp_path, database_url, monkeypatch)
