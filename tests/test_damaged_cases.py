"""A case whose stored decision or state was changed outside clearance, as every reader
meets it.

Such a case is still found, listed and checked for access by its other columns; whatever
needs what no longer reads (its page, an answer, its gates in a sweep) refuses in one line
naming it (``DamagedRecord``, 409, exit 1), a reader who may not see it is told it does not
exist, and the sweeps over many cases go on past it. ``audit verify`` names the record
itself (tests/test_tampered_tables.py).

A case whose state column was overwritten is still open by its ``is_open`` column, so it
stays in the lists of open cases; it is in no state's list, nor waiting in anyone's inbox.
"""

from __future__ import annotations

import dataclasses
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


@dataclasses.dataclass(frozen=True)
class Damage:
    """One column of a case overwritten in the database, as someone with write access could."""

    part: str
    change: str
    in_review: bool
    """Whether the case still reads as in review (``is_open`` keeps it open either way)."""

    def __call__(self, api: Api, number: int = SECRET_CASE) -> None:
        with api.server.database.engine.begin() as connection:
            statement = f"UPDATE cases SET {self.change} WHERE number = :number"
            connection.execute(sa.text(statement), {"number": number})

    def message(self, number: int = SECRET_CASE) -> str:
        return (
            f"case {number}'s stored {self.part} cannot be read;"
            " 'clearance audit verify' names every record changed outside clearance"
        )


@pytest.fixture(
    params=[
        Damage("decision", "decision = '[]'", in_review=True),
        Damage("state", "state = 'bogus'", in_review=False),
    ],
    ids=lambda damage: damage.part,
)
def damage(request: pytest.FixtureRequest) -> Damage:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def numbers(listed: list[dict[str, object]]) -> set[object]:
    return {case["number"] for case in listed}


def test_the_case_is_listed_and_what_needs_what_was_changed_names_it(
    api: Api, damage: Damage
) -> None:
    damage(api)
    reviewer = api.as_user("us.reviewer")
    listed = reviewer.get("/api/v1/cases").json()["cases"]
    assert numbers(listed) == {SECRET_CASE, CONFIDENTIAL_CASE, US_CASE}
    [row] = [case for case in listed if case["number"] == SECRET_CASE]
    assert row["damaged"] is True
    assert row["state"] == ("in_review" if damage.in_review else None)
    assert sum(case["damaged"] for case in listed) == 1
    refused = assert_error(reviewer.get(f"/api/v1/cases/{SECRET_CASE}"), 409, "damaged_record")
    assert refused["message"] == damage.message()
    # An answer needs the gates the decision names and the state it moves from: refused
    # alike, nothing recorded.
    before = reviewer.get("/api/v1/ledger").json()
    answered = api.as_user("secdef").post(f"/api/v1/cases/{SECRET_CASE}/approve", json=answer())
    assert_error(answered, 409, "damaged_record")
    assert reviewer.get("/api/v1/ledger").json() == before


def test_a_reader_who_may_not_see_the_case_is_told_it_does_not_exist(
    api: Api, damage: Damage
) -> None:
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
    assert f"stored {damage.part}" not in page.text


def test_the_pages_show_the_case_as_damaged_and_the_rest_as_before(
    api: Api, damage: Damage
) -> None:
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
    assert ("state--unreadable" in row.group(0)) == (damage.part == "state")
    page = reviewer.get(f"/cases/{SECRET_CASE}")
    assert page.status_code == 409
    assert damage.message().replace("'", "&#39;") in page.text
    # The dashboard's oldest request in review is the damaged one, if its state still
    # says it is in review: named, the rest shown.
    board = reviewer.get("/dashboard")
    assert board.status_code == 200
    assert ('id="oldest-damaged"' in board.text) == damage.in_review
    # Counted among the open cases under a state that no longer reads, never under the
    # text someone wrote in its place.
    assert ("state--unreadable" in board.text) == (damage.part == "state")
    assert "bogus" not in board.text.lower()
    assert f'href="/cases/{CONFIDENTIAL_CASE}"' in board.text  # among the overdue
    # The ledger of the case is where an auditor looks next.
    for url in ("/ledger", f"/ledger?case={SECRET_CASE}"):
        assert api.as_user("auditor").get(url).status_code == 200, url


def test_the_sweeps_go_on_past_the_case(api: Api, damage: Damage) -> None:
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


def test_an_escalated_case_damaged_since_leaves_every_dashboard_standing(
    api: Api, damage: Damage
) -> None:
    """The dashboard lists escalated cases from the ledger's escalation events: a case
    escalated before it was damaged is looked at only after the door, so a reader who may
    not see it gets a whole dashboard that names nothing of it."""
    later = api.server.now() + dt.timedelta(days=3650)
    escalated = api.server.cases.escalate(actor=ADMIN, now=later)
    assert SECRET_CASE in {e.case.number for e in escalated}
    damage(api)
    for user in ("us.reviewer", "conf.reviewer"):
        assert api.as_user(user).get("/dashboard").status_code == 200, user
    hidden = api.as_user("conf.reviewer").get("/dashboard").text
    assert f'href="/cases/{SECRET_CASE}"' not in hidden
    assert f"stored {damage.part}" not in hidden


def test_lapsed_cases_are_found_past_any_number_of_damaged_ones(api: Api, damage: Damage) -> None:
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
    api: Api, damage: Damage
) -> None:
    """A withdrawal reads nothing of the decision, but its answer shows the case: refused
    inside the transaction, so the case is not withdrawn behind a refusal."""
    damage(api)
    requester = api.as_user("ua.liaison")  # its token is an event of its own
    state = "SELECT state FROM cases WHERE number = :number"
    with api.server.database.engine.connect() as connection:
        events = connection.execute(sa.text("SELECT count(*) FROM ledger")).scalar()
        stored = connection.execute(sa.text(state), {"number": SECRET_CASE}).scalar()
    refused = requester.post(f"/api/v1/cases/{SECRET_CASE}/withdraw", json={})
    assert assert_error(refused, 409, "damaged_record")["message"] == damage.message()
    with api.server.database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM ledger")).scalar() == events
        assert connection.execute(sa.text(state), {"number": SECRET_CASE}).scalar() == stored


def test_the_commands_list_the_case_and_refuse_its_view_in_one_line(
    api: Api,
    damage: Damage,
    seeded: str,  # noqa: F811 (test_api's fixture)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    damage(api)
    cli = Cli(tmp_path, seeded, monkeypatch)
    listed = cli.json("cases", "list", "--as", "us.reviewer")
    assert SECRET_CASE in numbers(listed["cases"])
    table = cli("cases", "list", "--as", "us.reviewer")
    assert table.stdout.count("RECORD DAMAGED") == 1
    assert ("unreadable" in table.stdout) == (damage.part == "state")
    shown = cli("cases", "show", str(SECRET_CASE), "--as", "us.reviewer", ok=False)
    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines() == [f"error: {damage.message()}"]
    assert "Traceback" not in shown.stdout + shown.stderr
