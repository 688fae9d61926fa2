"""The case commands end to end, as a user runs them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

G2 = {"action": "employ", "requester": "UA", "system": "atacms", "quantity": 2, "target": {"territory": "RU"}, "date": "2025-06-15"}


class Cli:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.tmp = tmp_path
        self.env = {
            **os.environ,
            "CLEARANCE_DATA_DIR": str(tmp_path / "data"),
            "CLEARANCE_DATABASE_URL": database_url,
            "CLEARANCE_PASSPHRASE": "correct horse battery",
            "COLUMNS": "200",
        }

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "clearance", *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json").stdout)

    def file(self, name: str, data: object) -> str:
        path = self.tmp / name
        path.write_text(json.dumps(data))
        return str(path)


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    cli = Cli(tmp_path, database_url)
    cli("init")
    cli("users", "add", "ua.liaison", "--name", "Liaison", "--party", "UA")
    cli("users", "add", "secdef", "--name", "Secretary", "--party", "US")
    cli("users", "add", "usdp", "--name", "Under Secretary", "--party", "US")
    cli("users", "grant", "secdef", "us.secdef", "--from", "2025-01-25")
    return cli


def _state(cli: Cli) -> tuple[str, str, str]:
    """Everything a failed command must leave as it was."""
    return (
        cli("cases", "list", "--all", "--json").stdout,
        cli("users", "list", "--json").stdout,
        cli("audit", "export").stdout,
    )


def test_a_request_denied_personally_and_verified_offline(cli: Cli) -> None:
    request = cli.file("g2.json", G2)
    case = cli.json("cases", "submit", request, "--as", "ua.liaison", "--idempotency-key", "ua-2025-06-15-1")
    assert case["state"] == "in_review"  # type: ignore[index]
    again = cli.json("cases", "submit", request, "--as", "ua.liaison", "--idempotency-key", "ua-2025-06-15-1")
    assert again["id"] == case["id"]  # type: ignore[index]
    denied = cli.json("cases", "deny", "1", "--as", "secdef", "--reason", "Escalation risk")
    assert denied["state"] == "denied"  # type: ignore[index]
    assert denied["approvals"][0]["reason"] == "Escalation risk"  # type: ignore[index]

    verified = cli.json("audit", "verify")
    assert verified["ok"] is True  # type: ignore[index]
    export = cli.tmp / "ledger.jsonl"
    cli("audit", "export", "--out", str(export))
    assert cli.json("audit", "verify", "--file", str(export))["ok"] is True  # type: ignore[index]

    shown = cli.file("case.json", cli.json("cases", "show", "1"))
    keys = cli.file("keys.json", cli.json("users", "list"))
    assert cli.json("verify-decision", shown, "--keys", keys)["valid"] is True  # type: ignore[index]
    forged = json.loads(Path(shown).read_text())
    forged["approvals"][0]["statement"] = forged["approvals"][0]["statement"].replace("Escalation risk", "Approved")
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
        (["cases", "approve", "1", "--as", "secdef", "--passphrase", "wrong passphrase"], "wrong passphrase"),
        (["cases", "execute", "1", "--as", "ua.liaison"], "cannot become executed"),
        (["cases", "show", "99"], "no case '99'"),
        (["cases", "list", "--state", "pending"], "'pending' is not a state"),
        (["users", "add", "Bad Name", "--name", "x", "--party", "UA"], "user id"),
        (["users", "add", "new.user", "--name", "x", "--party", "XX"], "unknown party 'XX'"),
        (["users", "add", "secdef", "--name", "x", "--party", "US"], "already exists"),
        (["users", "grant", "usdp", "us.nosuch", "--from", "2025-01-01"], "unknown authority"),
        (["users", "grant", "usdp", "us.usdp", "--from", "2025-02-30"], "--from"),
        (["users", "delegate", "usdp", "secdef", "us.secdef", "--from", "2025-01-01", "--to", "2025-12-31"], "does not hold us.secdef"),
        (["audit", "verify", "--file", "{missing}"], "file not found"),
        (["verify-decision", "{bad_request}"], "is not a case"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(cli: Cli, args: list[str], message: str) -> None:
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    files = {
        "missing": str(cli.tmp / "missing.json"),
        "g2": cli.file("g2.json", G2),
        "bad_request": cli.file("bad.json", {**G2, "quantity": "2"}),
    }
    before = _state(cli)
    result = cli(*[a.format(**files) for a in args], ok=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert _state(cli) == before


def test_an_uninitialised_database_is_named(tmp_path: Path) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    result = cli("cases", "list", ok=False)
    assert result.returncode == 2
    assert "clearance init" in result.stderr
