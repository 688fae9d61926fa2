"""The web pages in a real browser: Debian's Chromium driven by Playwright.

A real ``clearance serve --demo`` runs on a free loopback port with its own
data folder (SQLite); the browser signs in as the demo users and clicks
through the seed story. A screenshot of each page visited is kept in
``test-artifacts/screenshots/`` (or ``$CLEARANCE_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.parallel_support import serving_port
from tests.test_proposals import candidate

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "clearance-demo"
ARTIFACTS = Path(
    os.environ.get("CLEARANCE_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts")
)


@contextmanager
def _served(data: Path) -> Iterator[str]:
    """A ``clearance serve --demo`` over the data folder ``data``, and its address."""
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CLEARANCE_DATA_DIR": str(data)}
    for name in ("CLEARANCE_DATABASE_URL", "CLEARANCE_TEST_ARTIFACTS"):  # not server settings
        env.pop(name, None)
    log = (data / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "clearance", "serve", "--demo", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        url = f"http://127.0.0.1:{serving_port(server, data / 'server.log')}"
        with urllib.request.urlopen(f"{url}/ready", timeout=10) as answer:
            assert answer.status == 200, "the demo server is not ready"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def served_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of the module's demo server, for commands run beside it."""
    return tmp_path_factory.mktemp("browser-data")


@pytest.fixture(scope="module")
def base_url(served_data: Path) -> Iterator[str]:
    """The demo served for the module's tests, which leave each other's cases alone."""
    with _served(served_data) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed (apt-get install chromium); make test installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


def sign_in(context: BrowserContext, user: str) -> Page:
    """A new page of ``context``, signed in as the demo user ``user``."""
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


@contextmanager
def _pages(browser: Browser, base_url: str) -> Iterator[Callable[[str], Page]]:
    contexts = []

    def open_as(user: str) -> Page:
        context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 800})
        contexts.append(context)
        return sign_in(context, user)

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[[str], Page]]:
    with _pages(browser, base_url) as open_as:
        yield open_as


@pytest.fixture
def new_page_alone(browser: Browser, tmp_path: Path) -> Iterator[Callable[[str], Page]]:
    """Pages of a demo served for this test alone: for a change every other test would see
    (an activation judges the approved cases again, and suspends case 3), whatever order
    the tests run in."""
    with _served(tmp_path / "data") as url, _pages(browser, url) as open_as:
        yield open_as


def shot(page: Page, name: str, folder: Path = ARTIFACTS / "screenshots") -> None:
    """Keep the whole page's screenshot in ``test-artifacts/`` for people to look at
    (docs/testing.md). Chromium on a loaded machine now and then cannot capture one
    ("Unable to capture screenshot"), which says nothing of the page: it is taken again
    once, and a second failure fails the test."""
    folder.mkdir(parents=True, exist_ok=True)
    path = str(folder / f"{name}.png")
    try:
        page.screenshot(path=path, full_page=True)
    except PlaywrightError:
        page.screenshot(path=path, full_page=True)


def test_a_request_is_submitted_denied_personally_and_recorded(
    new_page: Callable[[str], Page],
) -> None:
    requester = new_page("ua.liaison")
    shot(requester, "dashboard-requester")
    requester.goto("/requests/new")
    requester.get_by_label("Employ (use against a target)").check()
    requester.get_by_label("Requester").select_option("UA")
    requester.get_by_label("System").select_option("atacms")
    requester.get_by_label("Quantity").fill("2")
    requester.get_by_label("Target territory").select_option("RU")
    requester.get_by_label("Date").fill("2025-06-15")
    requester.get_by_label("Classification").select_option("SECRET")
    preview = requester.locator("#preview")
    expect(preview).to_contain_text("review required")
    expect(preview).to_contain_text("us.secdef")
    shot(requester, "new-request-preview")
    requester.get_by_role("button", name="Submit request").click()
    expect(requester).to_have_url(re.compile(r"/cases/\d+"))
    expect(requester.locator("main")).to_contain_text("review required")
    expect(requester.locator("main")).to_contain_text("us.secdef")
    case_url = requester.url
    shot(requester, "case-requester")

    secdef = new_page("secdef")
    secdef.goto(case_url)
    secdef.get_by_label("Reason").fill("Risk of escalation outweighs the gain")
    secdef.get_by_label("Signing-key passphrase").fill(PASSWORD)
    secdef.get_by_role("button", name="Deny").click()
    main = secdef.locator("main")
    expect(main).to_contain_text("denied")
    expect(main).to_contain_text("Risk of escalation outweighs the gain")
    shot(secdef, "case-denied")

    auditor = new_page("auditor")
    auditor.goto("/ledger?type=approval_denied")
    expect(auditor.locator("main")).to_contain_text("approval denied")
    expect(auditor.locator("main")).to_contain_text("secdef")
    shot(auditor, "ledger")


