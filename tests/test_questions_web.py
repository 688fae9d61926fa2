"""Questions, clocks and escalation on the web: the Secretary asks from the case page, the
requester answers there, the clocks say they stopped and ran again; escalated cases are on
the dashboard of those who may see them, and nowhere else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.core.actors import ADMIN

from .api_support import Api, open_api
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    postgresql_template,
    seeded,
    sqlite_template,
)


@pytest.fixture
def demo(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def test_the_secretary_asks_and_the_requester_answers_from_the_case_page(demo: Api) -> None:
    secdef, token = demo.signed_in("secdef")
    page = secdef.get("/cases/1").text
    assert 'id="ask-form"' in page
    assert 'id="clock-table"' in page
    assert "20 working days" in page

    empty = secdef.post("/cases/1/ask", data={"csrf_token": token, "question": "  "})
    assert empty.status_code == 400
    assert "question: must say something" in empty.text
    assert 'id="ask-text" name="question"' in empty.text
    assert demo.server.cases.view("1", actor=ADMIN).case.state == "in_review"

    asked = secdef.post(
        "/cases/1/ask",
        data={"csrf_token": token, "question": "Which launch unit?"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    page = secdef.get(asked.headers["location"]).text
    assert "clock is stopped until they answer" in page
    assert 'id="question-text">Which launch unit?</blockquote>' in page
    assert "stopped: waiting for the requester" in page
    assert 'id="ask-form"' not in page
    assert 'id="reply-form"' not in page, "only the requester answers"
    assert 'id="answer-form"' not in page, "nobody decides a case waiting for its answer"

    liaison, liaison_token = demo.signed_in("ua.liaison")
    page = liaison.get("/cases/1").text
    assert 'id="reply-form"' in page
    replied = liaison.post(
        "/cases/1/reply",
        data={"csrf_token": liaison_token, "answer": "Unit 3"},
        follow_redirects=False,
    )
    assert replied.status_code == 303
    page = liaison.get(replied.headers["location"]).text
    assert "back in review" in page
    assert re.search(r"the requester answered: “Unit 3”", page)
    assert 'id="answer-form"' in secdef.get("/cases/1").text


def test_no_one_else_may_ask_and_a_hidden_case_is_not_found(demo: Api) -> None:
    conf, token = demo.signed_in("conf.reviewer")
    refused = conf.post("/cases/1/ask", data={"csrf_token": token, "question": "?"})
    assert refused.status_code == 404, "a SECRET case is not found for a CONFIDENTIAL reader"
    auditor, auditor_token = demo.signed_in("auditor")  # sees it, neither reviews nor decides
    assert 'id="ask-form"' not in auditor.get("/cases/1").text
    refused = auditor.post("/cases/1/ask", data={"csrf_token": auditor_token, "question": "?"})
    assert refused.status_code == 403
    assert "only a reviewer, or a holder of an office still to answer" in refused.text
    assert demo.server.cases.view("1", actor=ADMIN).case.state == "in_review"


def test_escalated_cases_are_on_the_dashboard_of_those_who_may_see_them(demo: Api) -> None:
    made = demo.server.cases.escalate(actor=ADMIN, now=demo.server.now())
    assert {m.case.number for m in made} == {1, 2}, "seeded 45 days ago: past step 1"
    secdef, _ = demo.signed_in("secdef")
    page = secdef.get("/dashboard").text
    section = page[
        page.index('id="escalated"') : page.index("</section>", page.index('id="escalated"'))
    ]
    assert 'href="/cases/1"' in section
    assert 'href="/cases/2"' in section
    assert "us.secdef" in section
    assert 'id="report-link"' not in section, "the report is for auditors"
    conf, _ = demo.signed_in("conf.reviewer")
    page = conf.get("/dashboard").text
    section = page[
        page.index('id="escalated"') : page.index("</section>", page.index('id="escalated"'))
    ]
    assert 'href="/cases/1"' not in section, "a SECRET case is not listed to CONFIDENTIAL"
    assert 'href="/cases/2"' in section
    auditor, _ = demo.signed_in("auditor")
    assert 'id="report-link"' in auditor.get("/dashboard").text
    case_page = secdef.get("/cases/1").text
    assert 'id="escalations"' in case_page
    assert "escalation step 1 for us.secdef" in case_page
