"""A case whose stored decision was changed outside clearance, as every reader meets it.

Such a case is still found, listed and checked for access by its columns; whatever needs
its decision (its page, an answer, its gates in a sweep) refuses in one line naming it
(``DamagedRecord``, 409, exit 1), a reader who may not see it is told it does not exist,
and the sweeps over many cases go on past it. ``audit verify`` names the record itself
(tests/test_tampered_tables.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from clearance.core.actors import ADMIN

from .api_support import Api, open_api
from .cli_support import Cli
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    APPROVED_CASE,
    CONFIDENTIAL_CASE,
    SECRET_CASE,
    US_CASE,
    answer,
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)
from .test_proposals import candidate

DAMAGED = (
    f"case {SECRET_CASE}'s stored decision cannot be read;"
    " 'clearance audit verify' names every record changed outside clearance"
)


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def damage(api: Api, number: int = SECRET_CASE) -> None:
    """Overwrite the case's decision in the database, as someone with write access could."""
    with api.server.database.engine.begin() as connection:
        statement = "UPDATE cases SET decision = '[]' WHERE number = :number"
        connection.execute(sa.text(statement), {"number": number})


def numbers(listed: list[dict[str, object]]) -> set[object]:
    return {case["number"] for case in listed}


def test_the_case_is_listed_and_what_needs_its_decision_names_it(api: Api) -> None:
    damage(api)
    reviewer = api.as_user("us.reviewer")
    assert numbers(reviewer.get("/api/v1/cases").json()["cases"]) == {
        SECRET_CASE,
        CONFIDENTIAL_CASE,
        US_CASE,
    }
    refused = assert_error(reviewer.get(f"/api/v1/cases/{SECRET_CASE}"), 409, "damaged_record")
    assert refused["message"] == DAMAGED
    # An answer needs the gates the decision names: refused alike, nothing recorded.
    before = reviewer.get("/api/v1/ledger").json()
    answered = api.as_user("secdef").post(f"/api/v1/cases/{SECRET_CASE}/approve", json=answer())
    assert_error(answered, 409, "damaged_record")
    assert reviewer.get("/api/v1/ledger").json() == before


def test_a_reader_who_may_not_see_the_case_is_told_it_does_not_exist(api: Api) -> None:
    """The refusal names the case, so only a reader who may see the case meets it: to
    anyone else the damaged SECRET case is not found, in the words of a missing one."""
    damage(api)
    cleared = api.as_user("conf.reviewer")
    assert SECRET_CASE not in numbers(cleared.get("/api/v1/cases").json()["cases"])
    hidden = assert_error(cleared.get(f"/api/v1/cases/{SECRET_CASE}"), 404, "not_found")
    missing = assert_error(cleared.get("/api/v1/cases/99"), 404, "not_found")
    assert hidden["message"] == missing["message"].replace("99", str(SECRET_CASE))
    page = cleared.get(f"/cases/{SECRET_CASE}")
    assert page.status_code == 404
    assert "stored decision" not in page.text


def test_the_pages_show_the_case_as_damaged_and_the_rest_as_before(api: Api) -> None:
    damage(api)
    reviewer = api.as_user("us.reviewer")
    listed = reviewer.get("/cases")
    assert listed.status_code == 200
    row = re.search(
        rf'<tr[^>]*>(?:(?!</tr>).)*href="/cases/{SECRET_CASE}"(?:(?!</tr>).)*</tr>',
        listed.text,
        re.S,
    )
    assert row is not None
    assert "record damaged" in row.group(0)
    assert listed.text.count("record damaged") == 1
    page = reviewer.get(f"/cases/{SECRET_CASE}")
    assert page.status_code == 409
    assert DAMAGED.replace("'", "&#39;") in page.text
    # The dashboard's oldest request in review is the damaged one: named, the rest shown.
    board = reviewer.get("/dashboard")
    assert board.status_code == 200
    assert 'id="oldest-damaged"' in board.text
    assert f'href="/cases/{CONFIDENTIAL_CASE}"' in board.text  # among the overdue
    # The ledger of the case is where an auditor looks next.
    for url in ("/ledger", f"/ledger?case={SECRET_CASE}"):
        assert api.as_user("auditor").get(url).status_code == 200, url