def test_a_target_region_is_checked_on_the_form_and_shown_with_its_case(
    new_page: Callable[[str], Page],
) -> None:
    """GMLRS in Kursk region on the day the June 2024 permission widened to it."""
    requester = new_page("ua.liaison")
    requester.goto("/requests/new")
    requester.get_by_label("System").select_option("gmlrs")
    requester.get_by_label("Target territory").select_option("RU")
    requester.get_by_label("Date").fill("2024-06-20")
    requester.get_by_label("Target region").fill("UA-43")
    requester.get_by_role("button", name="Submit request").click()
    alert = requester.locator("main [role=alert]").first
    expect(alert).to_contain_text("'UA-43' is in UA, not in the target's territory RU")
    expect(requester.get_by_label("Target region")).to_have_attribute("aria-invalid", "true")
    requester.get_by_label("Target region").fill("RU-KRS")
    expect(requester.locator("#preview")).to_contain_text("permitted")
    requester.get_by_role("button", name="Submit request").click()
    expect(requester).to_have_url(re.compile(r"/cases/\d+"))
    main = requester.locator("main")
    expect(main).to_contain_text("region RU-KRS")
    expect(main).to_contain_text("Kurskaya oblast")
    expect(main).to_contain_text("US/us-cross-border-fire")
    shot(requester, "case-with-region")


def test_a_confidential_reader_sees_no_secret_case_anywhere(
    new_page: Callable[[str], Page],
) -> None:
    reviewer = new_page("us.reviewer")
    reviewer.goto("/cases?all=1")
    secret_links = reviewer.locator("tr", has_text="SECRET").locator("a")
    secret_case = secret_links.first.get_attribute("href")
    assert secret_case, "the TOP SECRET reviewer should see the demo's SECRET case"

    confidential = new_page("conf.reviewer")
    for path in ("/dashboard", "/cases?all=1", "/cases?all=1&q=atacms", "/ledger"):
        confidential.goto(path)
        text = confidential.locator("main").inner_text()
        assert re.search(r"\bSECRET\b", text.replace("TOP SECRET", "")) is None, path
        shot(confidential, f"confidential{path.replace('/', '-').replace('?', '-')}")
    response = confidential.goto(secret_case)
    assert response is not None
    assert response.status == 404
    shot(confidential, "confidential-direct-url")


def test_a_reviewer_finds_the_red_tile_first_and_projects_a_transfer(
    new_page: Callable[[str], Page],
) -> None:
    reviewer = new_page("us.reviewer")
    refused: list[str] = []
    reviewer.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    reviewer.get_by_role("navigation", name="Main").get_by_role("link", name="Stockpile").click()
    first = reviewer.locator("#board .tile").first
    expect(first).to_contain_text("RED")
    expect(first).to_contain_text("below requirement")
    expect(first).to_contain_text("interceptor")
    shot(reviewer, "stockpile-board")

    reviewer.locator("#board").get_by_role("link", name=re.compile(r"^US ATACMS")).click()
    expect(reviewer).to_have_url(re.compile(r"/stockpile/US/atacms$"))
    reviewer.get_by_label("Transfer quantity").fill("301")
    reviewer.locator("#project").click()
    expect(reviewer.locator("#rating-after")).to_contain_text("RED")
    expect(reviewer.locator("#rating-after")).to_contain_text("below requirement")
    expect(reviewer.locator("#recovery")).to_have_text("green again in 8 months")
    chart = reviewer.locator("#projection svg")
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("transfer of 301")
    expect(reviewer).to_have_url(re.compile(r"transfer=301"))
    shot(reviewer, "stockpile-projection")
    assert refused == [], refused


