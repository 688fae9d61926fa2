"""What waits for a user: the June 2025 ATACMS request waits for the Secretary and nobody
else, leaves the inbox once answered, is never listed to a reader cleared below it, and a
delegate is not given a gate the office must decide personally."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .api_support import Api, open_api
from .cli_support import Cli
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)

G2 = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}


def _waiting(cli: Cli, user: str) -> list[tuple[str, int | None, str | None]]:
    items = cli.json("inbox", "--as", user)
    return [(i["kind"], i["case_number"], i["office"]) for i in items]


def test_the_june_2025_request_waits_for_the_secretary_alone_until_answered(cli: Cli) -> None:
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    assert _waiting(cli, "secdef") == [("decide", 1, "us.secdef")]
    shown = cli.json("inbox", "--as", "secdef")[0]
    assert shown["title"] == "UA employs 2 × atacms against a target in RU, 2025-06-15"
    assert shown["due_at"] is not None
    assert shown["waiting_days"] >= 0
    assert _waiting(cli, "usdp") == []
    assert _waiting(cli, "ua.liaison") == [], "a requester never decides their own case"
    table = cli("inbox", "--as", "secdef").stdout
    assert "waiting for secdef: 1" in table
    assert "us.secdef" in table

    cli("cases", "deny", "1", "--as", "secdef", "--reason", "Escalation risk")
    assert _waiting(cli, "secdef") == []


def test_a_delegate_is_not_given_a_gate_the_office_must_decide_personally(cli: Cli) -> None:
    cli(
        "users",
        "delegate",
        "secdef",
        "usdp",
        "us.secdef",
        "--from",
        "2025-01-25",
        "--to",
        "2199-12-31",
    )
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    assert _waiting(cli, "usdp") == []
    assert _waiting(cli, "secdef") == [("decide", 1, "us.secdef")]


def test_an_inbox_never_lists_a_case_above_its_reader(cli: Cli) -> None:
    cli("users", "access", "ua.liaison", "--clearance", "SECRET")
    cli("users", "access", "secdef", "--clearance", "CONFIDENTIAL")
    g2 = cli.file("g2.json", G2)
    cli("cases", "submit", g2, "--as", "ua.liaison", "--classification", "SECRET")
    assert cli.json("inbox", "--as", "secdef") == []
    assert "waiting for secdef: 0" in cli("inbox", "--as", "secdef").stdout
    cli("users", "access", "secdef", "--clearance", "SECRET")
    assert _waiting(cli, "secdef") == [("decide", 1, "us.secdef")]


def test_an_unknown_user_has_no_inbox(cli: Cli) -> None:
    refused = cli("inbox", "--as", "nobody", ok=False)
    assert (refused.returncode, refused.stderr.strip()) == (2, "error: unknown user 'nobody'")


@pytest.fixture
def demo(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def test_the_api_gives_each_user_their_own_inbox(demo: Api) -> None:
    """The demo's June 2025 ATACMS request (case 1, SECRET) and its Storm Shadow twin (case
    2, CONFIDENTIAL), both in review, wait for the Secretary; the reviewers, the auditor
    and the requesters have nothing to decide; the US liaison must record the ERAM sale's
    funding condition."""
    secdef = demo.as_user("secdef").get("/api/v1/inbox")
    assert secdef.status_code == 200
    items = secdef.json()["items"]
    waiting = sorted((i["case_number"], i["kind"], i["office"], i["classification"]) for i in items)
    assert waiting == [
        (1, "decide", "us.secdef", "SECRET"),
        (2, "decide", "us.secdef", "CONFIDENTIAL"),
    ]
    liaison = demo.as_user("us.liaison").get("/api/v1/inbox").json()["items"]
    assert [(i["kind"], i["case_number"]) for i in liaison] == [("record_condition", 4)]
    assert liaison[0]["title"].startswith("European partners fund the purchase (US transfers")
    for user in ("us.reviewer", "conf.reviewer", "auditor", "ua.liaison"):
        assert demo.as_user(user).get("/api/v1/inbox").json() == {"user": user, "items": []}
    assert_error(demo.client().get("/api/v1/inbox"), 401, "unauthenticated")


def test_the_dashboard_says_what_waits_for_its_reader(demo: Api) -> None:
    page, _ = demo.signed_in("secdef")
    html = page.get("/dashboard").text
    waiting = html[
        html.index('id="waiting"') : html.index("</section>", html.index('id="waiting"'))
    ]
    assert '<strong id="waiting-count">2</strong> items, oldest first' in waiting
    assert 'href="/cases/1"' in waiting
    assert 'href="/cases/2"' in waiting
    assert "SECRET" in waiting
    reviewer, _ = demo.signed_in("conf.reviewer")
    html = reviewer.get("/dashboard").text
    assert "Nothing is waiting for you." in html


def test_a_huge_or_strange_user_name_is_one_line_not_a_crash(cli: Cli) -> None:
    for name in ("x" * 100_000, "a\x00b", "../../etc/passwd", "🙂" * 50):
        refused = cli("inbox", "--as", name, ok=False)
        assert refused.returncode == 2
        assert len(refused.stderr.strip().splitlines()) == 1
        assert "Traceback" not in refused.stderr
