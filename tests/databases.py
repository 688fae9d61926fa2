"""Real databases for tests: a SQLite file, and a throwaway PostgreSQL cluster.

The PostgreSQL server is started once per test session from the Debian
packages' binaries (installed by .ci/run), as the unprivileged ``postgres``
user when the tests run as root (PostgreSQL refuses to run as root), on a
Unix socket in a temporary folder. Each test gets a fresh database cloned
from a migrated template, so tests never see each other's data.

Under pytest-xdist every worker is a session of its own, so it starts a cluster of
its own: its own folder (socket, data, log) and its own port number, one the kernel
hands out, so that clusters of parallel workers (or of two test runs at once) never
share a socket name or a shared-memory key.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from .parallel_support import free_port, worker

_counter = itertools.count()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PostgresCluster:
    def __init__(self) -> None:
        bin_dir = _pg_bin()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it"
            )
        self.root = Path(tempfile.mkdtemp(prefix=f"clearance-pg-{worker()}-"))
        self.data = self.root / "data"
        self.port = free_port()  # the server listens on no TCP port; this names its socket
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=200"
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.root / "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self.bin_dir = bin_dir
        self._template_ready = False

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.root), port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@/{name}?host={self.root}&port={self.port}"

    def fresh_database(self) -> str:
        """A new empty database's URL (migrations are the tests' business)."""
        name = f"t{next(_counter)}_{os.getpid()}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass(frozen=True)
class Template:
    """A database made once (a SQLite file or a PostgreSQL database name) and its key files,
    copied for each test that starts from it: users' keys are slow to make, on purpose."""

    kind: str
    data_dir: Path
    database: str


def database_name(url: str) -> str:
    """``postgresql+psycopg://user@/NAME?host=/socket/folder&port=…`` → ``NAME``."""
    return url.split("?", 1)[0].rsplit("/", 1)[1]


def clone_template(
    template: Template, database_url: str, data_dir: Path, cluster: PostgresCluster | None
) -> None:
    """Make the (fresh, empty) database at ``database_url`` a copy of the template, keys too."""
    shutil.copytree(template.data_dir / "keys", data_dir / "keys")
    if template.kind == "sqlite":
        shutil.copyfile(template.database, database_url.removeprefix("sqlite:///"))
        return
    assert cluster is not None
    name = database_name(database_url)
    with cluster.admin() as conn:
        conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')


def clone_made_once(
    made: dict[str, Template],
    database_url: str,
    data_dir: Path,
    *,
    cluster: PostgresCluster | None,
    scratch: pytest.TempPathFactory,
    make: Callable[[str, Path], None],
) -> None:
    """Make the fresh database at ``database_url``, and ``data_dir``, copies of what ``make``
    makes (given a database URL and a data folder); ``make`` runs once per kind of database,
    and ``made`` (a session fixture's dict) keeps what it made."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if kind not in made:
        root = scratch.mktemp(f"made-once-{kind}")
        (root / "data" / "keys").mkdir(parents=True)
        if cluster is None:
            url = f"sqlite:///{root / 'clearance.db'}"
            database = str(root / "clearance.db")
        else:
            url = cluster.fresh_database()
            database = database_name(url)
        make(url, root / "data")
        made[kind] = Template(kind, root / "data", database)
    clone_template(made[kind], database_url, data_dir, cluster)
