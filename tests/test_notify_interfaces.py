"""Notifications from the command line, the API and the pages: subscribing, listing, ending,
a webhook's signing key, dead letters and their retry, and bad input refused in one line naming
its field (exit status 2, API 400/422) with nothing saved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from clearance.service.dispatch import Dispatcher

from .api_support import Api, open_api
from .cli_support import Cli
from .notify_support import Receiver, free_port
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

# the command line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--email", "secdef"], "error: --email: 'secdef' is not an e-mail address (local@domain)"),
        (
            ["--email", "secdef@example.gov\nBcc: all@example.gov"],
            "error: --email: 'secdef@example.gov\\nBcc: all@example.gov' has a part before"
            " the @ that is not a plain mailbox name",
        ),
        (
            ["--webhook", "http://hooks.example.gov/in"],
            "error: --webhook: 'http://hooks.example.gov/in' is plain HTTP: use https://"
            " (http:// is taken only to this machine)",
        ),
        (
            ["--webhook", "https://me:secret@hooks.example.gov/in"],
            "error: --webhook: may not carry a user name or password (it is kept in the record)",
        ),
        (
            ["--webhook", "http://127.0.0.1:{port}/in"],
            "error: --webhook: 'http://127.0.0.1:{port}/in' cannot be reached (Connection refused)",
        ),
        (
            ["--email", "a@example.gov", "--kind", "soon"],
            "error: --kind: 'soon' is not a kind of event (one of waiting, decided,"
            " condition_due, question, escalation, policy_activated)",
        ),
        (
            ["--email", "a@example.gov", "--office", "us.secdef", "--clearance", "SECRET"],
            "error: this needs the admin role",
        ),
        (
            ["--email", "a@example.gov", "--clearance", "SECRET"],
            "error: --clearance: is stated only for an office's subscription",
        ),
        ([], "error: email: give either an e-mail address or a webhook URL"),
    ],
)
def test_a_bad_subscription_is_one_line_naming_its_option_and_saves_nothing(
    cli: Cli, args: list[str], line: str
) -> None:
    port = str(free_port())
    args = [a.replace("{port}", port) for a in args]
    if "--kind" not in args:
        args += ["--kind", "waiting"]
    before = cli.snapshot()
    refused = cli("notify", "subscribe", "--as", "secdef", *args, ok=False)
    assert refused.returncode == 2
    assert refused.stderr.strip() == line.replace("{port}", port)
    assert cli.snapshot() == before


def test_subscribing_listing_and_ending_from_the_command_line(cli: Cli) -> None:
    receiver = Receiver().start()
    try:
        hook = cli.json(
            "notify", "subscribe", "--as", "secdef", "--kind", "waiting", "--webhook", receiver.url
        )
    finally:
        receiver.stop()
    assert hook["signing_key"].startswith("whsec_")
    shown = cli("notify", "signing-key", hook["id"], "--as", "secdef").stdout.strip()
    assert shown == hook["signing_key"]
    mail = cli.json(
        "notify",
        "subscribe",
        "--as",
        "admin",
        "--office",
        "us.secdef",
        "--clearance",
        "secret",
        "--kind",
        "waiting",
        "--kind",
        "escalation",
        "--email",
        "secdef-office@example.gov",
    )
    assert (mail["office"], mail["clearance"], mail["kinds"]) == (
        "us.secdef",
        "SECRET",
        ["waiting", "escalation"],
    )
    assert mail["signing_key"] is None
    mine = cli.json("notify", "subscriptions", "--as", "secdef")
    assert [s["id"] for s in mine] == [hook["id"]]
    everyone = cli.json("notify", "subscriptions")
    assert [s["id"] for s in everyone] == [hook["id"], mail["id"]]
    assert "secdef-office@example.gov" in cli("notify", "subscriptions").stdout
    refused = cli("notify", "unsubscribe", mail["id"], "--as", "secdef", ok=False)
    assert refused.stderr.strip() == f"error: no subscription '{mail['id']}'"
    cli("notify", "unsubscribe", hook["id"], "--as", "secdef")
    assert cli.json("notify", "subscriptions", "--as", "secdef") == []
    events = cli.json("audit", "verify")
    assert events["ok"], events

    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    ran = cli.json("notify", "run", "--once")
    assert ran["taken"] == 1  # to the office's mailbox: no mail server is set
    assert ran["retrying"] == 1
    assert "no mail server is set (CLEARANCE_SMTP_HOST)" in ran["errors"][0]
    assert cli.json("notify", "dead") == []
    refused = cli("notify", "dead", "--as", "secdef", ok=False)
    assert refused.stderr.strip() == "error: this needs the admin role"
    refused = cli("notify", "retry", "no-such", ok=False)
    assert refused.stderr.strip() == "error: no notification 'no-such'"


# the API and the pages ----------------------------------------------------------------------


@pytest.fixture
def demo(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    # No dispatcher in the server: the tests run one themselves.
    with open_api(tmp_path / "data", seeded, CLEARANCE_NOTIFY_POLL_SECONDS="0") as api:
        yield api


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"kinds": ["waiting"], "email": "not an address"}, 400, "email"),
        ({"kinds": ["waiting"], "webhook": "http://hooks.example.gov/in"}, 400, "webhook"),
        ({"kinds": ["waiting"], "webhook": "http://127.0.0.1:{port}/in"}, 400, "webhook"),
        ({"kinds": ["later"], "email": "a@example.gov"}, 400, "kinds"),
        ({"kinds": [], "email": "a@example.gov"}, 422, "kinds"),
        ({"kinds": "waiting", "email": "a@example.gov"}, 422, "kinds"),
        ({"kinds": ["waiting"], "email": "a" * 300 + "@example.gov"}, 422, "email"),
    ],
)
def test_the_api_refuses_a_bad_subscription_naming_its_field(
    demo: Api, body: dict[str, object], status: int, field: str
) -> None:
    client = demo.as_user("secdef")
    port = str(free_port())
    body = {k: v.replace("{port}", port) if isinstance(v, str) else v for k, v in body.items()}
    refused = client.post("/api/v1/subscriptions", json=body)
    assert refused.status_code == status, refused.text
    assert refused.json()["field"] == field
    assert "\n" not in refused.json()["message"]
    assert client.get("/api/v1/subscriptions").json() == {"subscriptions": []}


def test_the_api_subscribes_lists_ends_and_retries_dead_letters(demo: Api) -> None:
    secdef = demo.as_user("secdef")
    made = secdef.post(
        "/api/v1/subscriptions", json={"kinds": ["waiting"], "email": "secdef@example.gov"}
    )
    assert made.status_code == 201, made.text
    subscription = made.json()
    assert subscription["signing_key"] is None
    listed = secdef.get("/api/v1/subscriptions").json()["subscriptions"]
    assert [s["id"] for s in listed] == [subscription["id"]]
    assert demo.as_user("us.reviewer").get("/api/v1/subscriptions").json()["subscriptions"] == []
    theirs = demo.as_user("us.reviewer").delete(f"/api/v1/subscriptions/{subscription['id']}")
    assert_error(theirs, 404, "not_found")

    server = demo.server
    server.cases.submit(G2, actor="ua.liaison", now=server.now(), classification=2)
    dispatcher = Dispatcher(
        server.store, server.notify_keys, replace(server.settings.notify, max_attempts=1)
    )
    assert dispatcher.run_once().dead == 1  # no mail server is set: given up at once
    dispatcher.close()
    admin = demo.as_user("admin.user")
    [dead] = admin.get("/api/v1/notifications/dead").json()["notifications"]
    assert (dead["about"], dead["classification"], dead["state"]) == ("case 5", "SECRET", "dead")
    assert dead["last_error"] == "no mail server is set (CLEARANCE_SMTP_HOST)"
    assert_error(demo.as_user("auditor").get("/api/v1/notifications/dead"), 403, "forbidden")
    retried = admin.post(f"/api/v1/notifications/{dead['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["state"], retried.json()["attempts"]) == ("pending", 0)
    again = admin.post(f"/api/v1/notifications/{dead['id']}/retry")
    assert "not dead" in assert_error(again, 409, "conflict")["message"]
    assert admin.get("/api/v1/notifications/dead").json() == {"notifications": []}

    assert secdef.delete(f"/api/v1/subscriptions/{subscription['id']}").status_code == 204
    assert secdef.get("/api/v1/subscriptions").json() == {"subscriptions": []}
    ended = secdef.get("/api/v1/subscriptions", params={"ended": True}).json()["subscriptions"]
    assert ended[0]["ended_at"] is not None


def test_the_pages_subscribe_with_the_csrf_token_and_show_dead_letters_to_admins(
    demo: Api,
) -> None:
    browser, csrf = demo.signed_in("secdef")
    page = browser.get("/notifications")
    assert page.status_code == 200
    assert "No subscription yet." in page.text
    form = {"kinds": ["waiting", "decided"], "channel": "email", "address": "secdef@example.gov"}
    assert browser.post("/notifications", data=form).status_code == 403  # no CSRF token
    made = browser.post("/notifications", data={**form, "csrf_token": csrf})
    assert made.status_code == 201, made.text
    assert 'id="subscribed"' in made.text
    assert "secdef@example.gov" in made.text
    bad = browser.post("/notifications", data={**form, "address": "nobody", "csrf_token": csrf})
    assert bad.status_code == 400
    assert "Not subscribed:</strong> email: &#39;nobody&#39; is not an e-mail address" in bad.text
    [row] = re.findall(
        r'action="/notifications/([0-9a-f-]+)/end"', browser.get("/notifications").text
    )
    ended = browser.post(
        f"/notifications/{row}/end", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert ended.status_code == 303
    assert "No subscription yet." in browser.get("/notifications").text
    assert browser.get("/notifications/dead").status_code == 403

    server = demo.server
    demo.server.subscriptions.subscribe(
        actor="secdef", kinds=["waiting"], email="secdef@example.gov", now=server.now()
    )
    server.cases.submit(G2, actor="ua.liaison", now=server.now())
    dispatcher = Dispatcher(
        server.store, server.notify_keys, replace(server.settings.notify, max_attempts=1)
    )
    dispatcher.run_once()
    dispatcher.close()
    admin, admin_csrf = demo.signed_in("admin.user")
    dead = admin.get("/notifications/dead")
    assert dead.status_code == 200
    [delivery] = re.findall(r'action="/notifications/dead/([0-9a-f-]+)/retry"', dead.text)
    assert 'href="/cases/5">Case 5</a> (UNCLASSIFIED)' in dead.text
    retried = admin.post(
        f"/notifications/dead/{delivery}/retry",
        data={"csrf_token": admin_csrf},
        follow_redirects=False,
    )
    assert retried.status_code == 303
    assert "is due again" in admin.get(retried.headers["location"]).text
    assert "Every notification was delivered" in admin.get("/notifications/dead").text
