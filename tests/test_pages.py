"""The web pages over a real SQLite database seeded with the demo story.

Each test signs in as the demo user whose job the page serves and reads the
HTML as a browser would get it: what is shown, to whom, at which level, and
what is refused (no CSRF token: 403; a case above the reader's clearance: 404).
A refusal is checked by what its page says (``refused``: the status and the one line
naming the field or the reason) and by what it left alone: nothing is written.
"""

from __future__ import annotations

import datetime as dt
import html as html_text
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.anchors import Checkpoint
from clearance.service import audit
from clearance.service.anchoring import prepare
from clearance.service.demo import DEMO_PASSWORD, seed_demo
from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from clearance.web.app import create_app

with warnings.catch_warnings():
    # Starlette's test client announces that it will move off httpx; nothing to act on here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

AGO = dt.timedelta(days=45)
"""The demo cases are seeded this long ago, so the two in review are past their due dates
(the Secretary's 20 US working days, whatever holidays the weeks before the run hold)."""

JUNE_ATACMS = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": "2",
    "territory": "RU",
    "date": "2025-06-15",
    "classification": "SECRET",
}


def _open(data_dir: Path) -> Runtime:
    return Runtime(load_settings({"CLEARANCE_DATA_DIR": str(data_dir)}))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo users and cases, seeded once (passwords and keys are slow to make) and copied."""
    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    srv = _open(data_dir)
    prepare(srv.store, srv.settings.system_key, now=srv.now() - AGO)

    def write_key(user: str, pem: bytes) -> None:
        path = srv.key_path(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pem)

    seed_demo(srv.people, srv.accounts, srv.cases, write_key=write_key, now=srv.now() - AGO)
    srv.database.dispose()
    return data_dir


@pytest.fixture
def server(seeded: Path, tmp_path: Path) -> Iterator[Runtime]:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded, data_dir)
    srv = _open(data_dir)
    yield srv
    srv.database.dispose()


class Browser:
    """One user's cookie jar over the app, with the page's CSRF token at hand."""

    def __init__(self, srv: Runtime) -> None:
        self.client = TestClient(create_app(srv), follow_redirects=False)

    def sign_in(self, user: str, password: str = DEMO_PASSWORD) -> Any:
        page = self.client.get("/sign-in")
        assert page.status_code == 200
        return self.client.post(
            "/sign-in",
            data={
                "user": user,
                "password": password,
                "csrf_token": csrf_of(page.text),
                "next": "/dashboard",
            },
        )

    def csrf(self) -> str:
        return csrf_of(self.client.get("/dashboard").text)

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True, **kwargs: Any) -> Any:
        form = {**data, "csrf_token": self.csrf()} if csrf else data
        return self.client.post(path, data=form, **kwargs)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def refused(response: Any, status: int) -> str:
    """The reason an error page gives (``Error 403: <reason>``), once its status is checked."""
    assert response.status_code == status, response.text[:2000]
    found = re.search(
        r'id="error">\s*<p><span class="status-code">Error (\d+):</span> (.*?)</p>',
        response.text,
        re.S,
    )
    assert found, response.text[:2000]
    assert found.group(1) == str(status)
    return html_text.unescape(" ".join(found.group(2).split()))


def not_recorded(html: str) -> str:
    """The one line a refused change shows at the top of the case page."""
    found = re.search(
        r'id="answer-error"[^>]*><p><strong>Not recorded:</strong> (.*?)</p></div>', html, re.S
    )
    assert found, html[:2000]
    return html_text.unescape(found.group(1))


FORGED = "missing or wrong CSRF token; reload the page and try again"
"""What a form posted without the page's CSRF token is told."""


def checkpoints(srv: Runtime) -> int:
    with srv.store.reading() as tx:
        return len(tx.checkpoints.all())


def banners(html: str) -> list[str]:
    return re.findall(r'class="banner__level">([^<]+)<', html)


def says(html: str, words: str) -> bool:
    """Whether ``html`` holds ``words`` whole: "3 events" is not found in "13 events", nor
    "1 event" in "1 events"."""
    return re.search(rf"(?<![\w,.]){re.escape(words)}(?!\w)", html) is not None


