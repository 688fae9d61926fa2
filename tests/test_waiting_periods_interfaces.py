"""Legislative waiting periods through the interfaces: the command line and the API refuse an execution inside the period in one line naming the day it ends, show
the period, and take the President's waiver (and only the President's).

Each test submits a sale dated today: a US sale of ATACMS (major defense equipment) to
Ukraine worth $20M, which Congress has 30 days to review. Today is the test's own moment,
and the clock of the commands or of the server is stopped at it, so that the test and the
interface agree on the day even across midnight.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from clearance.core.signing import new_key_pair
from clearance.service.demo import DEMO_PASSWORD
from clearance.service.runtime import Runtime

from .api_support import Api
from .cli_support import Cli, pin_the_commands_clock
from .test_api import (  # noqa: F401 (the demo world's fixtures, on every database)
    api,
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)

CASES = "/api/v1/cases"


def _sale(moment: dt.datetime) -> tuple[dict[str, object], str]:
    """A sale dated on the day of ``moment``, and the last day of its waiting period."""
    today = moment.date()
    sale = {
        "action": "transfer",
        "requester": "US",
        "recipient": "UA",
        "system": "atacms",
        "quantity": 10,
        "value_usd": 20_000_000,
        "date": today.isoformat(),
    }
    return sale, (today + dt.timedelta(days=30)).isoformat()


def test_the_command_line_refuses_inside_the_period_and_takes_the_waiver(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = dt.datetime.now(dt.UTC)
    pin_the_commands_clock(monkeypatch, moment)
    sale, ends = _sale(moment)
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    cli("users", "add", "potus", "--name", "President", "--party", "US", "--role", "reviewer")
    cli("users", "grant", "potus", "us.president", "--from", "2025-01-20")
    cli("cases", "submit", cli.file("sale.json", sale), "--as", "us.liaison")
    shown = cli.json("cases", "show", "1", "--as", "us.liaison")
    assert shown["state"] == "approved"
    assert shown["waiting_period"]["ends_on"] == ends
    assert shown["waiting_period"]["waived"] is False
    words = cli("cases", "show", "1", "--as", "us.liaison").stdout
    assert f"30 days, ends {ends}" in " ".join(words.split())

    before = cli.snapshot()
    refused = cli("cases", "execute", "1", "--as", "us.liaison", ok=False)
    assert refused.returncode != 0
    assert f"before the waiting period ends on {ends}" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    not_theirs = cli("cases", "waive", "1", "--as", "secdef", "--reason", "now", ok=False)
    assert not_theirs.returncode != 0
    assert "only us.president may waive" in not_theirs.stderr
    assert len(not_theirs.stderr.strip().splitlines()) == 1
    assert cli.snapshot() == before

    waived = cli.json("cases", "waive", "1", "--as", "potus", "--reason", "An emergency exists")
    assert waived["waiting_period"]["waived_by"] == "potus"
    assert any(e["type"] == "waiting_period_waived" for e in waived["events"])
    assert cli.json("cases", "execute", "1", "--as", "us.liaison")["state"] == "executed"
    assert cli("audit", "verify").returncode == 0


def _add_president(server: Runtime, data_dir: Path) -> None:
    public, pem = new_key_pair(DEMO_PASSWORD)
    path = server.key_path("potus")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    now = server.now()
    server.people.add_user(
        user_id="potus", name="President", party="US", public_key=public, actor="admin", now=now
    )
    server.people.grant(
        user_id="potus",
        authority="us.president",
        valid_from=dt.date(2025, 1, 20),
        valid_to=None,
        actor="admin",
        now=now,
    )


def test_the_api_answers_409_inside_the_period_and_takes_the_presidents_waiver(
    api: Api,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The demo's ERAM sale (case 4) shows its period, long ended.
    eram = api.as_user("us.liaison").get(f"{CASES}/4").json()
    assert eram["request"]["value_usd"] == 825_000_000
    assert eram["waiting_period"]["ends_on"] == "2025-09-27"
    assert eram["decision"]["waiting_period"]["executable_from"] == "2025-09-28"

    moment = api.server.now()
    monkeypatch.setattr(api.server, "now", lambda: moment)
    sale, ends = _sale(moment)
    liaison = api.as_user("us.liaison")
    made = liaison.post(CASES, json=sale)
    assert made.status_code == 201, made.text
    case = made.json()
    assert case["waiting_period"]["ends_on"] == ends
    path = f"{CASES}/{case['number']}"

    error = assert_error(liaison.post(f"{path}/execute", json={}), 409, "illegal_transition")
    assert f"before the waiting period ends on {ends}" in error["message"]

    _add_president(api.server, tmp_path / "data")
    waiver = {"reason": "An emergency exists", "passphrase": DEMO_PASSWORD}
    assert_error(api.as_user("secdef").post(f"{path}/waiver", json=waiver), 403, "forbidden")
    no_reason = {"reason": "", "passphrase": DEMO_PASSWORD}
    assert_error(liaison.post(f"{path}/waiver", json=no_reason), 422, "invalid_request", "reason")
    waived = api.as_user("potus").post(f"{path}/waiver", json=waiver)
    assert waived.status_code == 200, waived.text
    assert waived.json()["waiting_period"]["waived"] is True
    done = liaison.post(f"{path}/execute", json={})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "executed"
