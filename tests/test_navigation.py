"""How many things wait for a user, in the navigation of every signed-in page: the length of
their inbox (``Runtime.inbox_count``), counted again only once something is recorded.

The world is the demo story (test_pages): the June 2025 ATACMS request (case 1, SECRET)
and its Storm Shadow twin (case 2, CONFIDENTIAL) wait for the Secretary; the ERAM sale's
funding condition (case 4) waits for the US liaison; nothing waits for anyone else.
"""

from __future__ import annotations

import re

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.errors import NotFoundError
from clearance.service.demo import DEMO_PASSWORD
from clearance.service.runtime import Runtime

from .test_pages import (  # noqa: F401 (the demo world's fixtures)
    JUNE_ATACMS,
    Browser,
    as_user,
    seeded,
    server,
)


def test_the_count_is_the_inbox_and_is_counted_again_only_after_an_event(
    server: Runtime,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = {"secdef": 2, "us.liaison": 1, "ua.liaison": 0, "conf.reviewer": 0, "auditor": 0}
    for user, count in expected.items():
        assert server.inbox_count(actor=user) == count == len(server.inbox(actor=user)), user

    # Nothing recorded since: the counts are kept, and the inbox is not read again.
    def unread(*, actor: str) -> list[object]:
        raise AssertionError(f"the inbox of {actor} was read again")

    monkeypatch.setattr(server, "inbox", unread)
    assert server.inbox_count(actor="secdef") == 2
    monkeypatch.undo()

    # The Secretary denies case 2: an event, after which the count is taken again.
    server.cases.answer(
        "2",
        actor="secdef",
        approve=False,
        reason="Not now",
        signer=server.signer("secdef", DEMO_PASSWORD),
        now=server.now(),
    )
    assert server.inbox_count(actor="secdef") == 1


def test_an_unknown_user_has_no_count(server: Runtime) -> None:  # noqa: F811
    with pytest.raises(NotFoundError, match="unknown user 'nobody'"):
        server.inbox_count(actor="nobody")
    assert server.inbox_count(actor=ADMIN) == 0


# The navigation -------------------------------------------------------------------------

PAGES = ("/dashboard", "/cases", "/cases/2", "/catalog", "/policy", "/stockpile", "/requests/new")


def nav_count(html: str) -> tuple[str, str] | None:
    """The navigation's "Waiting for you" link: its count ("" when it shows none) and its
    text as a screen reader reads it; None when the page has no such link."""
    link = re.search(r'<a href="/dashboard#waiting" id="nav-waiting">(.*?)</a>', html, re.S)
    if link is None:
        return None
    count = re.search(r'id="nav-waiting-count">(\d+)<', link.group(1))
    spoken = " ".join(re.sub(r"<[^>]+>", "", link.group(1)).split())
    return (count.group(1) if count else "", spoken)


def test_every_page_says_how_many_things_wait_for_the_secretary(
    server: Runtime,  # noqa: F811
) -> None:
    secdef = as_user(server, "secdef")
    for path in PAGES:
        page = secdef.client.get(path)
        if path == "/requests/new":  # not the Secretary's: refused, still signed in
            assert page.status_code == 403
            assert nav_count(page.text) == ("", "Waiting for you"), "no count on an error page"
            continue
        assert page.status_code == 200, path
        assert nav_count(page.text) == ("2", "Waiting for you 2 items"), path
    dashboard = secdef.client.get("/dashboard").text
    assert '<strong id="waiting-count">2</strong> items' in dashboard  # the list it links to


@pytest.mark.parametrize(
    ("user", "count"),
    [("us.liaison", "1"), ("ua.liaison", "0"), ("conf.reviewer", "0"), ("auditor", "0")],
)
def test_others_are_shown_their_own_count(
    server: Runtime,  # noqa: F811
    user: str,
    count: str,
) -> None:
    browser = as_user(server, user)
    for path in ("/dashboard", "/cases", "/catalog"):
        shown = nav_count(browser.client.get(path).text)
        assert shown is not None, path
        assert shown[0] == count, (user, path)
    if count == "1":
        assert shown[1] == "Waiting for you 1 item"


def test_no_count_before_signing_in(server: Runtime) -> None:  # noqa: F811
    page = Browser(server).client.get("/sign-in")
    assert page.status_code == 200
    assert nav_count(page.text) is None
    assert "Waiting for you" not in page.text


def test_a_confidential_secretary_never_counts_the_secret_case(
    server: Runtime,  # noqa: F811
) -> None:
    server.accounts.set_access(
        "secdef",
        roles=(Role.REVIEWER,),
        clearance=Level.CONFIDENTIAL,
        actor=ADMIN,
        now=server.now(),
    )
    secdef = as_user(server, "secdef")
    for path in ("/dashboard", "/cases", "/cases/2", "/catalog"):
        page = secdef.client.get(path).text
        assert nav_count(page) == ("1", "Waiting for you 1 item"), path
        assert re.search(r"\bSECRET\b", page.replace("TOP SECRET", "")) is None, path
    assert secdef.client.get("/cases/1").status_code == 404


def test_the_count_follows_what_is_recorded(server: Runtime) -> None:  # noqa: F811
    secdef = as_user(server, "secdef")
    assert nav_count(secdef.client.get("/cases").text) == ("2", "Waiting for you 2 items")
    denied = secdef.post(
        "/cases/1/answer", {"verdict": "deny", "reason": "Not now", "passphrase": DEMO_PASSWORD}
    )
    assert denied.status_code == 303
    assert nav_count(secdef.client.get("/cases").text) == ("1", "Waiting for you 1 item")
    # A request submitted for the Secretary's review waits for them at once.
    liaison = as_user(server, "ua.liaison")
    assert liaison.post("/requests", JUNE_ATACMS).status_code == 303
    assert nav_count(secdef.client.get("/cases").text) == ("2", "Waiting for you 2 items")
