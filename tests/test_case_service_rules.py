"""The rules of the case facade (``service.cases``): one object composes every case use case
over the store, the screener and the view of the stock it was given, so each interface
reaches the same cases, clocks and stock through it.

Stated over one small world (built once for the file): the stock and clocks it exposes,
and the use cases it only hands on (questions, waivers), each used once through it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from clearance.core.actors import ADMIN
from clearance.core.working_days import Calendar, DayCount, Limit
from clearance.service.cases import CaseService

from .small_worlds import keys, screener, small_world
from .worlds import G2, G5, T0, World

NOTIFIED = dt.datetime(2025, 8, 28, 15, 0, tzinfo=dt.UTC)
FUNDING = "European partners fund the purchase"


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with small_world(tmp_path_factory.mktemp("case-service")) as world:
        world.people.add_user(
            user_id="potus",
            name="President",
            party="US",
            public_key=keys()["usdp"][0],
            actor=ADMIN,
            now=T0,
        )
        world.people.grant(
            user_id="potus",
            authority="us.president",
            valid_from=dt.date(2025, 1, 20),
            valid_to=None,
            actor=ADMIN,
            now=T0,
        )
        yield world


@pytest.fixture
def small(people: World) -> World:
    """The world with a case service of the test's own, so that every test builds one
    (mutation testing runs a test only for the code it reached)."""
    return dataclasses.replace(
        people, cases=CaseService(people.store, screener(), default_sla_days=14)
    )


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
    """The President waives the waiting period of the $825M ERAM sale."""
    case, _ = small.cases.submit({**G5, "value_usd": 825_000_000}, actor="us.liaison", now=NOTIFIED)
    small.cases.condition_met(
        case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=NOTIFIED
    )
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