def test_the_sweeps_go_on_past_the_case(api: Api) -> None:
    """The inbox, the report of waiting, escalation and expiry act on cases' gates and
    clocks: each leaves the damaged case out and goes on for every other."""
    damage(api)
    inbox = api.as_user("secdef").get("/api/v1/inbox").json()["items"]
    assert [(i["case_number"], i["office"]) for i in inbox] == [(CONFIDENTIAL_CASE, "us.secdef")]
    report = api.as_user("auditor").get("/api/v1/reports/waiting")
    assert report.status_code == 200
    later = api.server.now() + dt.timedelta(days=3650)
    escalated = api.server.cases.escalate(actor=ADMIN, now=later)
    assert {e.case.number for e in escalated} == {CONFIDENTIAL_CASE}
    damage(api, APPROVED_CASE)
    expired = api.server.cases.expire(actor=ADMIN, now=later)
    assert APPROVED_CASE not in {c.number for c in expired}
    assert US_CASE in {c.number for c in expired}
    # A proposal's impact reads every open case: it shows, the damaged one aside.
    api.as_user("us.liaison").post("/api/v1/proposals", json={"files": candidate("2099-01-01")})
    impact = api.as_user("us.reviewer").get("/api/v1/proposals/1").json()["impact"]
    assert CONFIDENTIAL_CASE in numbers(impact["open_cases"])
    assert SECRET_CASE not in numbers(impact["open_cases"])
    assert api.as_user("us.reviewer").get("/policy/proposals/1").status_code == 200


def test_lapsed_cases_are_found_past_any_number_of_damaged_ones(api: Api) -> None:
    """Expiry asks for lapsed cases a page at a time until none is left: a page of damaged
    ones alone must not read as none left."""
    later = api.server.now() + dt.timedelta(days=3650)
    with api.server.database.engine.begin() as connection:  # the approved case lapses too
        lapse = "UPDATE cases SET expires_at = (SELECT expires_at FROM cases WHERE number = :us)"
        connection.execute(sa.text(f"{lapse} WHERE number = :approved"),
                           {"us": US_CASE, "approved": APPROVED_CASE})  # fmt: skip
    with api.server.store.reading() as tx:
        assert [case.number for case in tx.cases.lapsed(now=later)] == [APPROVED_CASE, US_CASE]
    damage(api, APPROVED_CASE)
    with api.server.store.reading() as tx:
        assert [case.number for case in tx.cases.lapsed(now=later, limit=1)] == [US_CASE]
        assert [case.number for case in tx.cases.lapsed(now=later)] == [US_CASE]


def test_a_move_that_needs_no_decision_is_refused_too_and_nothing_is_recorded(
    api: Api,
) -> None:
    """A withdrawal reads nothing of the decision, but its answer shows the case: refused
    inside the transaction, so the case is not withdrawn behind a refusal."""
    damage(api)
    requester = api.as_user("ua.liaison")  # its token is an event of its own
    with api.server.database.engine.connect() as connection:
        events = connection.execute(sa.text("SELECT count(*) FROM ledger")).scalar()
    refused = requester.post(f"/api/v1/cases/{SECRET_CASE}/withdraw", json={})
    assert assert_error(refused, 409, "damaged_record")["message"] == DAMAGED
    with api.server.database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM ledger")).scalar() == events
        state = "SELECT state FROM cases WHERE number = :number"
        assert connection.execute(sa.text(state), {"number": SECRET_CASE}).scalar() == "in_review"


def test_the_commands_list_the_case_and_refuse_its_view_in_one_line(
    api: Api,
    seeded: str,  # noqa: F811 (test_api's fixture)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    damage(api)
    cli = Cli(tmp_path, seeded, monkeypatch)
    listed = cli.json("cases", "list", "--as", "us.reviewer")
    assert SECRET_CASE in numbers(listed["cases"])
    shown = cli("cases", "show", str(SECRET_CASE), "--as", "us.reviewer", ok=False)
    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines() == [f"error: {DAMAGED}"]
    assert "Traceback" not in shown.stdout + shown.stderr