def test_an_approval_of_december_2024_executed_today_is_suspended_for_the_secretary(
    new_page: Callable[[str], Page],
) -> None:
    """Case 3, a strike approved for December 2024, executed today under the review
    mechanism: the page refuses the draw in one line naming us.secdef and shows the case
    suspended, with why; the Secretary approves it on its page, and a part of it is then
    recorded as used. (The policy test below activates a bundle on a demo of its own: an
    activation judges approved cases again, and would suspend this one itself.)"""
    liaison = new_page("ua.liaison")
    liaison.goto("/cases/3")
    expect(liaison.locator("#case-state")).to_contain_text("approved")
    liaison.get_by_label("Quantity used").fill("1")
    liaison.get_by_role("button", name="Record as executed…").click()
    liaison.get_by_role("button", name="Record as executed", exact=True).click()
    error = liaison.locator("#answer-error")
    expect(error).to_contain_text("case 3 was not executed")
    expect(error).to_contain_text("us.secdef")
    expect(liaison.locator("#case-state")).to_contain_text("suspended")
    expect(liaison.locator("#suspension")).to_contain_text("it waits for us.secdef to approve")
    expect(liaison.locator("#execute-form")).to_have_count(0)
    expect(liaison.locator("#answer-note")).to_contain_text("us.secdef")
    shot(liaison, "case-suspended")

    secdef = new_page("secdef")
    secdef.goto("/cases/3")
    secdef.get_by_label("Reason").fill("Reviewed under the mechanism")
    secdef.get_by_label("Signing-key passphrase").fill(PASSWORD)
    secdef.get_by_role("button", name="Approve").click()
    expect(secdef.locator("#case-state")).to_contain_text("approved")

    liaison.goto("/cases/3")
    liaison.get_by_label("Quantity used").fill("1")
    liaison.get_by_role("button", name="Record as executed…").click()
    liaison.get_by_role("button", name="Record as executed", exact=True).click()
    expect(liaison.locator("#done")).to_contain_text("may still be drawn")
    expect(liaison.locator("#case-state")).to_contain_text("partly executed")
    expect(liaison.locator("#timeline")).to_contain_text("executed 1: 1 of the approved 2 drawn")


def test_a_bundle_is_uploaded_tested_and_activated_by_the_secretary_of_defense(
    new_page_alone: Callable[[str], Page],
) -> None:
    """The policy lifecycle by hand: the files chosen in the form, the golden cases and the
    replay shown, the Activate form for the office holder only, signed with the passphrase.
    On a demo of its own, since the activation changes what the other tests read."""
    new_page = new_page_alone
    texts = candidate("2099-01-01", "Strikes inside Russia authorised from 2099")
    author = new_page("us.liaison")
    refused: list[str] = []
    author.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    author.get_by_role("navigation", name="Main").get_by_role("link", name="Policy").click()
    author.get_by_role("link", name="policy proposals").click()
    expect(author).to_have_url(re.compile(r"/policy/proposals$"))
    author.get_by_label("Bundle files").set_input_files(
        [
            FilePayload(name=name, mimeType="text/plain", buffer=text.encode())
            for name, text in texts.items()
        ]
    )
    shot(author, "proposal-upload")
    author.get_by_role("button", name="Propose").click()
    expect(author).to_have_url(re.compile(r"/policy/proposals/\d+$"))
    expect(author.locator("#golden")).to_contain_text("0 fail")
    # The liaison sees only the case they submitted: their ERAM transfer, which the old text
    # of the bundle does not permit.
    replay = author.locator("#replay-table")
    expect(replay).to_contain_text("permitted prohibited")
    expect(replay).to_contain_text("no policy of US permits this request")
    expect(author.locator("#replay-chart svg")).to_be_visible()
    expect(author.locator("#activate-form")).to_have_count(0)
    proposal_url = author.url
    shot(author, "proposal-proposed")

    secdef = new_page("secdef")
    secdef.goto(proposal_url)
    expect(secdef.locator("#replay-table")).to_contain_text("US/us-strikes-in-russia-authorised")
    expect(secdef.locator("#open-cases")).to_contain_text("review required permitted")
    shot(secdef, "proposal-impact")
    secdef.get_by_label("Signing-key passphrase").fill(PASSWORD)
    secdef.get_by_role("button", name="Activate").click()
    expect(secdef.locator("#activated")).to_contain_text("Activated. Signed by secdef")
    expect(secdef.locator("#proposal-state")).to_have_text("activated")
    expect(secdef.locator("#activate-form")).to_have_count(0)
    shot(secdef, "proposal-activated")
    assert refused == [], refused


