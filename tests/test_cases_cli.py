"""The case commands end to end, as a user runs them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import Cli

G2 = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}


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
    reason = "Escalation risk :fire:"  # JSON shows the words as given, never as an emoji
    denied = cli.json("cases", "deny", "1", "--as", "secdef", "--reason", reason)
    assert denied["state"] == "denied"
    assert denied["approvals"][0]["reason"] == reason

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
        reason, "Approved"
    )
    bad = cli("verify-decision", cli.file("forged.json", forged), "--keys", keys, ok=False)
    assert bad.returncode == 1
    assert "INVALID" in bad.stdout


def test_a_user_sees_at_the_command_line_what_they_see_on_the_web(cli: Cli) -> None:
    """``--as`` reads through the same door as the web: a case above the user's clearance is
    in none of their lists and is not found, in the words of a case that does not exist;
    without ``--as`` the output says it is the local operator's view."""
    cli(
        "users",
        "add",
        "ts.liaison",
        "--name",
        "Cleared",
        "--party",
        "UA",
        "--clearance",
        "TOP SECRET",
    )
    request = cli.file("g2.json", G2)
    cli("cases", "submit", request, "--as", "ts.liaison", "--classification", "TOP SECRET")
    cli("cases", "submit", request, "--as", "ua.liaison")
    cli("users", "access", "ua.liaison", "--role", "reviewer")  # sees every case up to its level

    seen = cli.json("cases", "list", "--as", "ua.liaison")
    assert ([c["number"] for c in seen["cases"]], seen["total"]) == ([2], 1)
    assert seen["seen_as"] == "ua.liaison"
    hidden = cli("cases", "show", "1", "--as", "ua.liaison", ok=False)
    missing = cli("cases", "show", "99", "--as", "ua.liaison", ok=False)
    assert hidden.returncode == missing.returncode == 2
    assert hidden.stderr == "error: no case '1'\n"
    assert missing.stderr == "error: no case '99'\n"
    assert "TOP SECRET" not in cli("cases", "list", "--as", "ua.liaison").stdout
    assert cli.json("cases", "show", "2", "--as", "ua.liaison")["number"] == 2

    everything = cli.json("cases", "list")
    assert ([c["number"] for c in everything["cases"]], everything["seen_as"]) == ([1, 2], None)
    assert "as the local operator" in cli("cases", "list").stdout
    assert "as the local operator" in cli("cases", "show", "1").stdout
    assert cli.json("cases", "show", "1", "--as", "ts.liaison")["classification"] == "TOP SECRET"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cases", "submit", "{missing}", "--as", "ua.liaison"], "file not found"),
        (["cases", "submit", "{bad_request}", "--as", "ua.liaison"], "request field 'quantity'"),
        (["cases", "submit", "{g2}", "--as", "nobody"], "unknown user 'nobody'"),
        (["cases", "submit", "{g2}", "--as", "secdef"], "cannot submit a request of UA"),
        (["cases", "deny", "1", "--as", "secdef", "--reason", ""], "a denial needs a reason"),
        # A requester of another party, holding no office, sees only their own cases.
        (["cases", "approve", "1", "--as", "usdp"], "no case '1'"),
        (["cases", "approve", "1", "--as", "ua.liaison"], "own case"),
        (
            ["cases", "approve", "1", "--as", "secdef", "--passphrase", "wrong passphrase"],
            "wrong passphrase",
        ),
        (["cases", "execute", "1", "--as", "ua.liaison"], "cannot become executed"),
        (["cases", "show", "99"], "no case '99'"),
        (["cases", "rescreen", "--as", "nobody"], "unknown user 'nobody'"),
        (
            ["cases", "submit", "{g2}", "--as", "ua.liaison", "--classification", "SECRET"],
            "cleared to UNCLASSIFIED",
        ),
        (
            ["cases", "submit", "{g2}", "--as", "ua.liaison", "--classification", "COSMIC"],
            "--classification: 'COSMIC' is not a level",
        ),
        (
            ["users", "add", "new.user", "--name", "x", "--party", "UA", "--role", "king"],
            "--role: 'king' is not a role",
        ),
        (["users", "access", "usdp", "--clearance", "ULTRA"], "--clearance"),
        (["users", "access", "nobody", "--role", "reviewer"], "unknown user 'nobody'"),
        (["users", "password", "usdp", "--password", "short"], "at least 12 characters"),
        (["users", "token", "usdp", "--name", " "], "say what the token is for"),
        (["users", "revoke-token", "no-such-token"], "no API token"),
        (["users", "token", "usdp", "--name", "x", "--days", "91"], "days: must be from 1 to 90"),
        (["users", "token", "usdp", "--name", "x", "--days", "0"], "--days"),
        (["users", "tokens", "nobody"], "unknown user 'nobody'"),
        (
            [
                "users",
                "delegate",
                "secdef",
                "ua.liaison",
                "us.secdef",
                "--from",
                "2025-06-01",
                "--to",
                "2025-06-30",
            ],
            "ua.liaison acts for UA: only a user of US may be a delegate for us.secdef",
        ),
        (["cases", "execute", "1", "--as", "nobody"], "unknown user 'nobody'"),
        (["cases", "execute", "1", "--as", "secdef"], "only UA may record this case as executed"),
        (
            ["users", "add", "new.user", "--name", "x", "--party", "UA", "--by", "nobody"],
            "unknown user 'nobody' (--by)",
        ),
        (["users", "add", "admin", "--name", "x", "--party", "UA"], "reserved"),
        (["users", "add", "clearance", "--name", "x", "--party", "UA"], "reserved"),
        (
            ["cases", "submit", "{g2_other}", "--as", "ua.liaison", "--idempotency-key", "k-1"],
            "used for another request",
        ),
        (
            ["users", "grant", "usdp", "us.usdp", "--from", "2025-01-01", "--by", "ua.nobody"],
            "unknown user",
        ),
        (["cases", "withdraw", "1", "--as", "secdef"], "only the requester can withdraw"),
        (
            [
                "cases",
                "condition-met",
                "1",
                "--as",
                "ua.liaison",
                "--condition",
                "x",
                "--evidence",
                "y",
            ],
            "condition",
        ),
        (["cases", "list", "--state", "pending"], "'pending' is not a state"),
        (["users", "add", "Bad Name", "--name", "x", "--party", "UA"], "user id"),
        (["users", "add", "new.user\n", "--name", "x", "--party", "UA"], "user id"),
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
    cli(
        "cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison", "--idempotency-key", "k-1"
    )
    files = {
        "missing": str(cli.tmp / "missing.json"),
        "g2": cli.file("g2.json", G2),
        "bad_request": cli.file("bad.json", {**G2, "quantity": "2"}),
        "g2_other": cli.file("g2-other.json", {**G2, "quantity": 3}),
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


def _forgeries(
    case: dict[str, Any], users: list[dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]], str]]:
    """(name, case, users, expected problem): each one change an auditor must catch."""
    answer = case["approvals"][0]

    def edited(**changes: Any) -> dict[str, Any]:
        return {**case, "approvals": [{**answer, **changes}]}

    statement = answer["statement"]
    yield (
        "signed text",
        edited(statement=statement.replace("Escalation risk", "Approved")),
        users,
        "signature",
    )
    yield "verdict", edited(verdict="approve"), users, "signed verdict"
    yield "reason", edited(reason="Approved"), users, "signed reason"
    yield "time", edited(at="2025-01-01T00:00:00+00:00"), users, "signed at"
    yield "other case", {**case, "id": "another-case"}, users, "signed case_id"
    not_required = statement.replace('"us.secdef"', '"us.usdp"')
    yield "office", edited(statement=not_required, authority="us.usdp"), users, "did not require"
    no_office = [{**u, "holdings": []} for u in users]
    yield "holding", case, no_office, "did not hold us.secdef"


