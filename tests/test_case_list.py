"""The case list and the words on case pages, as a browser gets them: outcomes and states in
words, a message after a change shown once, error pages for addresses that do not exist,
a search by every fact of a case (behind the door of who may see it), whom each case waits
for, and sorting.

The demo story: case 1 (SECRET, ATACMS against RU) and case 2 (CONFIDENTIAL, Storm Shadow)
wait for ``us.secdef``; case 3 (UNCLASSIFIED) is approved; case 4 (the US sale of ERAM to
UA) is approved with conditions, the US liaison's to meet.
"""

from __future__ import annotations

import re

from clearance.core.actors import ADMIN
from clearance.service.demo import DEMO_PASSWORD
from clearance.service.runtime import Runtime

from .test_pages import JUNE_ATACMS, Browser, as_user, seeded, server

__all__ = ["seeded", "server"]

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _numbers(html: str) -> list[int]:
    """The case numbers of the list's rows, in the order shown."""
    table = html.split('id="cases-table"', 1)[1].split("</table>", 1)[0]
    return [int(n) for n in re.findall(r'<a href="/cases/(\d+)">Case', table)]


def _cases(browser: Browser, query: str) -> list[int]:
    page = browser.client.get(f"/cases?state=all&{query}")
    assert page.status_code == 200, page.text
    return _numbers(page.text) if 'id="cases-table"' in page.text else []


# words, not tokens -----------------------------------------------------------------


def test_outcomes_and_states_show_in_words_and_a_denial_in_red(server: Runtime) -> None:
    reviewer = as_user(server, "us.reviewer")
    listed = reviewer.client.get("/cases?state=all").text
    assert ">review required</span>" in listed
    assert ">in review</span>" in listed
    assert ">approved with conditions</span>" in listed
    assert "review_required<" not in listed
    assert "approved_with_conditions<" not in listed
    preview = as_user(server, "ua.liaison").post(
        "/requests/preview", JUNE_ATACMS, headers={"HX-Request": "true"}
    )
    assert 'id="preview-outcome">review required<' in preview.text

    secdef = as_user(server, "secdef")
    answer = {"verdict": "deny", "reason": "Escalation risk", "passphrase": DEMO_PASSWORD}
    assert secdef.post("/cases/2/answer", answer).status_code == 303
    page = secdef.client.get("/cases/2").text
    assert re.search(r'id="case-state"><span class="state state--denied">denied</span>', page)
    assert "This case is denied: it is closed" in page
    css = secdef.client.get("/static/app.css").text
    assert re.search(r"\.state--denied \{ color: #fff; background: var\(--bad\)", css)


# a message after a change, once ------------------------------------------------------


def test_the_message_after_a_change_is_shown_once_and_never_from_the_address(
    server: Runtime,
) -> None:
    liaison = as_user(server, "ua.liaison")
    form = liaison.client.get("/requests/new").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    created = liaison.post("/requests", {**JUNE_ATACMS, "idempotency_key": key.group(1)})
    assert created.status_code == 303
    assert created.headers["location"] == "/cases/5"  # nothing in the address
    said = "The request was submitted and screened."
    assert said in liaison.client.get("/cases/5").text
    assert said not in liaison.client.get("/cases/5").text  # a reload says nothing

    other = as_user(server, "us.reviewer")  # the link sent to someone else
    assert said not in other.client.get("/cases/5").text
    for address in ("/cases/5?done=submitted", "/cases/1?done=denied"):
        assert 'id="done"' not in liaison.client.get(address).text


# addresses that do not exist ---------------------------------------------------------


def test_an_unknown_address_is_a_page_for_a_browser_and_json_for_a_program(
    server: Runtime,
) -> None:
    browser = as_user(server, "ua.liaison")
    page = browser.client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "there is no page at /no-such-page" in page.text
    assert '<a href="/dashboard">Back to the dashboard</a>' in page.text
    assert 'aria-label="Main"' in page.text
    assert 'id="sign-out"' in page.text
    signed_out = Browser(server).client.get("/no-such-page", headers=HTML)
    assert signed_out.status_code == 404
    assert 'aria-label="Main"' not in signed_out.text
    assert 'id="sign-out"' not in signed_out.text

    wrong_method = browser.client.get("/requests", headers=HTML)  # a form posts there
    assert wrong_method.status_code == 405
    assert "/requests does not answer a GET request" in wrong_method.text

    for path, headers in (
        ("/api/v1/no-such-thing", HTML),
        ("/no-such-page", {"Accept": "application/json"}),
        ("/no-such-page", {"Accept": "*/*"}),
    ):
        answer = browser.client.get(path, headers=headers)
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"


