"""Every page of the web app, as a requester, an approver and an auditor see it, in a real browser.

Each visit keeps a full-page screenshot, named by role and page, in
``test-artifacts/screenshots/pages/`` (or ``$CLEARANCE_TEST_ARTIFACTS``), so a
person can look at every page of a CI run without running it; and each runs
axe-core (the ``axe-playwright-python`` package bundles it) in the same
Chromium, failing on any violation of impact serious or critical. The auditor
visits them all again at a phone's width, where no page may scroll sideways. The visit
list is checked against the application's own routes: a new page that no one
visits fails ``test_every_page_route_is_visited``.

The server, the browser and one signed-in context per role are shared by the
module (the server and browser fixtures are those of test_browser), so the
whole file runs as one demo world: a proposal is uploaded once, first, for the
proposal pages to show.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.routing import APIRoute, iter_route_contexts
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    ViewportSize,
    expect,
)

from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from clearance.web.app import create_app
from tests.test_browser import (  # noqa: F401 (the real server and browser, one per module)
    ARTIFACTS,
    base_url,
    browser,
    served_data,
    shot,
    sign_in,
)
from tests.test_proposals import candidate
from tests.test_waiting_periods_interfaces import _sale

pytestmark = pytest.mark.slow

ROLES = {"requester": "ua.liaison", "approver": "secdef", "auditor": "auditor"}
# The administrator too, for the one page that is theirs alone (deliveries that failed).
USERS = {**ROLES, "admin": "admin.user"}
DESKTOP: ViewportSize = {"width": 1366, "height": 800}
# The auditor visits every page again at a phone's width, where the page must not scroll
# sideways and a wide table that does must be reachable by keyboard: of the three roles, the
# auditor sees the most tables (the ledger, the report of waiting).
PHONE: ViewportSize = {"width": 390, "height": 844}
ON_A_PHONE = "auditor"
BLOCKING = {"serious", "critical"}
# Moderate in axe, but held here too: everything on a page is within a landmark (the
# classification banners are named regions), so nothing is skipped by landmark navigation.
ALSO_BLOCKING = {"region"}
SHOTS = ARTIFACTS / "screenshots" / "pages"
AXE = Axe()


def preview_a_strike(page: Page) -> None:
    """The form as a requester fills it: the screening beside it answers before submitting."""
    page.get_by_label("System").select_option("atacms")
    page.get_by_label("Quantity").fill("2")
    page.get_by_label("Target territory").select_option("RU")
    page.get_by_label("Date").fill("2025-06-15")
    expect(page.locator("#preview")).to_contain_text("us.secdef")


def submit_a_region_of_another_territory(page: Page) -> None:
    """Refused on the form: the field in error is marked and named in the alert."""
    page.get_by_label("System").select_option("gmlrs")
    page.get_by_label("Target territory").select_option("RU")
    page.get_by_label("Date").fill("2024-06-20")
    page.get_by_label("Target region").fill("UA-43")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_label("Target region")).to_have_attribute("aria-invalid", "true")


def deny_without_a_reason(page: Page) -> None:
    """Refused, so nothing is recorded: the error is shown above the answer form."""
    page.get_by_label("Signing-key passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Deny").click()
    expect(page.locator("#answer-error")).to_contain_text("Not recorded")


def ask_to_withdraw(page: Page) -> None:
    """The page that asks to confirm; the test goes no further, so nothing is withdrawn."""
    page.get_by_label("Reason for withdrawing").fill("The target is no longer relevant")
    page.get_by_role("button", name="Withdraw…").click()
    expect(page.locator("h1")).to_have_text("Withdraw case 2?")


def offer_the_waiver(page: Page) -> None:
    """The form the office the policy names sees inside a transfer's waiting period."""
    expect(page.locator("#waiver-form")).to_be_visible()


def verify_the_chain(page: Page) -> None:
    expect(page.locator("#verification-status")).to_contain_text("Verified")


def project_a_transfer(page: Page) -> None:
    """The projection drawn: a transfer that takes the position below its requirement."""
    expect(page.locator("#rating-after")).to_contain_text("RED")
    expect(page.locator("#projection svg")).to_be_visible()


def refuse_a_password(page: Page) -> None:
    page.get_by_label("User name").fill("ua.liaison")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[role=alert]")).to_be_visible()


@dataclass(frozen=True)
class Visit:
    """One page as a person reaches it: the route it is served by, a name for its screenshot,
    the address (``{proposal}`` is the number of the proposal the module uploads, ``{sale}``
    the case of its sale inside a waiting period), the roles
    who visit it, those of them who are refused it (shown an error page instead), and what
    they do on it before it is looked at."""

    route: str
    name: str
    url: str
    roles: tuple[str, ...] = tuple(ROLES)
    act: Callable[[Page], None] | None = None
    refused: tuple[str, ...] = ()


