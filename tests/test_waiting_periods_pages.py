"""The case page of a transfer inside its legislative waiting period: it shows the period
and the day it ends, offers no execution, and a posted execution is refused in one line
naming that day (the page's confirmation step rehearses the change's own checks)."""

from __future__ import annotations

from clearance.service.runtime import Runtime

from .test_pages import (  # noqa: F401 (the demo world's fixtures)
    as_user,
    not_recorded,
    seeded,
    server,
)
from .test_waiting_periods_interfaces import _sale


def test_the_case_page_shows_the_period_and_the_refusal(server: Runtime) -> None:  # noqa: F811
    sale, ends = _sale(server.now())
    case, _ = server.cases.submit(sale, actor="us.liaison", now=server.now())
    liaison = as_user(server, "us.liaison")
    page = liaison.client.get(f"/cases/{case.number}").text
    assert "Legislative waiting period" in page
    assert f'<strong id="waiting-ends">{ends}</strong>' in page
    assert 'id="execute-form"' not in page, "execution is not offered inside the period"

    shown = liaison.post(f"/cases/{case.number}/execute", {"quantity": "10"})
    assert shown.status_code == 409
    assert f"before the waiting period ends on {ends}" in not_recorded(shown.text)
    assert server.cases.view(case.id, actor="us.liaison").case.state.value == "approved"


def test_the_request_form_takes_the_value_and_the_preview_shows_the_period(
    server: Runtime,  # noqa: F811
) -> None:
    browser = as_user(server, "us.liaison")
    sale = {
        "action": "transfer",
        "requester": "US",
        "recipient": "UA",
        "system": "eram",
        "quantity": "3350",
        "funding": "european-partners",
        "date": "2025-08-28",
    }
    assert 'id="value_usd"' in browser.client.get("/requests/new").text
    shown = browser.post("/requests/preview", {**sale, "value_usd": "825,000,000"}).text
    assert "waiting period of 30 days ends 2025-09-27" in shown
    assert "preview-waiting" not in browser.post("/requests/preview", sale).text
    bad = browser.post("/requests/preview", {**sale, "value_usd": "-5"}).text
    assert "request field &#39;value_usd&#39;" in bad
    huge = browser.post("/requests/preview", {**sale, "value_usd": "8.25e8"}).text
    assert "request field &#39;value_usd&#39;" in huge