# search ----------------------------------------------------------------------------


def test_search_finds_a_case_by_every_fact_of_it(server: Runtime) -> None:
    reviewer = as_user(server, "us.reviewer")  # cleared SECRET: sees every demo case
    assert _cases(reviewer, "q=4") == [4]
    assert _cases(reviewer, "q=%233") == [3]  # "#3"
    assert _cases(reviewer, "q=case+2") == [2]
    assert _cases(reviewer, "q=RU") == [1, 2, 3]  # the target's territory (and no requester)
    assert _cases(reviewer, "q=russia") == [1, 2, 3]
    assert _cases(reviewer, "q=ukraine") == [1, 2, 3, 4]  # requester, or recipient of case 4
    assert _cases(reviewer, "q=us.secdef") == [1, 2]  # the office that must approve
    assert _cases(reviewer, "q=us-eram-sale-european-funded") == [4]  # the deciding policy
    assert _cases(reviewer, "q=US/us-strikes-in-russia-authorised") == [3]

    liaison = as_user(server, "ua.liaison")
    belgorod = {**JUNE_ATACMS, "region": "RU-BEL"}
    assert liaison.post("/requests", belgorod).status_code == 303
    assert _cases(liaison, "q=belgorod") == [5]
    assert _cases(liaison, "q=ru-bel") == [5]


def test_a_search_finds_nothing_the_reader_may_not_see(server: Runtime) -> None:
    low = as_user(server, "conf.reviewer")  # cleared CONFIDENTIAL: case 1 is SECRET
    assert _cases(low, "q=1") == []
    assert "0 cases matching" in low.client.get("/cases?state=all&q=1").text
    assert server.cases.page(actor=ADMIN, states=None, limit=50, offset=0, query="1")[0]
    as_user(server, "ua.liaison").post("/requests", {**JUNE_ATACMS, "region": "RU-BEL"})
    assert _cases(low, "q=belgorod") == []
    assert _cases(low, "q=atacms") == [3]


# whose turn, and sorting --------------------------------------------------------------


def test_the_list_says_whom_each_case_waits_for(server: Runtime) -> None:
    reviewer = as_user(server, "us.reviewer")
    html = reviewer.client.get("/cases?state=all").text
    rows = {
        int(n): row
        for n, row in re.findall(r'<a href="/cases/(\d+)">Case \d+</a></th>(.*?)</tr>', html, re.S)
    }
    assert '<code class="office">us.secdef</code>' in rows[1]
    assert 'us.liaison <span class="muted">(requester)</span>' in rows[4]
    secdef = as_user(server, "secdef")
    answer = {"verdict": "approve", "reason": "", "passphrase": DEMO_PASSWORD}
    assert secdef.post("/cases/1/answer", answer).status_code == 303
    html = reviewer.client.get("/cases?state=all&sort=number").text
    first = html.split('<a href="/cases/1">Case 1</a></th>', 1)[1].split("</tr>", 1)[0]
    assert "us.secdef" not in first  # answered: its turn has passed


def test_the_list_sorts_by_its_column_heads(server: Runtime) -> None:
    reviewer = as_user(server, "us.reviewer")
    assert _cases(reviewer, "sort=-number") == [4, 3, 2, 1]
    assert _cases(reviewer, "sort=number") == [1, 2, 3, 4]
    assert _cases(reviewer, "sort=state")[:2] == [1, 2]  # in review before approved
    assert _cases(reviewer, "sort=-state")[-2:] == [2, 1]  # ties: the other way too
    html = reviewer.client.get("/cases?state=all&sort=-number").text
    assert re.search(
        r'<th scope="col" aria-sort="descending">\s*<a class="sort" href="[^"]*'
        r'sort=number">Case',
        html,
    )
    assert "most days in their state first" in reviewer.client.get("/cases?sort=-waiting").text

    api = reviewer.client.get("/api/v1/cases?all=true&sort=-number").json()
    assert [c["number"] for c in api["cases"]] == [4, 3, 2, 1]
    refused = reviewer.client.get("/api/v1/cases?sort=colour")
    assert refused.status_code == 400
    assert refused.json()["field"] == "sort"

    bad = reviewer.client.get("/cases?sort=colour")
    assert bad.status_code == 400
    assert "sort: &#39;colour&#39; is not a sort" in bad.text