def as_user(srv: Runtime, user: str) -> Browser:
    browser = Browser(srv)
    response = browser.sign_in(user)
    assert response.status_code == 303, response.text
    return browser


# signing in ---------------------------------------------------------------------


def test_pages_send_a_visitor_to_sign_in_and_back(server: Runtime) -> None:
    browser = Browser(server)
    response = browser.client.get("/cases/1")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/cases/1"
    assert browser.client.get("/").headers["location"] == "/dashboard"

    page = browser.client.get("/sign-in?next=/cases/1")
    assert 'for="user">User name</label>' in page.text
    assert 'for="password">Password</label>' in page.text
    assert banners(page.text) == ["UNCLASSIFIED", "UNCLASSIFIED"]
    signed = browser.client.post(
        "/sign-in",
        data={
            "user": "us.reviewer",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/cases/1",
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/cases/1"
    assert browser.client.get("/cases/1").status_code == 200
    # Signed in, the sign-in page moves on; another site is never a destination.
    assert browser.client.get("/sign-in?next=//evil.example/").headers["location"] == "/dashboard"


def test_a_wrong_password_is_shown_on_the_form_and_repeated_failures_are_throttled(
    server: Runtime,
) -> None:
    browser = Browser(server)
    wrong = browser.sign_in("ua.liaison", "not the password")
    assert wrong.status_code == 401
    assert "wrong user name or password" in wrong.text
    assert 'value="ua.liaison"' in wrong.text
    for _ in range(4):
        browser.sign_in("ua.liaison", "not the password")
    throttled = browser.sign_in("ua.liaison")
    assert throttled.status_code == 429
    assert "too many failed sign-ins" in throttled.text
    assert browser.client.get("/dashboard").status_code == 303


def test_the_sign_in_form_needs_its_own_csrf_token(server: Runtime) -> None:
    browser = Browser(server)
    browser.client.get("/sign-in")
    expired = "the sign-in form has expired or did not come from this site; reload it and try again"
    wrong = browser.client.post(
        "/sign-in", data={"user": "ua.liaison", "password": DEMO_PASSWORD, "csrf_token": "x" * 43}
    )
    assert refused(wrong, 403) == expired
    missing = browser.client.post(
        "/sign-in", data={"user": "ua.liaison", "password": DEMO_PASSWORD}
    )
    assert refused(missing, 403) == expired
    assert "clearance_session" not in browser.client.cookies
    assert browser.client.get("/dashboard").status_code == 303  # still signed out


def test_sign_out_needs_the_csrf_token_and_ends_the_session(server: Runtime) -> None:
    browser = as_user(server, "us.reviewer")
    assert refused(browser.post("/sign-out", {}, csrf=False), 403) == FORGED
    assert browser.client.get("/dashboard").status_code == 200  # still signed in
    out = browser.post("/sign-out", {})
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in"
    assert browser.client.get("/dashboard").status_code == 303


# every page, for the user it serves -----------------------------------------------


PAGES = [
    ("us.reviewer", "/dashboard", "Oldest unanswered request", "SECRET"),
    ("us.reviewer", "/cases", "3 cases (open cases)", "SECRET"),
    ("us.reviewer", "/cases/1", "us-review-mechanism", "SECRET"),
    ("us.reviewer", "/cases/4", "european-partners", "UNCLASSIFIED"),
    ("ua.liaison", "/requests/new", 'for="classification">Classification</label>', "UNCLASSIFIED"),
    ("ua.liaison", "/catalog", "storm-shadow", "UNCLASSIFIED"),
    ("ua.liaison", "/catalog/storm-shadow", "storm-shadow → targeting-data → US", "UNCLASSIFIED"),
    ("ua.liaison", "/policy", "The review mechanism", "UNCLASSIFIED"),
    ("ua.liaison", "/policy/US", "@gate(&#34;us.secdef&#34;)", "UNCLASSIFIED"),
    ("auditor", "/ledger", "case submitted", "SECRET"),
    ("auditor", "/ledger/verification", "Verified:", "UNCLASSIFIED"),
]


@pytest.mark.parametrize(("user", "path", "shown", "level"), PAGES)
def test_each_page_renders_for_its_user_with_banners_top_and_bottom(
    server: Runtime, user: str, path: str, shown: str, level: str
) -> None:
    page = as_user(server, user).client.get(path)
    assert page.status_code == 200, page.text
    assert shown in page.text
    assert banners(page.text) == [level, level]
    html = page.text
    assert 'href="#main"' in html
    assert '<main id="main"' in html
    assert 'aria-label="Main"' in html
    # The CSP allows no inline script or style: none is written.
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    for form in re.findall(r'<form method="post".*?</form>', html, re.S):
        assert 'name="csrf_token"' in form


def test_pages_a_role_does_not_serve_are_refused(server: Runtime) -> None:
    reviewer = as_user(server, "us.reviewer")
    assert refused(reviewer.client.get("/ledger"), 403) == "this needs the auditor role"
    assert refused(reviewer.client.get("/requests/new"), 403) == "this needs the requester role"
    unknown = refused(reviewer.client.get("/catalog/no-such-system"), 404)
    assert unknown.startswith("unknown system 'no-such-system' (known: atacms, ")
    assert refused(reviewer.client.get("/policy/XX"), 404) == (
        "no bundles for 'XX' (holders: FR, GB, UA, US)"
    )


def test_the_dashboard_shows_state_age_overdue_and_decisions(server: Runtime) -> None:
    page = as_user(server, "us.reviewer").client.get("/dashboard").text
    assert re.search(r'id="oldest-link">Case 1</a>', page)
    assert "UA employs 2 × atacms against a target in RU, 2025-06-15" in page
    assert '<code class="office">us.secdef</code>' in page
    assert "overdue: it was due by the end of" in page
    assert "3 open cases" in page
    assert 'id="overdue-count">2</strong>' in page
    assert '<svg class="chart chart--decisions"' in page
    assert 'role="img"' in page
    assert says(page, "1 approved; 1 approved with conditions; 0 denied")


def test_a_requester_sees_only_their_own_cases(server: Runtime) -> None:
    browser = as_user(server, "us.liaison")
    listing = browser.client.get("/cases?state=all").text
    assert says(listing, "1 case (every state)")
    assert "/cases/4" in listing
    assert "/cases/1" not in listing
    assert browser.client.get("/cases/1").status_code == 404
    assert browser.client.get("/cases/3").status_code == 404
    dashboard = browser.client.get("/dashboard").text
    assert "No request you can see is waiting for an answer." in dashboard
    assert says(dashboard, "0 approved; 1 approved with conditions; 0 denied")


# nobody reads above their clearance -----------------------------------------------


def test_a_confidential_reviewer_sees_no_secret_case_anywhere(server: Runtime) -> None:
    secret_case = server.cases.view("1", actor=ADMIN)
    assert secret_case.case.classification == 2
    browser = as_user(server, "conf.reviewer")

    listing = browser.client.get("/cases?state=all").text
    assert says(listing, "3 cases (every state)")
    assert '/cases/1"' not in listing
    assert '/cases/2"' in listing
    assert "SECRET" not in listing
    assert banners(listing) == ["CONFIDENTIAL", "CONFIDENTIAL"]

    open_cases = browser.client.get("/cases").text
    assert says(open_cases, "2 cases (open cases)")

    search = browser.client.get("/cases?state=all&q=atacms").text
    assert says(search, "1 case matching")
    assert '/cases/3"' in search
    assert "2025-06-15" not in search

    overdue = browser.client.get("/cases?state=overdue").text
    assert says(overdue, "1 case (overdue)")
    assert '/cases/2"' in overdue

    dashboard = browser.client.get("/dashboard").text
    assert "SECRET" not in dashboard
    assert banners(dashboard) == ["CONFIDENTIAL", "CONFIDENTIAL"]
    assert 'id="oldest-link">Case 2</a>' in dashboard
    assert "2 open cases" in dashboard
    assert 'id="overdue-count">1</strong>' in dashboard

    for ref in ("1", secret_case.case.id):
        hidden = browser.client.get(f"/cases/{ref}")
        assert refused(hidden, 404) == f"no case '{ref}'"
        assert "SECRET" not in hidden.text
        assert "atacms" not in hidden.text
        assert banners(hidden.text) == ["UNCLASSIFIED", "UNCLASSIFIED"]
    # Answering it is the same 404, before anything else is looked at.
    answer = browser.post("/cases/1/answer", {"verdict": "deny", "reason": "x", "passphrase": "y"})
    assert refused(answer, 404) == "no case '1'"
    assert server.cases.view("1", actor=ADMIN).case.state == "in_review"


def test_the_ledger_shows_an_auditor_no_event_above_their_clearance(server: Runtime) -> None:
    server.accounts.set_access(
        "auditor",
        roles=(Role.AUDITOR,),
        clearance=Level.CONFIDENTIAL,
        actor="admin",
        now=server.now(),
    )
    browser = as_user(server, "auditor")
    ledger = browser.client.get("/ledger").text
    assert "submitted as SECRET" not in ledger
    assert "submitted as CONFIDENTIAL" in ledger
    assert banners(ledger) == ["CONFIDENTIAL", "CONFIDENTIAL"]
    assert "storm-shadow" in ledger
    assert "atacms against a target in RU, 2025-06-15" not in ledger
    verification = browser.client.get("/ledger/verification", headers={"HX-Request": "true"})
    assert "needs TOP SECRET clearance" in verification.text


# the ledger -----------------------------------------------------------------------


def test_the_ledger_filters_by_case_and_type_and_verifies(server: Runtime) -> None:
    browser = as_user(server, "auditor")
    by_case = browser.client.get("/ledger?case=4").text
    # Submitted, approved with conditions at screening, and the ERAM stock committed.
    assert says(by_case, "3 events")
    assert "US transfers 3350 × eram to UA" in by_case
    assert "stock_moved" in by_case
    # In words, as every event is: never its payload as JSON.
    committed = re.compile(r"US committed 3350 × eram \(still on hand\), \d{4}-\d\d-\d\d<")
    assert committed.search(by_case)
    assert "{&#" not in by_case
    assert committed.search(browser.client.get("/cases/4").text)  # the case's timeline
    by_type = browser.client.get("/ledger?type=holding_granted").text
    assert "secdef holds us.secdef from 2025-01-25" in by_type
    assert says(by_type, "1 event")
    bad_type = refused(browser.client.get("/ledger?type=nonsense"), 400)
    assert bad_type == "type: 'nonsense' is not an event type"
    fragment = browser.client.get("/ledger/verification", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert re.search(r"Verified:</strong> the ledger of \d+ events is whole", fragment.text)
    # The demo world has no checkpoint yet: the witness alone vouches for no event before it.
    assert "No checkpoint held" in fragment.text
    assert browser.post("/ledger/checkpoints", {}).status_code == 303
    fragment = browser.client.get("/ledger/verification", headers={"HX-Request": "true"})
    assert re.search(r"Events up to #\d+ are vouched for by \d+ of the system", fragment.text)


def test_an_auditor_signs_a_checkpoint_and_takes_it_away(server: Runtime) -> None:
    browser = as_user(server, "auditor")
    page = browser.client.get("/ledger").text
    assert "Sign a checkpoint now" in page
    assert server.store.sealer is not None
    assert server.store.sealer.public_key in page  # the key to check it with, on the page
    signed = browser.post("/ledger/checkpoints", {})
    assert signed.status_code == 303
    shown = browser.client.get(signed.headers["location"]).text
    assert re.search(r"Checkpoint signed at event #\d+", shown)
    assert "on demand" in shown
    kept = browser.client.get("/ledger/checkpoint.json")
    assert "attachment" in kept.headers["content-disposition"]
    checkpoint = Checkpoint.from_dict(kept.json())
    assert checkpoint.problem(server.store.sealer.public_key) is None
    signed_before = checkpoints(server)
    assert refused(browser.post("/ledger/checkpoints", {}, csrf=False), 403) == FORGED
    assert checkpoints(server) == signed_before


def test_a_broken_ledger_is_shown_with_every_problem(server: Runtime) -> None:
    with server.database.engine.begin() as connection:
        connection.execute(text("UPDATE users SET clearance = 0 WHERE id = 'secdef'"))
    browser = as_user(server, "auditor")
    fragment = browser.client.get("/ledger/verification", headers={"HX-Request": "true"}).text
    assert "Broken:" in fragment
    assert "users: row secdef has clearance 0, but the ledger says 3" in fragment


# new requests ---------------------------------------------------------------------


def test_the_preview_shows_review_required_and_the_office_for_the_june_atacms_request(
    server: Runtime,
) -> None:
    browser = as_user(server, "ua.liaison")
    fragment = browser.post("/requests/preview", JUNE_ATACMS, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.text
    assert "<html" not in html
    assert re.search(r'id="preview-outcome">review required<', html)
    assert '<code class="office">us.secdef</code> — personally; may not be delegated' in html
    assert "atacms → origin → US" in html
    assert "Approval by us.secdef (personally; may not be delegated) would permit it." in html
    # The form is marked at its chosen level: both banners are swapped out of band.
    assert html.count('hx-swap-oob="true"') == 2
    assert banners(html) == ["SECRET", "SECRET"]

    incomplete = browser.post("/requests/preview", {**JUNE_ATACMS, "territory": ""}).text
    assert "Choose a target territory to see who must consent." in incomplete
    bad = browser.post("/requests/preview", {**JUNE_ATACMS, "date": "2025-02-30"}).text
    assert "request field &#39;date&#39;" in bad
    transfer = browser.post(
        "/requests/preview",
        {
            "action": "transfer",
            "requester": "US",
            "recipient": "UA",
            "system": "eram",
            "quantity": "3350",
            "funding": "european-partners",
            "date": "2025-08-28",
            "classification": "UNCLASSIFIED",
        },
    ).text
    assert 'id="preview-outcome">permitted<' in transfer
    assert 'id="preview-conditions">European partners fund the purchase<' in transfer
    assert refused(browser.post("/requests/preview", JUNE_ATACMS, csrf=False), 403) == FORGED


def test_submitting_a_request_creates_the_case_and_shows_it(server: Runtime) -> None:
    browser = as_user(server, "ua.liaison")
    form = browser.client.get("/requests/new").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    data = {**JUNE_ATACMS, "idempotency_key": key.group(1)}
    created = browser.post("/requests", data)
    assert created.status_code == 303
    assert created.headers["location"] == "/cases/5"
    again = browser.post("/requests", data)  # a double click makes no second case
    assert again.headers["location"] == "/cases/5"
    page = browser.client.get("/cases/5").text
    assert "The request was submitted and screened." in page
    assert banners(page) == ["SECRET", "SECRET"]
    assert server.cases.view("5", actor=ADMIN).case.submitted_by == "ua.liaison"

    too_high = browser.post("/requests", {**JUNE_ATACMS, "classification": "TOP SECRET"})
    assert too_high.status_code == 403
    assert "cannot submit a TOP SECRET case" in too_high.text
    not_mine = browser.post("/requests", {**JUNE_ATACMS, "requester": "US"})
    assert not_mine.status_code == 403
    assert "cannot submit a request of US" in not_mine.text
    bad = browser.post("/requests", {**JUNE_ATACMS, "quantity": "0"})
    assert bad.status_code == 422
    assert re.search(
        r'id="request-error"><p><strong>Not submitted:</strong> request field &#39;quantity&#39;:'
        r" input should be greater than or equal to 1</p>",
        bad.text,
    )
    assert re.search(r'<input id="quantity"[^>]*aria-invalid="true"', bad.text)
    assert refused(browser.post("/requests", JUNE_ATACMS, csrf=False), 403) == FORGED
    assert server.cases.page(actor=ADMIN, states=None, limit=50, offset=0)[1] == 5


# answering ------------------------------------------------------------------------


def test_secdef_denies_from_the_case_page_with_a_reason_and_a_signature(server: Runtime) -> None:
    browser = as_user(server, "secdef")
    page = browser.client.get("/cases/1").text
    assert '<label for="reason">Reason</label>' in page
    assert '<label for="passphrase">Signing-key passphrase</label>' in page
    assert 'id="deny">Deny</button>' in page
    assert 'id="approve">Approve</button>' in page

    forged = browser.post(
        "/cases/1/answer",
        {"verdict": "deny", "reason": "Escalation risk", "passphrase": DEMO_PASSWORD},
        csrf=False,
    )
    assert refused(forged, 403) == FORGED
    assert server.cases.view("1", actor=ADMIN).case.state == "in_review"
    wrong_key = browser.post(
        "/cases/1/answer",
        {"verdict": "deny", "reason": "Escalation risk", "passphrase": "not my passphrase"},
    )
    assert wrong_key.status_code == 403
    assert not_recorded(wrong_key.text) == (
        "the key cannot be unlocked: wrong passphrase or damaged key file"
    )
    assert "Escalation risk</textarea>" in wrong_key.text  # what was typed is kept
    no_reason = browser.post(
        "/cases/1/answer", {"verdict": "deny", "reason": " ", "passphrase": DEMO_PASSWORD}
    )
    assert no_reason.status_code == 400
    assert not_recorded(no_reason.text) == "reason: a denial needs a reason"
    assert server.cases.view("1", actor=ADMIN).case.state == "in_review"

    denied = browser.post(
        "/cases/1/answer",
        {"verdict": "deny", "reason": "Escalation risk", "passphrase": DEMO_PASSWORD},
    )
    assert denied.status_code == 303
    assert denied.headers["location"] == "/cases/1"
    view = server.cases.view("1", actor=ADMIN)
    assert view.case.state == "denied"
    (answer,) = view.approvals
    assert (answer.authority, answer.verdict, answer.actor) == ("us.secdef", "deny", "secdef")
    assert answer.reason == "Escalation risk"
    shown = browser.client.get("/cases/1").text
    assert "Your denial was signed and recorded." in shown
    assert "Reason: “Escalation risk”" in shown
    assert '<span class="sig sig--ok">verifies</span>' in shown
    assert 'id="answer-form"' not in shown
    assert audit.verify(server.store, workers=1).ok


def test_only_the_office_holder_gets_the_answer_form(server: Runtime) -> None:
    reviewer = as_user(server, "us.reviewer")
    page = reviewer.client.get("/cases/1").text
    assert 'id="answer-form"' not in page
    assert "Only the holder of the office can answer." in page
    answer = reviewer.post(
        "/cases/1/answer", {"verdict": "approve", "reason": "", "passphrase": DEMO_PASSWORD}
    )
    assert answer.status_code == 403
    assert (
        not_recorded(answer.text) == "us.reviewer does not hold us.secdef and is not its delegate"
    )
    view = server.cases.view("1", actor=ADMIN)
    assert (view.case.state, view.approvals) == ("in_review", ())


def test_text_with_a_nul_character_is_refused_before_it_reaches_the_database(
    server: Runtime,
) -> None:
    browser = as_user(server, "auditor")
    nul = "request: text may not contain a NUL character"
    assert refused(browser.client.get("/ledger?case=1%00"), 400) == nul
    assert refused(browser.client.get("/cases/1%00"), 400) == nul
    secdef = as_user(server, "secdef")
    answer = secdef.post(
        "/cases/1/answer", {"verdict": "deny", "reason": "a\x00b", "passphrase": DEMO_PASSWORD}
    )
    assert refused(answer, 400) == nul
    assert server.cases.view("1", actor=ADMIN).case.state == "in_review"


def test_the_api_reference_lists_every_route_without_script(server: Runtime) -> None:
    app = create_app(server)
    answer = TestClient(app).get("/docs")
    assert answer.status_code == 200
    body = answer.text.split("</head>", 1)[1]
    assert "<script" not in body
    for path, methods in app.openapi()["paths"].items():
        for method in methods:
            assert f"<code>{method.upper()}</code>" in body
            assert f"<code>{path}</code>" in body
