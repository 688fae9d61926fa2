"""The rules of the case facade (``service.cases``): one object composes every case use case
over the store, the screener and the view of the stock it was given, so each interface
reaches the same cases, clocks and stock through it.

Stated over one small world (built once for the file): the stock and clocks it exposes,
and the use cases it only hands on (lists, questions, commands, waivers, re-screening),
each used once through it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from clearance.core.actors import ADMIN
from clearance.core.working_days import Calendar, DayCount, Limit
from clearance.errors import NotFoundError
from clearance.service.access import Action
from clearance.service.case_queries import Turn
from clearance.service.cases import Gate, Rescreening

from .small_worlds import add_president, keys, own_service, screener, small_world
from .worlds import ATACMS, G2, G5, T0, World

NOTIFIED = dt.datetime(2025, 8, 28, 15, 0, tzinfo=dt.UTC)
FUNDING = "European partners fund the purchase"
IN_REVIEW_SALE = {**ATACMS, "quantity": 600, "value_usd": 825_000_000, "date": "2025-08-28"}
"""A US sale of 600 ATACMS: it leaves the stock red, so the Secretary reviews it, and its
value gives Congress a waiting period that the President may waive."""
DAY = T0 + dt.timedelta(days=1)
AUGUST = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
"""Past the Secretary's due date for a case submitted at T0, and past every escalation step."""
LATER = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
"""Past the expiry of every approval given at T0."""


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with small_world(tmp_path_factory.mktemp("case-service")) as world:
        add_president(world, keys()["usdp"][0])
        for clerk, party in (("ua.clerk", "UA"), ("us.clerk", "US")):
            world.people.add_user(
                user_id=clerk,
                name=clerk,
                party=party,
                public_key=keys()["ua.liaison"][0],
                actor=ADMIN,
                now=T0,
            )
        yield world


@pytest.fixture
def small(people: World) -> World:
    return own_service(people)


def test_the_facade_holds_the_store_and_screener_it_was_given(small: World) -> None:
    assert small.cases.store is small.store
    assert small.cases.screener is screener()


def test_its_stock_reads_what_its_submissions_moved(small: World) -> None:
    """The ERAM sale commits five from the US stock, as the facade's stock view reads it."""
    on = T0.date()
    before = small.cases.stock.balance("US", "eram", on)
    small.cases.submit({**G5, "quantity": 5}, actor="us.liaison", now=T0)
    after = small.cases.stock.balance("US", "eram", on)
    assert before is not None
    assert after is not None
    assert after.available == before.available - 5


def test_its_clocks_count_an_offices_working_days_in_its_partys_calendar(small: World) -> None:
    limit = small.cases.clocks.working_days_of("us.secdef")
    assert limit == Limit(1, DayCount.WORKING, Calendar("US", limit.calendar.closures))
    assert limit.calendar.closures == screener().pack.closures.get("US", frozenset())


def test_a_question_and_its_answer_go_through_the_facade(small: World) -> None:
    """The Secretary asks of the ATACMS use; the liaison answers; the case is back in review."""
    case, _ = small.cases.submit(G2, actor="ua.liaison", now=T0)
    day = T0 + dt.timedelta(days=1)
    asked = small.cases.ask(case.id, actor="hegseth", question="Which launchers?", now=day)
    assert asked.case.state == "awaiting_answer"
    replied = small.cases.reply(
        case.id, actor="ua.liaison", answer="Two HIMARS", now=day + dt.timedelta(days=2)
    )
    assert replied.case.state == "in_review"
    assert replied.case.due_at == case.due_at + dt.timedelta(days=2)


def test_a_waiver_goes_through_the_facade(small: World) -> None:
    """The President waives the waiting period of an $825M ATACMS sale still in review: the
    case is shown with the Secretary's clock still running."""
    case, _ = small.cases.submit(IN_REVIEW_SALE, actor="us.liaison", now=NOTIFIED)
    assert case.state == "in_review"
    view = small.cases.waive(
        case.id,
        actor="potus",
        reason="An emergency exists",
        signer=keys()["usdp"][1],
        now=dt.datetime(2025, 9, 2, 12, 0, tzinfo=dt.UTC),
    )
    period = view.waiting_period()
    assert period is not None
    assert (period["waived"], period["waived_by"]) == (True, "potus")
    assert [c.office for c in view.clocks] == ["us.secdef"]


def test_a_waiver_is_offered_to_the_office_the_policy_names_while_the_period_holds(
    small: World,
) -> None:
    """The President may waive the sale's waiting period, as the page offers him; not the
    Secretary, who reviews it, nor the liaison, nor anyone once it is waived or has ended."""
    case, _ = small.cases.submit(IN_REVIEW_SALE, actor="us.liaison", now=NOTIFIED)
    during = dt.datetime(2025, 9, 2, 12, 0, tzinfo=dt.UTC)
    offered = {
        actor: small.cases.moves(case.id, actor=actor, now=during).waive
        for actor in ("potus", "hegseth", "us.liaison")
    }
    assert offered == {"potus": True, "hegseth": False, "us.liaison": False}
    assert (
        small.cases.moves(case.id, actor="potus", now=dt.datetime(2025, 12, 1, tzinfo=dt.UTC)).waive
        is False
    )
    small.cases.waive(
        case.id, actor="potus", reason="An emergency exists", signer=keys()["usdp"][1], now=during
    )
    assert small.cases.moves(case.id, actor="potus", now=during).waive is False