def test_a_requester_withdraws_a_case_after_confirming(
    new_page: Callable[[str], Page],
) -> None:
    """The Ukrainian liaison takes back the Storm Shadow request of June 2025: the form asks
    for a reason, a page of its own asks to confirm, and only then is it recorded."""
    requester = new_page("ua.liaison")
    requester.goto("/cases?q=storm")
    requester.locator("#cases-table tr", has_text="storm-shadow").get_by_role("link").click()
    expect(requester.locator("#case-state")).to_contain_text("in review")
    number = requester.locator("#case-number").inner_text().removeprefix("Case ")
    requester.get_by_label("Reason for withdrawing").fill("The target is no longer relevant")
    requester.get_by_role("button", name="Withdraw…").click()
    expect(requester.locator("h1")).to_have_text(f"Withdraw case {number}?")
    expect(requester.locator("#confirm-reason")).to_have_text("The target is no longer relevant")
    shot(requester, "case-withdraw-confirm")
    requester.get_by_role("button", name=f"Withdraw case {number}").click()
    expect(requester).to_have_url(re.compile(rf"/cases/{number}$"))
    expect(requester.locator("#done")).to_contain_text("The case was withdrawn")
    expect(requester.locator("#case-state")).to_contain_text("withdrawn")
    expect(requester.locator("#timeline")).to_contain_text("The target is no longer relevant")
    expect(requester.locator("#withdraw-form")).to_have_count(0)
    expect(requester.locator("#what-would-change-it")).to_have_count(0)
    expect(requester.locator("main")).to_contain_text("What would have changed it")
    shot(requester, "case-withdrawn")


def test_the_eram_sale_is_cleared_by_its_funding_and_executed(
    new_page: Callable[[str], Page],
) -> None:
    """The sale of 3,350 ERAM, approved on the condition that European partners pay: the US
    liaison finds it waiting for them, records the funding as met (the case is cleared),
    then records the delivery; each step confirmed first."""
    liaison = new_page("us.liaison")
    waiting = liaison.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Waiting for you 1 item"
    )
    expect(waiting).to_be_visible()
    waiting.click()
    liaison.locator("#waiting-list").get_by_role("link", name=re.compile(r"^Case \d+$")).click()
    main = liaison.locator("main")
    expect(main.locator("h1")).to_contain_text("US transfers 3350 × eram to UA")
    expect(liaison.locator("#case-state")).to_contain_text("approved with conditions")
    expect(liaison.locator("#execute-form")).to_have_count(0)

    liaison.get_by_label("Evidence that it is met").fill(
        "Funding agreement EU-ERAM-2025-08 signed by the European partners"
    )
    liaison.get_by_role("button", name="Record as met…").click()
    expect(liaison.locator("#confirm-condition")).to_have_text(
        "European partners fund the purchase"
    )
    expect(liaison.locator("#confirm")).to_contain_text("it is the last condition")
    shot(liaison, "case-condition-confirm")
    liaison.get_by_role("button", name="Record as met", exact=True).click()
    expect(liaison.locator("#done")).to_contain_text("The condition was recorded as met")
    expect(liaison.locator("#case-state")).to_contain_text("cleared")
    expect(liaison.locator("#conditions")).to_contain_text("Funding agreement EU-ERAM-2025-08")
    expect(
        liaison.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Waiting for you 0 items"
        )
    ).to_be_visible()
    shot(liaison, "case-cleared")

    quantity = liaison.get_by_label("Quantity delivered")
    expect(quantity).to_have_value("3350")
    quantity.fill("3350")
    liaison.get_by_role("button", name="Record as executed…").click()
    expect(liaison.locator("#confirm-quantity")).to_have_text("3,350 of the 3,350 approved")
    shot(liaison, "case-execute-confirm")
    liaison.get_by_role("button", name="Record as executed", exact=True).click()
    expect(liaison.locator("#done")).to_contain_text("The execution was recorded")
    expect(liaison.locator("#case-state")).to_contain_text("executed")
    expect(liaison.locator("#timeline")).to_contain_text("executed: 3350 of 3350")
    expect(liaison.locator("#execute-form")).to_have_count(0)
    shot(liaison, "case-executed")
