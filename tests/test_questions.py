"""Questions to the requester: the case waits in a state of its own, its clock stopped, both
sides on the ledger; and escalation steps fire once each, in order, on their day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.core.actors import ADMIN
from clearance.core.chain import EventType
from clearance.core.events import EscalationReached
from clearance.core.working_days import Calendar, DayCount, Limit, days_between
from clearance.errors import IllegalTransition, InputError, NotFoundError, PermissionDenied
from clearance.service import audit
from clearance.service.inbox import inbox
from clearance.store.models import Case

from .api_support import Api, open_api
from .cli_support import Cli
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    postgresql_template,
    seeded,
    sqlite_template,
)
from .worlds import G2, G5, T0, World

US = Limit(20, DayCount.WORKING, Calendar("US"))
MONDAY = dt.datetime(2025, 6, 16, 9, 0, tzinfo=dt.UTC)


def _types(world: World, case_id: str) -> list[str]:
    return [e["type"] for e in world.cases.view(case_id, actor=ADMIN).as_dict(T0)["events"]]


def test_a_question_stops_the_clock_until_answered(world: World) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    due = case.due_at
    # 20 US working days after Monday 16 June, less Juneteenth and 4 July: Wednesday 16 July,
    # so the case is overdue from the first moment of the 17th.
    assert due == dt.datetime(2025, 7, 17, tzinfo=dt.UTC)

    asked_at = dt.datetime(2025, 6, 20, 10, tzinfo=dt.UTC)  # working day 3 (19th: Juneteenth)
    waiting = world.cases.ask(case.id, actor="hegseth", question="Which launch unit?", now=asked_at)
    assert waiting.case.state == "awaiting_answer"
    assert waiting.case.due_at is None, "no clock runs while the requester is asked"
    shown = waiting.as_dict(asked_at)["clocks"]
    assert [(c["office"], c["stopped"], c["elapsed_days"]) for c in shown] == [
        ("us.secdef", True, 3)
    ]
    with pytest.raises(IllegalTransition):  # nobody decides a case waiting for its answer
        world.cases.answer(
            case.id,
            actor="hegseth",
            approve=True,
            reason="",
            signer=world.keys["hegseth"],
            now=asked_at,
        )

    answered_at = dt.datetime(2025, 6, 27, 15, tzinfo=dt.UTC)  # five working days later
    back = world.cases.reply(case.id, actor="ua.liaison", answer="Unit 3", now=answered_at)
    assert back.case.state == "in_review"
    assert back.case.due_at is not None
    assert days_between(US, due.date(), back.case.due_at.date()) == 5
    assert back.case.due_at == dt.datetime(2025, 7, 24, tzinfo=dt.UTC)
    assert _types(world, case.id)[-4:] == [
        "question_asked",
        "case_state_changed",
        "question_answered",
        "case_state_changed",
    ]
    assert audit.verify(world.store).ok


def test_who_may_ask_and_who_may_answer(world: World) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    with pytest.raises(PermissionDenied, match="requester cannot ask"):
        world.cases.ask(case.id, actor="ua.liaison", question="?", now=MONDAY)
    with pytest.raises(PermissionDenied, match="reviewer, or a holder"):
        world.cases.ask(case.id, actor="usdp", question="Why?", now=MONDAY)
    with pytest.raises(InputError, match="question: must say something"):
        world.cases.ask(case.id, actor="hegseth", question="   ", now=MONDAY)
    with pytest.raises(IllegalTransition, match="not waiting for an answer"):
        world.cases.reply(case.id, actor="ua.liaison", answer="early", now=MONDAY)
    world.cases.ask(case.id, actor="hegseth", question="Which unit?", now=MONDAY)
    with pytest.raises(PermissionDenied, match="only the requester"):
        world.cases.reply(case.id, actor="hegseth", answer="mine", now=MONDAY)
    with pytest.raises(InputError, match="answer: must be at most 4000"):
        world.cases.reply(case.id, actor="ua.liaison", answer="x" * 4001, now=MONDAY)
    assert _types(world, case.id).count("question_answered") == 0


def test_a_question_waits_in_the_requesters_inbox_not_the_secretarys(world: World) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    clocks = world.cases.clocks

    def kinds(user: str, at: dt.datetime) -> list[tuple[str, int | None]]:
        return [
            (i.kind, i.case.number if i.case else None)
            for i in inbox(world.store, actor=user, now=at, clocks=clocks)
        ]

    assert kinds("hegseth", MONDAY) == [("decide", case.number)]
    world.cases.ask(case.id, actor="hegseth", question="Which unit?", now=MONDAY)
    assert kinds("hegseth", MONDAY) == []
    item = inbox(world.store, actor="ua.liaison", now=MONDAY, clocks=clocks)
    assert [(i.kind, i.title.startswith("Which unit?")) for i in item] == [
        ("answer_question", True)
    ]
    world.cases.reply(case.id, actor="ua.liaison", answer="Unit 3", now=MONDAY)
    assert kinds("ua.liaison", MONDAY) == []
    (decide,) = inbox(world.store, actor="hegseth", now=MONDAY, clocks=clocks)
    assert decide.due == world.cases.view(case.id, actor=ADMIN).case.due_at


def _steps(world: World, case_id: str) -> list[tuple[int, str]]:
    events = world.cases.view(case_id, actor=ADMIN).events
    return [
        (p.step, p.tell)
        for p in (e.event.payload for e in events if e.type == EventType.ESCALATION_REACHED)
        if isinstance(p, EscalationReached)
    ]


def test_escalation_steps_fire_once_each_in_order_on_their_day(world: World) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    # 10 US working days from Monday 16 June (less Juneteenth): Tuesday 1 July.
    day_9 = dt.datetime(2025, 6, 30, 23, tzinfo=dt.UTC)
    day_10 = dt.datetime(2025, 7, 1, 0, 5, tzinfo=dt.UTC)
    assert world.cases.escalate(actor=ADMIN, now=day_9) == []
    made = world.cases.escalate(actor=ADMIN, now=day_10)
    assert [(m.case.number, m.step.step, m.step.tell) for m in made] == [(case.number, 1, "office")]
    assert world.cases.escalate(actor=ADMIN, now=day_10) == [], "each step once"
    long_after = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)  # past 30 working days
    made = world.cases.escalate(actor=ADMIN, now=long_after)
    assert [(m.step.step, m.step.tell) for m in made] == [(2, "us.president"), (3, "oversight")]
    assert _steps(world, case.id) == [(1, "office"), (2, "us.president"), (3, "oversight")]
    assert world.cases.escalate(actor=ADMIN, now=long_after) == []
    assert audit.verify(world.store).ok


def test_a_stopped_clock_does_not_climb_and_an_answered_gate_stops_climbing(
    world: World,
) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    world.cases.ask(case.id, actor="hegseth", question="Which unit?", now=MONDAY)
    assert world.cases.escalate(actor=ADMIN, now=MONDAY + dt.timedelta(days=60)) == []
    world.cases.reply(case.id, actor="ua.liaison", answer="3", now=MONDAY + dt.timedelta(days=60))
    world.cases.answer(
        case.id,
        actor="hegseth",
        approve=False,
        reason="No",
        signer=world.keys["hegseth"],
        now=MONDAY + dt.timedelta(days=61),
    )
    assert world.cases.escalate(actor=ADMIN, now=MONDAY + dt.timedelta(days=200)) == []


def test_escalation_is_run_by_a_known_user_only(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.cases.escalate(actor="nobody", now=MONDAY)


def test_a_due_date_changed_in_the_database_is_caught(world: World) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    world.cases.submit(G5, actor="us.liaison", now=MONDAY)
    with world.store.transaction() as tx:
        row = tx._session.get(Case, case.id)  # type: ignore[attr-defined]
        row.due_at = row.due_at + dt.timedelta(days=365)
    report = audit.verify(world.store)
    assert not report.ok
    assert any("due_at" in str(f) for f in report.findings)


def test_the_command_line_asks_answers_and_escalates(cli: Cli) -> None:
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    asked = cli.json("cases", "ask", "1", "--as", "secdef", "--question", "Which launch unit?")
    assert asked["state"] == "awaiting_answer"
    assert asked["due_at"] is None
    assert [c["stopped"] for c in asked["clocks"]] == [True]
    assert [i["kind"] for i in cli.json("inbox", "--as", "ua.liaison")] == ["answer_question"]
    assert "answer the question: Which launch unit?" in cli("inbox", "--as", "ua.liaison").stdout
    shown = cli("cases", "show", "1").stdout
    assert "stopped (waiting for the requester's answer)" in shown
    assert "asked the requester" in shown
    refused = cli("cases", "reply", "1", "--as", "secdef", "--answer", "x", ok=False)
    assert refused.returncode != 0
    assert "only the requester" in refused.stderr
    empty = cli("cases", "ask", "1", "--as", "secdef", "--question", " ", ok=False)
    assert empty.stderr.count("\n") == 1
    back = cli.json("cases", "reply", "1", "--as", "ua.liaison", "--answer", "Unit 3")
    assert back["state"] == "in_review"
    assert back["due_at"] is not None
    # Submitted now: no step of the Secretary's ladder has come due yet.
    assert cli.json("cases", "escalate", "--as", "secdef") == []
    assert "escalated: 0 step(s) recorded" in cli("cases", "escalate", "--as", "secdef").stdout


@pytest.fixture
def demo(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def test_the_api_asks_and_answers_and_refuses_in_the_users_words(demo: Api) -> None:
    secdef, liaison = demo.as_user("secdef"), demo.as_user("ua.liaison")
    asked = secdef.post("/api/v1/cases/1/questions", json={"question": "Which unit?"})
    assert asked.status_code == 200, asked.text
    assert asked.json()["state"] == "awaiting_answer"
    again = secdef.post("/api/v1/cases/1/questions", json={"question": "And?"})
    assert again.status_code == 409
    wrong = secdef.post("/api/v1/cases/1/answer", json={"answer": "mine"})
    assert wrong.status_code == 403
    assert wrong.json()["message"] == "only the requester can answer a question on a case"
    huge = liaison.post("/api/v1/cases/1/answer", json={"answer": "x" * 5000})
    assert huge.status_code == 422
    assert huge.json()["field"] == "answer"
    answered = liaison.post("/api/v1/cases/1/answer", json={"answer": "Unit 3"})
    assert answered.status_code == 200
    body = answered.json()
    assert body["state"] == "in_review"
    assert [c["office"] for c in body["clocks"]] == ["us.secdef"]
    assert body["clocks"][0]["limit"] == "20 working days"
    types = [e["type"] for e in body["events"]]
    assert types[-4:] == [
        "question_asked",
        "case_state_changed",
        "question_answered",
        "case_state_changed",
    ]