def test_the_readers_of_cases_go_through_the_facade(small: World) -> None:
    """Who sees the clerk's ATACMS use, whom it waits for, what the Secretary may do, and
    how lists, counts and escalations find it once overdue."""
    case, _ = small.cases.submit(G2, actor="ua.clerk", now=T0)
    assert small.cases.seen_by("ua.clerk", [case]) == {case.id}
    assert small.cases.seen_by("us.liaison", [case]) == set()
    found, total = small.cases.page(
        actor="ua.clerk", states=None, limit=10, offset=0, query="Army Tactical"
    )
    assert ([c.id for c in found], total) == ([case.id], 1)
    assert small.cases.waiting_for([case], actor="ua.clerk") == {
        case.id: Turn(("us.secdef",), False)
    }
    # Whom a case waits for is the case's to tell: not to a reader who may not see it.
    assert small.cases.waiting_for([case], actor="us.liaison") == {}
    moves = small.cases.moves(case.id, actor="hegseth", now=DAY)
    assert (moves.answer, moves.ask, moves.withdraw) == (
        (Gate("us.secdef", False, None),),
        True,
        False,
    )
    small.cases.rehearse(case.id, Action.CASE_WITHDRAW, actor="ua.clerk", now=DAY)
    with pytest.raises(NotFoundError) as hidden:
        small.cases.rehearse(case.id, Action.CASE_WITHDRAW, actor="us.liaison", now=DAY)
    assert hidden.value.message == f"no case '{case.id}'"
    assert small.cases.open_summary(actor="ua.clerk", now=DAY, bucket_days=(7,)) == [
        ("in_review", 0, 1, 0)
    ]
    assert [c.id for c in small.cases.overdue(AUGUST, actor="ua.clerk")] == [case.id]
    assert small.cases.count_overdue(AUGUST, actor="ua.clerk") == 1
    steps = small.cases.escalate(actor=ADMIN, now=AUGUST)
    assert [(e.step.step, e.step.tell) for e in steps if e.case.id == case.id] == [
        (1, "office"),
        (2, "us.president"),
        (3, "oversight"),
    ]
    escalated = small.cases.escalated(actor="ua.clerk", now=AUGUST)
    assert [(e.case.id, e.step.step) for e in escalated] == [(case.id, 3)]


def test_the_commands_of_a_transfer_go_through_the_facade(small: World) -> None:
    """The US clerk withdraws one sale (its stock released), carries out another, and a
    third lapses: each recorded, and counted among the clerk's decisions."""
    withdrawn, _ = small.cases.submit({**ATACMS, "quantity": 10}, actor="us.clerk", now=T0)
    view = small.cases.withdraw(withdrawn.id, actor="us.clerk", reason="", now=DAY)
    assert view.case.state == "withdrawn"
    assert [e.type for e in view.events][-2:] == ["case_state_changed", "stock_moved"]
    executed, _ = small.cases.submit({**G5, "quantity": 5}, actor="us.clerk", now=T0)
    small.cases.condition_met(
        executed.id, actor="us.clerk", condition=FUNDING, evidence="paid", now=DAY
    )
    view = small.cases.execute(executed.id, actor="us.clerk", quantity=None, now=DAY)
    assert view.case.state == "executed"
    assert [e.type for e in view.events][-3:] == [
        "case_executed",
        "case_state_changed",
        "stock_moved",
    ]
    lapsing, _ = small.cases.submit({**G5, "quantity": 4}, actor="us.clerk", now=T0)
    assert small.cases.decisions_by_month(actor="us.clerk", since=T0 - DAY) == [
        ("2025-06", "approved", 1, 0),
        ("2025-06", "approved_with_conditions", 2, 0),
    ]
    expired = small.cases.expire(actor=ADMIN, now=LATER)
    mine = {withdrawn.id, executed.id, lapsing.id}
    assert [(c.id, c.state) for c in expired if c.id in mine] == [(lapsing.id, "expired")]


def test_rescreening_goes_through_the_facade(small: World) -> None:
    """Nothing changes when the open cases (a transfer in review among them, judged again on
    the stock) are judged again under the same pack; a bundle that took effect since the
    record began is told."""
    small.cases.submit({**ATACMS, "quantity": 600}, actor="us.clerk", now=T0)
    assert small.cases.rescreen(actor=ADMIN, now=DAY) == Rescreening((), (), ())
    assert small.cases.bundle_took_effect(now=LATER)
