"""Policy proposals over HTTP and in the pages, on SQLite and PostgreSQL.

Each test gets its own copy of the demo world (test_api's fixtures). The
candidate is the seed's November 2024 US bundle (strikes inside Russia
authorised, no review) proposed again from 2099-01-01 under a new title: the
golden cases all predate it, so they pass; replayed on every date it would
have permitted the demo's ATACMS and Storm Shadow requests, which went to
review; and from its date it would permit the two open cases (1, SECRET, and
2, CONFIDENTIAL). The demo's ``secdef`` holds ``us.secdef``, the office the
US bundle in force names as its policy authority. Every API answer is also
checked against the OpenAPI document (api_support.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clearance.core.actors import ADMIN
from clearance.core.chain import EventType

from .api_support import ATACMS_JUNE, DEMO_PASSWORD, Api, open_api
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    APPROVED_CASE,
    CONFIDENTIAL_CASE,
    SECRET_CASE,
    US_CASE,
    assert_error,
    csrf,
    postgresql_template,
    seeded,
    sqlite_template,
)
from .test_proposals import candidate

PROPOSALS = "/api/v1/proposals"
FUTURE = "2099-01-01"
TITLE = "Strikes inside Russia authorised from 2099"


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def files(effective: str = FUTURE) -> dict[str, str]:
    return candidate(effective, TITLE)


def broken() -> dict[str, str]:
    """The candidate with a syntax error on the first line of its first policy."""
    texts = files()
    texts["policies.cedar"] = texts["policies.cedar"].replace("permit (", "permit [", 1)
    return texts


def uploads(texts: dict[str, str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The files as a browser sends a multiple-file input: one ``files`` part each."""
    return [("files", (name, text.encode(), "text/plain")) for name, text in texts.items()]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def element_html(html: str, id: str) -> str:
    """The inside of the element with this id (up to the first closing tag of its kind)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(id)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match is not None, f"no element #{id}"
    return match.group(2)


def element(html: str, id: str) -> str:
    """The text of the element with this id."""
    return text_of(element_html(html, id))


def recorded(api: Api) -> tuple[int, int]:
    """(proposals, ledger events): what a refused proposal must leave as it was."""
    _, head = api.server.store.ledger_bounds()
    return len(api.server.proposals.visible(actor=ADMIN)), head


def case_numbers(changes: list[dict[str, Any]]) -> set[int]:
    return {c["number"] for c in changes}


# the API --------------------------------------------------------------------------


def test_a_proposal_made_over_the_api_is_seen_by_its_party_and_reviewers_only(api: Api) -> None:
    liaison = api.as_user("us.liaison")
    made = liaison.post(PROPOSALS, json={"files": files()})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["number"], body["state"], body["holder"]) == (1, "proposed", "US")
    assert (body["effective_from"], body["title"]) == (FUTURE, TITLE)
    assert (body["tests"]["failed"], body["tests_passed"]) == (0, True)
    assert (body["policy_authority"], body["may_activate"]) == ("us.secdef", False)
    assert body["proposed_by"] == "us.liaison"
    assert "us-strikes-in-russia-authorised" in {p["id"] for p in body["policies"]}

    assert_error(
        api.as_user("ua.liaison").post(PROPOSALS, json={"files": files("2099-02-01")}),
        403,
        "forbidden",
    )

    listed = [(p["number"], p["state"], p["tests_passed"]) for p in liaison.get(PROPOSALS).json()]
    assert listed == [(1, "proposed", True)]
    # UA's liaison is of another party and sees neither the list entry nor the proposal.
    ukraine = api.as_user("ua.liaison")
    assert ukraine.get(PROPOSALS).json() == []
    assert_error(ukraine.get(f"{PROPOSALS}/1"), 404, "not_found")

    shown = api.as_user("us.reviewer").get(f"{PROPOSALS}/1").json()
    impact = shown["impact"]
    replay = {c["number"]: c for c in impact["replay"]}
    assert replay[SECRET_CASE]["kind"] == "review_required → permitted"
    assert "US/us-strikes-in-russia-authorised" in replay[SECRET_CASE]["would_be_reasons"]
    assert impact["examined"] >= 4
    assert {(c["number"], c["was"], c["would_be"]) for c in impact["open_cases"]} >= {
        (SECRET_CASE, "review_required", "permitted")
    }
    assert shown["may_activate"] is False
    secdef = api.as_user("secdef")
    assert secdef.get(f"{PROPOSALS}/1").json()["may_activate"] is True

    # From June 2025 the bundle contradicts the golden cases: no Activate for anyone.
    failing = liaison.post(PROPOSALS, json={"files": files("2025-06-01")}).json()
    assert failing["tests_passed"] is False
    assert {"G2"} <= {f["id"] for f in failing["tests"]["failures"]}
    assert secdef.get(f"{PROPOSALS}/{failing['number']}").json()["may_activate"] is False


def test_the_impact_leaves_out_cases_above_the_viewers_clearance(api: Api) -> None:
    api.as_user("us.liaison").post(PROPOSALS, json={"files": files()})
    everything = api.as_user("us.reviewer").get(f"{PROPOSALS}/1").json()["impact"]
    cleared = api.as_user("conf.reviewer").get(f"{PROPOSALS}/1").json()["impact"]
    assert SECRET_CASE in case_numbers(everything["replay"])
    assert SECRET_CASE in case_numbers(everything["open_cases"])
    assert SECRET_CASE not in case_numbers(cleared["replay"])
    assert SECRET_CASE not in case_numbers(cleared["open_cases"])
    assert CONFIDENTIAL_CASE in case_numbers(cleared["open_cases"])
    assert cleared["examined"] is None, "a count of every case, SECRET ones too"
    # A requester sees their own cases only: us.liaison's ERAM transfer, not UA's strikes.
    own = api.as_user("us.liaison").get(f"{PROPOSALS}/1").json()["impact"]
    assert case_numbers(own["replay"]) | case_numbers(own["open_cases"]) == {US_CASE}


def test_the_impact_counts_stored_cases_whose_records_no_longer_read(api: Api) -> None:
    """Replay names such a case as not judged (here a closed case whose outcome column was
    changed too, so that replay reads it whole); the impact says how many there were, to a
    reader who may count every case, on the page and in the API."""
    api.as_user("us.liaison").post(PROPOSALS, json={"files": files()})
    with api.server.store.database.engine.begin() as connection:
        statement = "UPDATE cases SET decision = '[]', outcome = 'x' WHERE number = :number"
        connection.execute(sa.text(statement), {"number": APPROVED_CASE})
    everything = api.as_user("us.reviewer").get(f"{PROPOSALS}/1").json()["impact"]
    assert everything["not_replayed"] == 1
    assert (
        api.as_user("conf.reviewer").get(f"{PROPOSALS}/1").json()["impact"]["not_replayed"] is None
    )
    page = api.as_user("us.reviewer").get("/policy/proposals/1").text
    assert "1 stored case was not judged again: its record no longer reads." in page
    untouched = api.as_user("us.liaison").post(PROPOSALS, json={"files": files()}).json()
    assert (
        "not-replayed"
        not in api.as_user("conf.reviewer").get(f"/policy/proposals/{untouched['number']}").text
    )


def test_only_the_named_office_activates_signed_and_the_new_bundle_decides_from_its_date(
    api: Api,
) -> None:
    made = api.as_user("us.liaison").post(PROPOSALS, json={"files": files()}).json()
    activate = f"{PROPOSALS}/1/activate"
    for user in ("us.liaison", "us.reviewer", "admin.user"):
        refused = api.as_user(user).post(activate, json={"passphrase": DEMO_PASSWORD})
        assert "does not hold us.secdef" in assert_error(refused, 403, "forbidden")["message"]
    secdef = api.as_user("secdef")
    assert_error(secdef.post(activate, json={"passphrase": "not it"}), 403, "bad_signature")
    assert (
        api.server.proposals.view(1, actor=ADMIN, now=api.server.now()).record.state == "proposed"
    )

    answer = secdef.post(activate, json={"passphrase": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["state"], body["activated_by"], body["activated_as"]) == (
        "activated",
        "secdef",
        "us.secdef",
    )
    # The open cases were judged again as of today: the strikes change only from 2099.
    assert not case_numbers(body["rescreened"]) & {SECRET_CASE, CONFIDENTIAL_CASE}
    for row in body["rescreened"]:
        timeline = api.server.cases.view(row["case_id"], actor=ADMIN).events
        assert json.loads(timeline[-1].body)["type"] == "case_rescreened"
    assert_error(
        secdef.post(activate, json={"passphrase": DEMO_PASSWORD}), 409, "illegal_transition"
    )

    events = api.as_user("auditor").get("/api/v1/ledger", params={"type": "bundle_activated"})
    # The first re-screening also records the pack's own bundles as they took effect.
    [event] = [e for e in events.json() if e["payload"]["bundle"] == "proposals/1"]
    assert (event["actor"], event["payload"]["authority"]) == ("secdef", "us.secdef")
    assert event["payload"]["revision"] == made["revision"]

    screener = api.as_user("ua.liaison")
    before = screener.post("/api/v1/screen", json={**ATACMS_JUNE, "date": "2098-12-31"}).json()
    after = screener.post("/api/v1/screen", json={**ATACMS_JUNE, "date": "2099-02-01"}).json()
    assert (before["outcome"], after["outcome"]) == ("review_required", "permitted")
    assert after["bundles"]["US"] == made["revision"]
    us = api.as_user("us.reviewer").get("/api/v1/bundles/US").json()
    assert (us[-1]["effective_from"], us[-1]["title"], us[-1]["folder"]) == (
        FUTURE,
        TITLE,
        "proposals/1",
    )


def test_a_broken_bundle_is_refused_naming_its_file_and_line_and_nothing_is_recorded(
    api: Api,
) -> None:
    liaison = api.as_user("us.liaison")  # issuing its token is on the ledger: first
    before = recorded(api)
    refused = liaison.post(PROPOSALS, json={"files": broken()})
    message = assert_error(refused, 422, "invalid_policy")["message"]
    assert re.match(r"proposal/policies\.cedar: line \d+: ", message), message
    assert recorded(api) == before


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("(" * 50_000 + "true" + ")" * 50_000, "nested more than 64 brackets deep"),
        ("true" + " && true" * 150, "expression nesting exceeds the supported limit of 100 levels"),
        (
            "true" + " && true" * 20_000,
            "chains more than 500 operators (&&, ||, +, -, *, . or [)",
        ),
    ],
    ids=["brackets past what Cedar parses", "past Cedar's limit", "past what Cedar converts"],
)
def test_a_policy_cedar_cannot_read_safely_is_refused_and_the_server_goes_on(
    api: Api, condition: str, problem: str
) -> None:
    """Brackets nested thousands deep overflowed Cedar's parser, and a chain of ``&&`` some
    1,500 links long (no bracket) overflowed its turning of the policy into a tree: either
    ended the server's process, and anyone who may propose could send them. A shorter chain,
    past Cedar's own limit of 100 levels, raised an error nothing caught. All are refused
    in words, nothing recorded."""
    liaison = api.as_user("us.liaison")
    before = recorded(api)
    texts = files()
    texts["policies.cedar"] += (
        f'\n@id("deep")\npermit (principal, action, resource) when {{ {condition} }};\n'
    )
    refused = liaison.post(PROPOSALS, json={"files": texts})
    message = assert_error(refused, 422, "invalid_policy")["message"]
    assert re.fullmatch(rf"proposal/policies\.cedar: line \d+: {re.escape(problem)}", message), (
        message
    )
    assert recorded(api) == before
    assert liaison.post(PROPOSALS, json={"files": files()}).status_code == 201


# the pages ------------------------------------------------------------------------


def test_a_bundle_uploaded_on_the_form_is_proposed_and_shown_with_its_impact(api: Api) -> None:
    liaison, token = api.signed_in("us.liaison")
    form = liaison.get("/policy/proposals")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert re.search(r'<input id="files" name="files" type="file" multiple', form.text)
    assert 'href="/policy/proposals"' in liaison.get("/policy").text

    no_token = liaison.post("/policy/proposals", files=uploads(files()))
    assert no_token.status_code == 403
    before = recorded(api)
    refused = liaison.post("/policy/proposals", data={"csrf_token": token}, files=uploads(broken()))
    assert refused.status_code == 422
    error = element(refused.text, "proposal-error")
    assert re.match(r"Not proposed: proposal/policies\.cedar: line \d+: \S", error), error
    assert recorded(api) == before

    made = liaison.post(
        "/policy/proposals",
        data={"csrf_token": token},
        files=uploads(files()),
        follow_redirects=False,
    )
    assert (made.status_code, made.headers["location"]) == (303, "/policy/proposals/1")
    page = liaison.get("/policy/proposals/1")
    assert page.status_code == 200
    assert re.fullmatch(r"pass ?: \d+ pass, 0 fail\.", element(page.text, "golden"))
    assert element(page.text, "proposal-state") == "proposed"
    assert "us.secdef" in element(page.text, "authority")
    assert 'id="activate-form"' not in page.text
    assert "us-strikes-in-russia-authorised" in page.text
    listed = text_of(liaison.get("/policy/proposals").text)
    assert re.search(rf"Proposal 1 proposed US {FUTURE} {TITLE} pass us\.liaison —", listed)

    reviewer, _ = api.signed_in("us.reviewer")
    shown = reviewer.get("/policy/proposals/1").text
    assert '<svg class="chart chart--changes"' in shown
    replay = element(shown, "replay-table")
    assert f"Case {SECRET_CASE}" in replay
    assert "review required permitted US/us-strikes-in-russia-authorised" in replay
    assert f'href="/cases/{SECRET_CASE}"' in element_html(shown, "open-cases")
    assert element(shown, "banner-top").endswith(": SECRET"), "case 1 is on the page"

    confidential, _ = api.signed_in("conf.reviewer")
    hidden = confidential.get("/policy/proposals/1").text
    assert f'href="/cases/{SECRET_CASE}"' not in hidden
    assert f'href="/cases/{CONFIDENTIAL_CASE}"' in element_html(hidden, "open-cases")
    assert element(hidden, "banner-top").endswith(": CONFIDENTIAL")
    assert re.search(r"\bSECRET\b", text_of(hidden).replace("TOP SECRET", "")) is None


def test_the_holder_of_the_office_activates_on_the_page_and_the_ledger_says_so(
    api: Api,
) -> None:
    api.as_user("us.liaison").post(PROPOSALS, json={"files": files()})
    reviewer, reviewer_token = api.signed_in("us.reviewer")
    assert 'id="activate-form"' not in reviewer.get("/policy/proposals/1").text
    forced = reviewer.post(
        "/policy/proposals/1/activate",
        data={"csrf_token": reviewer_token, "passphrase": DEMO_PASSWORD},
    )
    assert forced.status_code == 403
    assert "does not hold us.secdef" in element(forced.text, "proposal-error")

    secdef, token = api.signed_in("secdef")
    page = secdef.get("/policy/proposals/1").text
    assert 'id="activate-form"' in page
    assert re.search(r'<input id="passphrase" name="passphrase" type="password"', page)
    wrong = secdef.post(
        "/policy/proposals/1/activate", data={"csrf_token": token, "passphrase": "not it"}
    )
    assert wrong.status_code == 403
    assert "cannot be unlocked" in element(wrong.text, "proposal-error")

    done = secdef.post(
        "/policy/proposals/1/activate", data={"csrf_token": token, "passphrase": DEMO_PASSWORD}
    )
    assert done.status_code == 200, done.text
    assert element(done.text, "activated").startswith("Activated. Signed by secdef as us.secdef")
    rescreened = element(done.text, "rescreened")
    assert f"Case {SECRET_CASE}" not in rescreened  # a strike changes only from 2099
    assert element(done.text, "proposal-state") == "activated"
    again = secdef.get("/policy/proposals/1").text
    assert "by secdef as us.secdef" in element(again, "activated-by")
    assert 'id="activate-form"' not in again

    auditor, _ = api.signed_in("auditor")
    ledger = text_of(auditor.get("/ledger", params={"type": "bundle_activated"}).text)
    assert re.search(
        r"bundle activated secdef — policy of US \(proposals/1\) in force from 2099-01-01,"
        r" activated as us\.secdef",
        ledger,
    )
    assert TITLE in text_of(secdef.get("/policy/US").text)
    with api.server.store.reading() as tx:
        [proposed] = tx.ledger.of_type(EventType.BUNDLE_PROPOSED)
    assert json.loads(proposed.body)["actor"] == "us.liaison"


def test_a_failing_golden_case_is_shown_as_expected_against_got_with_no_activate_form(
    api: Api,
) -> None:
    api.as_user("us.liaison").post(PROPOSALS, json={"files": files("2025-06-01")})
    secdef, _ = api.signed_in("secdef")
    page = secdef.get("/policy/proposals/1").text
    assert element(page, "golden").startswith("FAIL")
    failures = element(page, "golden-failures")
    assert re.search(r"G2 \(\S+\) .+ outcome review_required permitted", failures), failures
    assert 'id="activate-form"' not in page
    listed = text_of(secdef.get("/policy/proposals").text)
    assert re.search(r"Proposal 1 proposed US 2025-06-01 .+ FAIL us\.liaison", listed)
