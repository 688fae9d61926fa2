"""The report of waiting: each office's answers counted in its working days, exactly (across
Juneteenth, the Fourth of July and weekends, less the days a question stopped the clock),
the longest gate waiting now, the overdue and the escalated; per month; only what the
reader may see, and only for auditors.

The history, on the US calendar (us.secdef: 20 working days, a ladder at 10, 20 and 30):

| case | entered review | answered | working days |
|---|---|---|---|
| A | Mon 16 June | Mon 23 June | 4: 17, 18, 20 (19: Juneteenth), 23 |
| B | Thu 3 July | Wed 9 July | 3: 7, 8, 9 (4: Independence Day, then a weekend) |
| C | Mon 16 June | Tue 1 July | 5: ten, less five stopped by a question from Fri 20 to Fri 27 June |
| D | Tue 1 July | Tue 15 July, denied | 9 |
| E | Mon 7 July | Mon 4 August | 20 |
| F | Mon 28 July | Mon 4 August | 5 |
| G | Mon 4 August | open | 9 by Friday 15 August |
| H | Mon 30 June | open | 33 by Friday 15 August: overdue, three ladder steps on the 15th |
| I | Mon 21 July | open, asked on Fri 25 July | 4: its clock stopped since |

Times to decision, sorted: 3, 4, 5, 5, 9, 20: median 5, 90th percentile (nearest rank,
the 6th of 6) 20. June: 4. July: 3, 5, 9 (median 5, p90 9). August: 5, 20 (median 12.5,
p90 20).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.signing import Signer, new_key_pair
from clearance.errors import InputError, NotFoundError, PermissionDenied
from clearance.policy.engine import Screener
from clearance.service.accounts import Accounts
from clearance.service.anchoring import SystemKey
from clearance.service.cases import CaseService
from clearance.service.oversight import WaitingReport, p90, period, waiting_report
from clearance.service.people import People
from clearance.store.db import open_database
from clearance.store.repository import Store

from .api_support import DEMO_PASSWORD, Api, open_api
from .cli_support import Cli
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    postgresql_template,
    seeded,
    sqlite_template,
)
from .worlds import G2, T0, World

NOW = dt.datetime(2025, 8, 15, 12, 0, tzinfo=dt.UTC)


def _at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), dt.UTC)


def _answer(world: World, case_id: str, day: str, *, approve: bool = True) -> None:
    world.cases.answer(
        case_id,
        actor="hegseth",
        approve=approve,
        reason="" if approve else "Escalation risk",
        signer=world.keys["hegseth"],
        now=_at(day, 10),
    )


def _history(world: World) -> dict[str, int]:
    """The cases of the module doc, their numbers by letter."""
    number: dict[str, int] = {}

    def submit(letter: str, day: str) -> str:
        case, _ = world.cases.submit(G2, actor="ua.liaison", now=_at(day))
        number[letter] = case.number
        return case.id

    a, c = submit("A", "2025-06-16"), submit("C", "2025-06-16")
    world.cases.ask(c, actor="hegseth", question="Which launch unit?", now=_at("2025-06-20"))
    world.cases.reply(c, actor="ua.liaison", answer="Unit 3", now=_at("2025-06-27"))
    _answer(world, a, "2025-06-23")
    h = submit("H", "2025-06-30")
    d = submit("D", "2025-07-01")
    _answer(world, c, "2025-07-01")
    b = submit("B", "2025-07-03")
    e = submit("E", "2025-07-07")
    _answer(world, b, "2025-07-09")
    _answer(world, d, "2025-07-15", approve=False)
    i = submit("I", "2025-07-21")
    world.cases.ask(i, actor="hegseth", question="Which target?", now=_at("2025-07-25"))
    f = submit("F", "2025-07-28")
    _answer(world, e, "2025-08-04")
    _answer(world, f, "2025-08-04")
    submit("G", "2025-08-04")
    steps = world.cases.escalate(actor=ADMIN, now=NOW)
    assert [(s.case.number, s.step.step) for s in steps] == [(number["H"], n) for n in (1, 2, 3)]
    assert world.cases.view(h, actor=ADMIN).case.state == "in_review"
    return number


def _report(world: World, actor: str = ADMIN, **period: Any) -> WaitingReport:
    return waiting_report(world.store, world.cases.clocks, actor=actor, now=NOW, **period)


def _office(report: WaitingReport, office: str = "us.secdef") -> dict[str, Any]:
    (found,) = [o.as_dict() for o in report.offices if o.office == office]
    return found


def test_each_office_is_counted_in_its_working_days_exactly(world: World) -> None:
    number = _history(world)
    report = _report(world)
    assert [o.office for o in report.offices] == ["us.secdef"]
    assert _office(report) == {
        "office": "us.secdef",
        "decided": 6,
        "median_days": 5.0,
        "p90_days": 20,
        "longest_waiting": {
            "case_number": number["H"],
            "case_id": world.cases.view(str(number["H"]), actor=ADMIN).case.id,
            "days": 33,
        },
        "overdue": 1,
        "escalated": 1,
    }
    assert [m.as_dict() for m in report.months] == [
        {"month": "2025-06", "decided": 1, "median_days": 4.0, "p90_days": 4},
        {"month": "2025-07", "decided": 3, "median_days": 5.0, "p90_days": 9},
        {"month": "2025-08", "decided": 2, "median_days": 12.5, "p90_days": 20},
    ]
    assert report.level is Level.UNCLASSIFIED
    shown = report.as_dict()
    assert (shown["from"], shown["to"], shown["classification"]) == (None, None, "UNCLASSIFIED")


@pytest.mark.parametrize(
    ("day", "days"),
    [
        ("2025-06-23", 4),  # across Juneteenth and a weekend
        ("2025-07-01", 5),  # ten working days, five of them stopped by a question
        ("2025-07-09", 3),  # across Independence Day and a weekend
        ("2025-07-15", 9),  # a denial counts as an answer
    ],
)
def test_one_answer_at_a_time(world: World, day: str, days: int) -> None:
    _history(world)
    only = dt.date.fromisoformat(day)
    figures = _office(_report(world, first=only, last=only))
    assert (figures["decided"], figures["median_days"], figures["p90_days"]) == (1, days, days)


def test_the_period_bounds_answers_and_escalations_but_not_what_waits_now(world: World) -> None:
    number = _history(world)
    july = _report(world, first=dt.date(2025, 7, 1), last=dt.date(2025, 7, 31))
    figures = _office(july)
    assert (figures["decided"], figures["median_days"], figures["p90_days"]) == (3, 5.0, 9)
    assert figures["escalated"] == 0, "the ladder's steps were recorded on 15 August"
    assert figures["longest_waiting"]["case_number"] == number["H"]
    assert figures["overdue"] == 1
    assert [m.month for m in july.months] == ["2025-07"]
    assert july.as_dict()["from"] == "2025-07-01"
    after = _report(world, first=dt.date(2025, 8, 5))
    assert (_office(after)["decided"], _office(after)["median_days"]) == (0, None)
    assert _office(after)["escalated"] == 1
    assert after.months == ()


def test_months_without_an_answer_are_shown_empty(world: World) -> None:
    early, _ = world.cases.submit(G2, actor="ua.liaison", now=_at("2025-06-16"))
    late, _ = world.cases.submit(G2, actor="ua.liaison", now=_at("2025-08-04"))
    _answer(world, early.id, "2025-06-17")
    _answer(world, late.id, "2025-08-05")
    assert [(m.month, m.decided, m.median_days) for m in _report(world).months] == [
        ("2025-06", 1, 1.0),
        ("2025-07", 0, None),
        ("2025-08", 1, 1.0),
    ]


@pytest.fixture
def readers(world: World, world_keys: dict[str, tuple[str, Signer]]) -> World:
    """A CONFIDENTIAL and a SECRET auditor; the liaison and the Secretary cleared SECRET."""
    accounts = Accounts(world.store, token_days=30)
    for user in ("ua.liaison", "hegseth"):
        accounts.set_access(
            user, roles=(Role.REQUESTER,), clearance=Level.SECRET, actor="admin", now=T0
        )
    for user, level in (("conf.auditor", Level.CONFIDENTIAL), ("sec.auditor", Level.SECRET)):
        world.people.add_user(
            user_id=user,
            name=user,
            party="US",
            public_key=world_keys["usdp"][0],
            actor="admin",
            now=T0,
            roles=(Role.AUDITOR,),
            clearance=level,
        )
    return world


def test_a_confidential_auditor_never_counts_a_secret_case(readers: World) -> None:
    world = readers
    number = _history(world)
    secret, _ = world.cases.submit(
        G2, actor="ua.liaison", now=_at("2025-06-02"), classification=int(Level.SECRET)
    )
    _answer(world, secret.id, "2025-07-31")  # 41 working days (Juneteenth, 4 July): July
    waiting, _ = world.cases.submit(
        G2, actor="ua.liaison", now=_at("2025-05-01"), classification=int(Level.SECRET)
    )
    world.cases.escalate(actor=ADMIN, now=NOW)

    confidential = _report(world, "conf.auditor")
    figures = _office(confidential)
    assert (figures["decided"], figures["median_days"], figures["p90_days"]) == (6, 5.0, 20)
    assert (figures["overdue"], figures["escalated"]) == (1, 1)
    assert figures["longest_waiting"]["case_number"] == number["H"]
    assert confidential.months[1].as_dict() == {
        "month": "2025-07",
        "decided": 3,
        "median_days": 5.0,
        "p90_days": 9,
    }
    assert confidential.level is Level.UNCLASSIFIED
    text = repr(confidential.as_dict())
    assert secret.id not in text
    assert waiting.id not in text
    assert "SECRET" not in text

    cleared = _report(world, "sec.auditor")
    figures = _office(cleared)
    assert (figures["decided"], figures["p90_days"]) == (7, 41)
    assert (figures["overdue"], figures["escalated"]) == (2, 2)
    assert figures["longest_waiting"]["case_number"] == waiting.number
    assert cleared.months[1].decided == 4
    assert cleared.level is Level.SECRET
    assert cleared.as_dict()["classification"] == "SECRET"
    assert _office(_report(world)) == figures, "the local operator sees everything"


def test_only_auditors_read_the_report(world: World) -> None:
    with pytest.raises(PermissionDenied, match="this needs the auditor role"):
        _report(world, "ua.liaison")
    with pytest.raises(PermissionDenied, match="this needs the auditor role"):
        _report(world, "hegseth")
    with pytest.raises(NotFoundError, match="unknown user 'nobody'"):
        _report(world, "nobody")


@pytest.mark.parametrize(
    ("first", "last", "field", "words"),
    [
        ("2025-13-01", None, "from", "'2025-13-01' is not a date of the calendar"),
        ("yesterday", None, "from", "must be a date written YYYY-MM-DD"),
        (None, "1899-12-31", "to", "outside the dates clearance takes"),
        (None, "2025-06-31", "to", "not a date of the calendar"),
    ],
)
def test_a_period_that_is_not_one_is_refused_naming_the_field(
    first: str | None, last: str | None, field: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        period(first, last)
    assert caught.value.where == field
    assert words in caught.value.message
    assert "\n" not in caught.value.message


def test_a_period_that_ends_before_it_begins_is_refused(world: World) -> None:
    assert period("", None) == (None, None)
    with pytest.raises(InputError) as caught:
        _report(world, first=dt.date(2025, 7, 2), last=dt.date(2025, 7, 1))
    assert caught.value.where == "from"
    assert caught.value.message == "from: 2025-07-02 is after the end of the period, 2025-07-01"


@given(st.lists(st.integers(0, 400), min_size=1, max_size=60))
def test_the_90th_percentile_is_a_time_taken_and_never_below_the_median(
    times: list[int],
) -> None:
    high = p90(times)
    assert high in times
    assert high >= statistics.median(times)
    assert sum(t <= high for t in times) * 10 >= 9 * len(times)
    assert sum(t < high for t in times) * 10 < 9 * len(times), "the smallest such time"


_CASES = st.lists(
    st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(0, 40)), st.booleans()),
    min_size=1,
    max_size=5,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=_CASES)
def test_adding_a_case_never_takes_a_decision_away(
    cases: list[tuple[int, int | None, bool]],
    tmp_path_factory: pytest.TempPathFactory,
    screener: Screener,
    system_key: SystemKey,
    world_keys: dict[str, tuple[str, Signer]],
) -> None:
    """Cases submitted on generated days, answered (or not) some days later: after each,
    no count falls, the month counts add up to the office's, and p90 ≥ median."""
    root = tmp_path_factory.mktemp("waiting")
    database = open_database(f"sqlite:///{root / 'clearance.db'}")
    database.migrate()
    store = Store(database, sealer=system_key)
    people = People(store, screener.catalog)
    for user, party in (("ua.liaison", "UA"), ("hegseth", "US")):
        people.add_user(
            user_id=user,
            name=user,
            party=party,
            public_key=world_keys[user][0],
            actor="admin",
            now=T0,
        )
    people.grant(
        user_id="hegseth",
        authority="us.secdef",
        valid_from=dt.date(2025, 1, 25),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    keys = {user: signer for user, (_, signer) in world_keys.items()}
    world = World(store, CaseService(store, screener, default_sla_days=14), people, keys)
    try:
        before = 0
        start = _at("2025-06-02")
        for offset, delay, approve in cases:
            case, _ = world.cases.submit(
                G2, actor="ua.liaison", now=start + dt.timedelta(days=offset)
            )
            if delay is not None:
                when = start + dt.timedelta(days=offset + delay, hours=1)
                _answer(world, case.id, when.date().isoformat(), approve=approve)
            report = waiting_report(
                world.store, world.cases.clocks, actor=ADMIN, now=_at("2025-09-30")
            )
            (figures,) = report.offices
            assert figures.decided >= before
            before = figures.decided
            assert sum(m.decided for m in report.months) == figures.decided
            assert min(figures.overdue, figures.escalated) >= 0
            for row in (figures, *report.months):
                if row.decided:
                    assert row.p90_days is not None
                    assert row.median_days is not None
                    assert row.p90_days >= row.median_days >= 0
    finally:
        database.dispose()


# The command line ---------------------------------------------------------------------------


def test_the_command_line_reports_waiting_as_a_table_json_and_a_file(cli: Cli) -> None:
    cli("users", "add", "inspector", "--name", "Inspector", "--party", "US")
    cli("users", "access", "inspector", "--role", "auditor")
    g2 = cli.file("g2.json", G2)
    cli("cases", "submit", g2, "--as", "ua.liaison")
    cli("cases", "submit", g2, "--as", "ua.liaison")
    cli("cases", "deny", "1", "--as", "secdef", "--reason", "Escalation risk")

    shown = cli.json("report", "waiting", "--as", "inspector")
    (office,) = shown["offices"]
    assert (office["office"], office["decided"], office["overdue"]) == ("us.secdef", 1, 0)
    assert office["median_days"] == office["p90_days"] <= 1  # answered the day it came
    assert office["longest_waiting"]["case_number"] == 2
    assert [m["decided"] for m in shown["months"]] == [1]
    assert (shown["from"], shown["to"], shown["classification"]) == (None, None, "UNCLASSIFIED")

    table = cli("report", "waiting", "--from", "2025-01-01").stdout
    assert "time to decision per office" in table
    assert "answers from 2025-01-01 on" in table
    assert "us.secdef" in table
    assert "case 2" in table

    page = cli.tmp / "waiting.html"
    cli("report", "waiting", "--as", "inspector", "--html", str(page))
    html = page.read_text(encoding="utf-8")
    assert "<td>us.secdef</td>" in html
    assert "<svg" in html
    assert "90th percentile" in html
    assert "case 2:" in html
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="', html), "no external resource"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--from", "2025-13-01"), "error: --from: '2025-13-01' is not a date of the calendar"),
        (("--to", "1899-12-31"), "error: --to: 1899-12-31 is outside the dates clearance takes"),
        (
            ("--from", "2025-09-01", "--to", "2025-08-01"),
            "error: --from: 2025-09-01 is after the end of the period, 2025-08-01",
        ),
        (("--as", "ua.liaison"), "error: this needs the auditor role"),
        (("--as", "nobody"), "error: unknown user 'nobody'"),
    ],
)
def test_the_command_line_refuses_in_one_line(cli: Cli, args: tuple[str, ...], line: str) -> None:
    refused = cli("report", "waiting", *args, ok=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith(line)
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_report_file_that_cannot_be_written_is_one_line_naming_it(cli: Cli) -> None:
    folder = cli.tmp / "here"
    folder.mkdir()
    refused = cli("report", "waiting", "--html", str(folder), ok=False)
    assert (refused.returncode, refused.stderr.strip()) == (
        2,
        f"error: {folder}: is a folder, not a file",
    )
    missing = cli.tmp / "no" / "such" / "file.html"
    refused = cli("report", "waiting", "--html", str(missing), ok=False)
    assert refused.stderr.startswith(f"error: {missing}: cannot be written")
    assert len(refused.stderr.strip().splitlines()) == 1


# The API and the page, over the demo world -----------------------------------------------------


@pytest.fixture
def demo(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    """The demo world (cases 1, SECRET, and 2, CONFIDENTIAL, in review for the Secretary for
    45 days) with case 2 denied now, and an auditor cleared CONFIDENTIAL."""
    with open_api(tmp_path / "data", seeded) as api:
        server = api.server
        public, _ = new_key_pair(DEMO_PASSWORD)
        server.people.add_user(
            user_id="conf.auditor",
            name="Auditor cleared CONFIDENTIAL",
            party="US",
            public_key=public,
            actor=ADMIN,
            now=server.now(),
        )
        server.accounts.set_access(
            "conf.auditor",
            roles=(Role.AUDITOR,),
            clearance=Level.CONFIDENTIAL,
            actor=ADMIN,
            now=server.now(),
        )
        server.accounts.set_password("conf.auditor", DEMO_PASSWORD, actor=ADMIN, now=server.now())
        denied = api.as_user("secdef").post(
            "/api/v1/cases/2/deny", json={"reason": "No", "passphrase": DEMO_PASSWORD}
        )
        assert denied.status_code == 200, denied.text
        yield api


def _same_but_when(body: dict[str, Any], report: WaitingReport) -> None:
    assert {k: v for k, v in body.items() if k != "at"} == {
        k: v for k, v in report.as_dict().items() if k != "at"
    }


def test_the_api_gives_auditors_the_report_of_what_they_may_see(demo: Api) -> None:
    body = demo.as_user("auditor").get("/api/v1/reports/waiting").json()
    _same_but_when(body, demo.server.waiting_report(actor="auditor"))
    (office,) = body["offices"]
    assert office["decided"] == 1
    assert office["median_days"] == office["p90_days"]
    assert 25 <= office["p90_days"] <= 33, "45 days in review: its weekdays less holidays"
    assert office["longest_waiting"]["case_number"] == 1
    assert office["overdue"] == 1
    assert body["classification"] == "SECRET"

    confidential = demo.as_user("conf.auditor").get("/api/v1/reports/waiting")
    assert confidential.status_code == 200
    body = confidential.json()
    (office,) = body["offices"]
    assert (office["decided"], office["longest_waiting"], office["overdue"]) == (1, None, 0)
    assert body["classification"] == "CONFIDENTIAL"
    assert demo.case_id(1) not in confidential.text
    assert "SECRET" not in confidential.text

    july = demo.as_user("auditor").get("/api/v1/reports/waiting", params={"to": "2025-07-31"})
    assert (july.json()["to"], july.json()["offices"][0]["decided"]) == ("2025-07-31", 0)


def test_the_api_refuses_who_is_not_an_auditor_and_a_period_that_is_not_one(demo: Api) -> None:
    refused = demo.as_user("ua.liaison").get("/api/v1/reports/waiting")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert demo.client().get("/api/v1/reports/waiting").status_code == 401
    bad = demo.as_user("auditor").get("/api/v1/reports/waiting", params={"from": "2025-02-30"})
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "invalid_input",
        "message": "from: '2025-02-30' is not a date of the calendar",
        "field": "from",
    }


def test_the_page_shows_an_auditor_the_table_and_the_chart(demo: Api) -> None:
    page, _ = demo.signed_in("auditor")
    response = page.get("/reports/waiting")
    assert response.status_code == 200
    html = response.text
    assert '<code class="office">us.secdef</code>' in html
    assert '<a href="/cases/1">Case 1</a>' in html
    assert '<span class="tag tag--overdue">1 overdue</span>' in html
    chart = html[html.index('<svg class="chart chart--waiting"') : html.index("</svg>")]
    assert 'role="img"' in chart
    assert "<title id=" in chart
    assert "<desc id=" in chart
    assert "style=" not in chart
    assert 'id="months"' in html, "the chart's figures as a table"
    assert 'class="banner__level">SECRET<' in html

    confidential, _ = demo.signed_in("conf.auditor")
    html = confidential.get("/reports/waiting").text
    assert 'class="banner__level">CONFIDENTIAL<' in html
    assert "/cases/1" not in html


def test_the_page_refuses_a_requester_and_names_a_wrong_field(demo: Api) -> None:
    requester, _ = demo.signed_in("ua.liaison")
    assert requester.get("/reports/waiting").status_code == 403
    auditor, _ = demo.signed_in("auditor")
    wrong = auditor.get("/reports/waiting", params={"from": "2025-09-01", "to": "2025-08-01"})
    assert wrong.status_code == 400
    assert "from: 2025-09-01 is after the end of the period, 2025-08-01" in wrong.text
    assert 'id="from" name="from" type="date"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    assert 'id="offices"' not in wrong.text