NOT_AUDITORS = ("requester", "approver")
SIGNED_IN = (
    Visit("/", "home", "/"),
    Visit("/dashboard", "dashboard-and-inbox", "/dashboard"),
    Visit("/cases", "cases", "/cases?all=1"),
    Visit("/cases", "cases-search", "/cases?all=1&q=atacms"),
    Visit("/cases/{ref}", "case-waiting", "/cases/1"),
    Visit("/cases/{ref}", "case-approved", "/cases/3"),
    Visit("/cases/{ref}", "case-answer-refused", "/cases/1", ("approver",), deny_without_a_reason),
    Visit("/cases/{ref}", "case-withdraw-confirm", "/cases/2", ("requester",), ask_to_withdraw),
    Visit("/cases/{ref}", "case-waiver", "/cases/{sale}", ("approver",), offer_the_waiver),
    Visit("/cases/{ref}", "case-not-found", "/cases/99999", refused=tuple(ROLES)),
    Visit("/requests/new", "request-preview", "/requests/new", ("requester",), preview_a_strike),
    Visit(
        "/requests/new",
        "request-error",
        "/requests/new",
        ("requester",),
        submit_a_region_of_another_territory,
    ),
    Visit(
        "/requests/new",
        "request-refused",
        "/requests/new",
        ("approver", "auditor"),
        refused=("approver", "auditor"),
    ),
    Visit("/catalog", "catalog", "/catalog"),
    Visit("/catalog/{system}", "catalog-system", "/catalog/storm-shadow"),
    Visit("/policy", "policy", "/policy"),
    Visit("/policy/{holder}", "policy-holder", "/policy/US"),
    Visit("/policy/proposals", "proposals", "/policy/proposals"),
    Visit(  # a proposal of the US, which Ukraine's liaison does not see
        "/policy/proposals/{number}",
        "proposal",
        "/policy/proposals/{proposal}",
        refused=("requester",),
    ),
    Visit("/ledger", "ledger-verified", "/ledger", ("auditor",), verify_the_chain),
    Visit("/ledger", "ledger-refused", "/ledger", ("requester", "approver"), refused=NOT_AUDITORS),
    Visit(
        "/ledger/verification",
        "ledger-verification",
        "/ledger/verification",
        refused=NOT_AUDITORS,
    ),
    Visit("/stockpile", "stockpile", "/stockpile"),
    Visit(
        "/stockpile/{holder}/{system}",
        "stockpile-position",
        "/stockpile/UA/atacms?transfer=30",
        act=project_a_transfer,
    ),
    Visit("/reports/waiting", "report-waiting", "/reports/waiting", refused=NOT_AUDITORS),
    Visit("/notifications", "notifications", "/notifications"),
    Visit(
        "/notifications/dead",
        "notifications-dead",
        "/notifications/dead",
        tuple(USERS),
        refused=tuple(ROLES),
    ),
    Visit("/docs", "api-docs", "/docs"),
)
SIGNED_OUT = (
    Visit("/sign-in", "sign-in", "/sign-in", ("visitor",)),
    Visit("/sign-in", "sign-in-refused", "/sign-in", ("visitor",), refuse_a_password),
)
# GET routes outside the schema that are not pages a person reads.
NOT_PAGES = {"/ledger/checkpoint.json": "the latest checkpoint, a JSON file to keep"}


def _visits() -> Iterator[Any]:
    for visit in (*SIGNED_IN, *SIGNED_OUT):
        for role in visit.roles:
            yield pytest.param(role, visit, id=f"{role}-{visit.name}")
            if role == ON_A_PHONE:
                yield pytest.param(f"{role}-phone", visit, id=f"{role}-phone-{visit.name}")


def page_routes(app: Any) -> set[str]:
    """The app's HTML pages: its GET routes left out of the OpenAPI schema (the API is in it)."""
    return {
        context.path
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and "GET" in (context.methods or ())
        and not context.original_route.include_in_schema
    }


def test_every_page_route_is_visited(tmp_path: Path) -> None:
    app = create_app(Runtime(load_settings({"CLEARANCE_DATA_DIR": str(tmp_path)})))
    served = page_routes(app)
    visited = {visit.route for visit in (*SIGNED_IN, *SIGNED_OUT)} | set(NOT_PAGES)
    assert "/cases/{ref}" in served  # the routes are read, not an empty set
    assert sorted(served - visited) == [], "pages no test visits: add them to SIGNED_IN"
    assert sorted(visited - served) == [], "visits of routes the app no longer serves"


@pytest.fixture(scope="module")
def pages(browser: Browser, base_url: str) -> Iterator[dict[str, Page]]:  # noqa: F811
    """One page per role (and the administrator), signed in once, the auditor's again on a
    phone, and one for a visitor who is not signed in."""
    contexts = []

    def context(viewport: ViewportSize = DESKTOP) -> BrowserContext:
        made = browser.new_context(base_url=base_url, viewport=viewport)
        contexts.append(made)
        return made

    signed = {role: sign_in(context(), user) for role, user in USERS.items()}
    phone = {f"{ON_A_PHONE}-phone": sign_in(context(PHONE), ROLES[ON_A_PHONE])}
    yield {**signed, **phone, "visitor": context().new_page()}
    for made in contexts:
        made.close()


