"""The case commands end to end, as a user runs them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clearance.cli.app import main
from clearance.store.models import Base

G2 = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}


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


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    cli = Cli(tmp_path, database_url, monkeypatch)
    cli("init")
    cli("users", "add", "ua.liaison", "--name", "Liaison", "--party", "UA")
    cli("users", "add", "secdef", "--name", "Secretary", "--party", "US")
    cli("users", "add", "usdp", "--name", "Under Secretary", "--party", "US")
    cli("users", "grant", "secdef", "us.secdef", "--from", "2025-01-25")
    return cli


def test_a_request_denied_personally_and_verified_offline(cli: Cli) -> None:
    request = cli.file("g2.json", G2)
    case = cli.json(
        "cases", "submit", request, "--as", "ua.liaison", "--idempotency-key", "ua-2025-06-15-1"
    )
    assert case["state"] == "in_review"
    again = cli.json(
        "cases", "submit", request, "--as", "ua.liaison", "--idempotency-key", "ua-2025-06-15-1"
    )
    assert again["id"] == case["id"]
    denied = cli.json("cases", "deny", "1", "--as", "secdef", "--reason", "Escalation risk")
    assert denied["state"] == "denied"
    assert denied["approvals"][0]["reason"] == "Escalation risk"

    verified = cli.json("audit", "verify")
    assert verified["ok"] is True
    export = cli.tmp / "ledger.jsonl"
    cli("audit", "export", "--out", str(export))
    assert cli.json("audit", "verify", "--file", str(export))["ok"] is True

    shown = cli.file("case.json", cli.json("cases", "show", "1"))
    keys = cli.file("keys.json", cli.json("users", "list"))
    assert cli.json("verify-decision", shown, "--keys", keys)["valid"] is True
    forged = json.loads(Path(shown).read_text())
    forged["approvals"][0]["statement"] = forged["approvals"][0]["statement"].replace(
        "Escalation risk", "Approved"
    )
    bad = cli("verify-decision", cli.file("forged.json", forged), "--keys", keys, ok=False)
    assert bad.returncode == 1
    assert "INVALID" in bad.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cases", "submit", "{missing}", "--as", "ua.liaison"], "file not found"),
        (["cases", "submit", "{bad_request}", "--as", "ua.liaison"], "request field 'quantity'"),
        (["cases", "submit", "{g2}", "--as", "nobody"], "unknown user 'nobody'"),
        (["cases", "submit", "{g2}", "--as", "secdef"], "cannot submit a request of UA"),
        (["cases", "deny", "1", "--as", "secdef", "--reason", ""], "a denial needs a reason"),
        (["cases", "approve", "1", "--as", "usdp"], "does not hold us.secdef"),
        (["cases", "approve", "1", "--as", "ua.liaison"], "own case"),
        (
            ["cases", "approve", "1", "--as", "secdef", "--passphrase", "wrong passphrase"],
            "wrong passphrase",
        ),
        (["cases", "execute", "1", "--as", "ua.liaison"], "cannot become executed"),
        (["cases", "show", "99"], "no case '99'"),
        (["cases", "list", "--state", "pending"], "'pending' is not a state"),
        (["users", "add", "Bad Name", "--name", "x", "--party", "UA"], "user id"),
        (["users", "add", "new.user", "--name", "x", "--party", "XX"], "unknown party 'XX'"),
        (["users", "add", "secdef", "--name", "x", "--party", "US"], "already exists"),
        (["users", "grant", "usdp", "us.nosuch", "--from", "2025-01-01"], "unknown authority"),
        (["users", "grant", "usdp", "us.usdp", "--from", "2025-02-30"], "--from"),
        (
            [
                "users",
                "delegate",
                "usdp",
                "secdef",
                "us.secdef",
                "--from",
                "2025-01-01",
                "--to",
                "2025-12-31",
            ],
            "does not hold us.secdef",
        ),
        (["audit", "verify", "--file", "{missing}"], "file not found"),
        (["verify-decision", "{bad_request}"], "is not a case"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    cli: Cli, args: list[str], message: str
) -> None:
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    files = {
        "missing": str(cli.tmp / "missing.json"),
        "g2": cli.file("g2.json", G2),
        "bad_request": cli.file("bad.json", {**G2, "quantity": "2"}),
    }
    before = cli.snapshot()
    result = cli(*[a.format(**files) for a in args], ok=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert cli.snapshot() == before


def _script(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CLEARANCE_DATA_DIR": str(tmp_path / "data"),
        "CLEARANCE_DATABASE_URL": database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "clearance", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_uninitialised_database_is_named_by_the_installed_command(tmp_path: Path) -> None:
    result = _script(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}", "cases", "list")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "clearance init" in result.stderr


def test_the_installed_command_creates_the_database_on_first_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'clearance.db'}"
    assert _script(tmp_path, url, "init").returncode == 0
    listed = _script(tmp_path, url, "cases", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["total"] == 0