def test_every_forgery_of_a_signed_answer_is_caught_offline(cli: Cli) -> None:
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    cli("cases", "deny", "1", "--as", "secdef", "--reason", "Escalation risk")
    case, users = cli.json("cases", "show", "1"), cli.json("users", "list")
    for name, forged, keys, problem in _forgeries(case, users):
        result = cli(
            "verify-decision",
            cli.file("case.json", forged),
            "--keys",
            cli.file("keys.json", keys),
            "--json",
            ok=False,
        )
        assert result.returncode == 1, name
        report = json.loads(result.stdout)
        assert report["valid"] is False, name
        assert any(problem in p for p in report["signatures"][0]["problems"]), (name, report)


@pytest.mark.parametrize(
    "args",
    [
        ["cases", "list"],
        ["cases", "overdue"],
        ["users", "list"],
        ["audit", "verify"],
        ["audit", "export"],
    ],
)
def test_an_uninitialised_database_is_named_by_every_command(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    out = tmp_path / "ledger.jsonl"
    extra = ["--out", str(out)] if args == ["audit", "export"] else []
    result = Cli(tmp_path, database_url, monkeypatch)(*args, *extra, ok=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: the database is not initialised; run 'clearance init'"
    assert not list(tmp_path.glob("ledger.jsonl*"))  # no partial export left behind


def test_access_password_and_tokens_are_recorded(cli: Cli) -> None:
    assert cli.json(
        "users",
        "access",
        "usdp",
        "--role",
        "reviewer",
        "--role",
        "auditor",
        "--clearance",
        "top secret",
    ) == {
        "user": "usdp",
        "roles": ["auditor", "reviewer"],
        "clearance": "TOP SECRET",
    }
    cli("users", "password", "usdp", "--password", "a long enough password")
    issued = cli.json("users", "token", "usdp", "--name", "nightly export")
    assert issued["token"].startswith("clr_")
    cli("users", "revoke-token", issued["id"])
    lines = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    kinds = [line["type"] for line in lines if "type" in line]
    assert all(json.loads(line["body"])["type"] == line["type"] for line in lines if "type" in line)
    assert kinds.count("user_access_changed") == 2
    assert {"api_token_issued", "api_token_revoked"} <= set(kinds)
    assert "a long enough password" not in cli("audit", "export").stdout
    assert issued["token"] not in cli("audit", "export").stdout


def test_tokens_expire_are_listed_and_a_new_password_revokes_them(cli: Cli) -> None:
    weekly = cli.json("users", "token", "usdp", "--name", "weekly report", "--days", "7")
    nightly = cli.json("users", "token", "usdp", "--name", "nightly export")
    issued_at = dt.datetime.now(dt.UTC)
    for token, days in ((weekly, 7), (nightly, 90)):
        left = dt.datetime.fromisoformat(token["expires_at"]) - issued_at
        assert dt.timedelta(days=days, minutes=-1) < left <= dt.timedelta(days=days)
    listed = cli.json("users", "tokens", "usdp")
    assert [(t["name"], t["state"]) for t in listed] == [
        ("nightly export", "active"),
        ("weekly report", "active"),
    ]
    assert listed[1]["expires_at"] == weekly["expires_at"]
    table = cli("users", "tokens", "usdp").stdout
    assert "weekly report" in table
    assert weekly["token"] not in table

    cli("users", "revoke-token", weekly["id"])
    cli("users", "password", "usdp", "--password", "a long enough password")
    listed = cli.json("users", "tokens", "usdp")
    assert [t["state"] for t in listed] == ["revoked", "revoked"]
    lines = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    events = [json.loads(line["body"]) for line in lines if "body" in line]
    reasons = [e["payload"]["reason"] for e in events if e["type"] == "api_token_revoked"]
    assert reasons == ["requested", "password_set"]  # the revoked one is not revoked again


def test_the_timeline_says_every_event_in_words(cli: Cli) -> None:
    """Stock moved by an executed use is said as what it did, not shown as its payload."""
    cli.json("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    cli.json("cases", "approve", "1", "--as", "secdef", "--reason", "Within the guidance")
    cli.json("cases", "execute", "1", "--as", "ua.liaison")
    shown = " ".join(cli("cases", "show", "1").stdout.split())
    assert "stock_moved" in shown
    assert "UA moved 2 × atacms from stock on hand to consumed" in shown
    assert "us.secdef approved, signed by secdef" in shown
    assert "{" not in shown


def test_an_april_strike_executed_under_the_review_mechanism_is_suspended(cli: Cli) -> None:
    """Approved in April 2025 under the November 2024 authority, executed today: refused in
    one line naming us.secdef, the case suspended (the timeline says why); once us.secdef
    approves, it is drawn on in parts up to the approved quantity."""
    april = {**G2, "date": "2025-04-10", "quantity": 3}
    case = cli.json("cases", "submit", cli.file("april.json", april), "--as", "ua.liaison")
    assert case["state"] == "approved"
    refused = cli("cases", "execute", "1", "--as", "ua.liaison", ok=False)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "case 1 was not executed" in refused.stderr
    assert "us.secdef" in refused.stderr
    shown = cli.json("cases", "show", "1")
    assert shown["state"] == "suspended"
    timeline = " ".join(cli("cases", "show", "1").stdout.split())
    assert "suspended: judged again on the day of execution" in timeline
    assert "it waits for us.secdef to approve" in timeline
    inbox = cli.json("inbox", "--as", "secdef")
    assert [(i["kind"], i["office"], i["case_number"]) for i in inbox] == [
        ("decide", "us.secdef", 1)
    ]
    approved = cli.json("cases", "approve", "1", "--as", "secdef", "--reason", "Reviewed")
    assert approved["state"] == "approved"
    part = cli.json("cases", "execute", "1", "--as", "ua.liaison", "--quantity", "2")
    assert part["state"] == "partly_executed"
    beyond = cli("cases", "execute", "1", "--as", "ua.liaison", "--quantity", "2", ok=False)
    assert beyond.returncode == 2
    assert "quantity: must be between 1 and the 1 that remain of the approved 3" in beyond.stderr
    done = cli.json("cases", "execute", "1", "--as", "ua.liaison")
    assert done["state"] == "executed"
    assert cli.json("audit", "verify")["ok"] is True
    shown_file = cli.file("case.json", cli.json("cases", "show", "1"))
    keys = cli.file("keys.json", cli.json("users", "list"))
    proof = cli.json("verify-decision", shown_file, "--keys", keys)
    assert proof["valid"] is True, proof


@pytest.mark.parametrize("name", ["\u2028", "a\u2029b", "x\x85y", "line\nbreak"])
def test_a_user_name_with_a_line_separator_is_quoted_on_one_line(cli: Cli, name: str) -> None:
    """U+2028 and U+2029 end a line for many readers, as control characters do."""
    run = cli("notify", "subscriptions", "--as", name, ok=False)
    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: unknown user '")


MARKUP = "[/] [b]x[/b] :fire:"
"""Words a user may write that Rich would read as markup (``[/]`` closing nothing is an error)
or as an emoji code."""


def test_words_a_user_writes_are_shown_as_written_never_as_markup(cli: Cli) -> None:
    """A name, a reason, a condition's evidence and a case file being checked: each is shown in
    the readable output as written, with no traceback and no colour taken from it."""
    cli("users", "add", "mark.up", "--name", MARKUP, "--party", "UA")
    assert MARKUP in cli("users", "list").stdout
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    cli("cases", "deny", "1", "--as", "secdef", "--reason", MARKUP)
    assert f"{MARKUP} (signed)" in cli("cases", "show", "1").stdout
    shown = json.loads(cli("cases", "show", "1", "--json").stdout)
    shown["approvals"][0]["actor"] = MARKUP
    checked = cli("verify-decision", cli.file("forged.json", shown), ok=False)
    assert checked.returncode == 1
    assert f"by {MARKUP} for" in checked.stdout
    assert "Traceback" not in checked.stderr