@pytest.fixture(scope="module")
def proposal(browser: Browser, base_url: str) -> str:  # noqa: F811
    """A US proposal uploaded by the US liaison, for the proposal pages to show."""
    context = browser.new_context(base_url=base_url)
    page = sign_in(context, "us.liaison")
    page.goto("/policy/proposals")
    texts = candidate("2099-01-01", "Strikes inside Russia authorised from 2099")
    page.get_by_label("Bundle files").set_input_files(
        [FilePayload(name=n, mimeType="text/plain", buffer=t.encode()) for n, t in texts.items()]
    )
    page.get_by_role("button", name="Propose").click()
    expect(page).to_have_url(re.compile(r"/policy/proposals/\d+$"))
    number = page.url.rsplit("/", 1)[1]
    context.close()
    return number


@pytest.fixture(scope="module")
def waiting_sale(base_url: str, served_data: Path) -> str:  # noqa: F811
    """A US sale dated today, inside its legislative waiting period, and the approver made
    the office that may waive it (us.president), as an administrator does it on the server:
    the waiver form is then on the case's page."""
    env = {**os.environ, "CLEARANCE_DATA_DIR": str(served_data)}
    env.pop("CLEARANCE_DATABASE_URL", None)
    command = Path(sys.executable).parent / "clearance"
    sale = served_data / "sale.json"
    sale.write_text(json.dumps(_sale(dt.datetime.now(dt.UTC))[0]))

    def run(*args: str) -> str:
        return subprocess.run(
            [str(command), *args], env=env, capture_output=True, text=True, check=True
        ).stdout

    run("users", "grant", ROLES["approver"], "us.president", "--from", "2025-01-20")
    return str(
        json.loads(run("cases", "submit", str(sale), "--as", "us.liaison", "--json"))["number"]
    )


def blocking(results: dict[str, Any], where: str) -> list[str]:
    """Axe's serious and critical violations, one line for each element: the rule, its impact,
    the element's selector, the page, and what axe found wrong (a contrast's ratio and colours)."""
    return [
        f"{violation['id']} ({violation['impact']}) {' '.join(map(str, node['target']))}"
        f" on {where}: {' '.join(node.get('failureSummary', violation['help']).split())}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING or violation["id"] in ALSO_BLOCKING
        for node in violation["nodes"]
    ]


def look_at(page: Page, role: str, name: str, url: str, visit: Visit | None) -> None:
    """Open the page as a person would (an error page if refused), keep its screenshot, and run
    axe on it, with every ``<details>`` opened (axe passes over what is hidden)."""
    answer = page.goto(url)
    assert answer is not None
    assert answer.headers["content-type"].startswith("text/html"), url
    refused = visit is None or role.removesuffix("-phone") in visit.refused
    assert (answer.status >= 400) == refused, f"{url} as the {role}: {answer.status}"
    act = visit.act if visit is not None else None
    if act is not None:
        act(page)
    shot(page, f"{role}-{name}", SHOTS)
    if page.viewport_size == PHONE:  # reflow (WCAG 1.4.10): only a wide table may scroll
        wider = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert wider <= 0, f"{url} as the {role} scrolls sideways by {wider} pixels"
    page.eval_on_selector_all("details", "all => all.forEach(d => { d.open = true; })")
    violations = blocking(AXE.run(page).response, f"{url} as the {role}")
    assert violations == [], "\n".join(violations)


@pytest.mark.parametrize(("role", "visit"), list(_visits()))
def test_the_page_is_shown_and_has_no_serious_accessibility_violation(
    pages: dict[str, Page], proposal: str, waiting_sale: str, role: str, visit: Visit
) -> None:
    url = visit.url.format(proposal=proposal, sale=waiting_sale)
    look_at(pages[role], role, visit.name, url, visit)


def test_an_unknown_path_is_a_page(pages: dict[str, Page]) -> None:
    look_at(pages["requester"], "requester", "unknown-path", "/no-such-page", visit=None)


@pytest.mark.parametrize("role", list(USERS))
def test_the_header_stays_on_one_line_on_a_laptop_screen(pages: dict[str, Page], role: str) -> None:
    """At 1366 pixels wide, even the administrator's links (the most anyone has) and who is
    signed in share one row of the header."""
    page = pages[role]
    page.goto("/dashboard")
    tops = page.eval_on_selector_all(
        ".site-nav li, .who", "all => all.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    nav_bottom = page.eval_on_selector(".site-nav", "e => e.getBoundingClientRect().bottom")
    assert len(set(tops[:-1])) == 1, f"the links wrap for the {role}: {tops}"
    assert tops[-1] < nav_bottom, f"who is signed in drops below the links for the {role}"
