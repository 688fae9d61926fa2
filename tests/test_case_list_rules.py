"""The rules of reading many cases at once (``store.case_lists``): which cases a page,
a count, the overdue and lapsed lists and the dashboard's figures hold, and in what order.

One small world of five cases, made once for the file:

1. a SECRET Ukrainian use of ATACMS, by ``ua.secret`` at 09:00, in review, due 16 July;
2. a CONFIDENTIAL use of Storm Shadow, by ``ua.secret`` at 10:00, in review, due 16 July;
3. an UNCLASSIFIED use of ATACMS in December 2024, by ``ua.liaison`` at 11:00, approved;
4. the US sale of five ERAM, by ``us.liaison`` at 12:00, approved on a condition, its
   approval lapsing at the start of 16 June 2027;
5. an UNCLASSIFIED use of ATACMS, by ``ua.liaison`` at 13:00, denied by the Secretary at
   14:00.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clearance.core.access import Level
from clearance.core.actors import ADMIN
from clearance.core.decision import UnreadableDecision
from clearance.core.workflow import OPEN_STATES
from clearance.errors import DamagedRecord
from clearance.store.case_lists import CaseOrder, CaseSearch
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord

from .small_worlds import keys, small_world
from .worlds import G1, G2, G3, G5, T0, World

H = dt.timedelta(hours=1)
DUE = dt.datetime(2025, 7, 16, tzinfo=dt.UTC)
LAPSES = dt.datetime(2027, 6, 16, tzinfo=dt.UTC)
OPEN = sorted(OPEN_STATES)


@dataclass
class Listed:
    world: World
    ids: dict[int, str]


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listed]:
    with small_world(tmp_path_factory.mktemp("case-lists")) as world:
        world.people.add_user(
            user_id="ua.secret",
            name="ua.secret",
            party="UA",
            public_key=keys()["ua.liaison"][0],
            actor=ADMIN,
            now=T0,
            clearance=Level.SECRET,
        )
        submit = world.cases.submit
        made = [
            submit(G2, actor="ua.secret", now=T0, classification=int(Level.SECRET)),
            submit(G3, actor="ua.secret", now=T0 + H, classification=int(Level.CONFIDENTIAL)),
            submit(G1, actor="ua.liaison", now=T0 + 2 * H),
            submit({**G5, "quantity": 5}, actor="us.liaison", now=T0 + 3 * H),
            submit(G2, actor="ua.liaison", now=T0 + 4 * H),
        ]
        ids = {case.number: case.id for case, _ in made}
        world.cases.answer(
            ids[5],
            actor="hegseth",
            approve=False,
            reason="Escalation risk",
            signer=keys()["hegseth"][1],
            now=T0 + 5 * H,
        )
        yield Listed(world, ids)


def numbers(cases: list[CaseRecord]) -> list[int]:
    return [c.number for c in cases]


@pytest.fixture
def tx(listed: Listed) -> Iterator[Transaction]:
    with listed.world.store.reading() as read:
        yield read


def test_the_world_is_as_the_docstring_says(tx: Transaction) -> None:
    """The five cases, their states, levels and clocks."""
    found = [
        (c.number, str(c.state), c.classification, c.submitted_by, c.due_at, c.expires_at)
        for c in tx.cases.page()
    ]
    assert found == [
        (1, "in_review", 2, "ua.secret", DUE, None),
        (2, "in_review", 1, "ua.secret", DUE, None),
        (3, "approved", 0, "ua.liaison", None, None),
        (4, "approved_with_conditions", 0, "us.liaison", None, LAPSES),
        (5, "denied", 0, "ua.liaison", None, None),
    ]


# A page --------------------------------------------------------------------------


def test_a_page_is_oldest_first_or_newest_first(tx: Transaction) -> None:
    """By the time of submission, unless told otherwise."""
    assert numbers(tx.cases.page()) == [1, 2, 3, 4, 5]
    assert numbers(tx.cases.page(newest_first=True)) == [5, 4, 3, 2, 1]


def test_a_page_is_limit_cases_after_offset(tx: Transaction) -> None:
    """``limit`` and ``offset`` cut the page."""
    assert numbers(tx.cases.page(limit=2, offset=1)) == [2, 3]
    assert numbers(tx.cases.page(limit=2, offset=4)) == [5]


def test_the_open_states_are_those_still_waiting_on_someone(tx: Transaction) -> None:
    """Open: in review, or approved on a condition still to be met."""
    assert numbers(tx.cases.page(states=OPEN)) == [1, 2, 4]
    assert numbers(tx.cases.page(states=["denied", "approved"])) == [3, 5]
    assert numbers(tx.cases.page(states=["in_review"])) == [1, 2]


def test_a_page_leaves_out_cases_above_the_level(tx: Transaction) -> None:
    """``max_level`` leaves out what is classified above it; TOP SECRET leaves out nothing."""
    assert numbers(tx.cases.page(max_level=int(Level.UNCLASSIFIED))) == [3, 4, 5]
    assert numbers(tx.cases.page(max_level=int(Level.CONFIDENTIAL))) == [2, 3, 4, 5]
    assert numbers(tx.cases.page(max_level=int(Level.SECRET))) == [1, 2, 3, 4, 5]
    assert numbers(tx.cases.page(max_level=int(Level.TOP_SECRET))) == [1, 2, 3, 4, 5]


def test_a_page_of_one_submitters_cases(tx: Transaction) -> None:
    """``submitted_by`` keeps a requester's own cases."""
    assert numbers(tx.cases.page(submitted_by="ua.liaison")) == [3, 5]


@pytest.mark.parametrize(
    ("search", "found"),
    [
        (CaseSearch(systems=("eram",), parties=(), text=""), [4]),
        (CaseSearch(systems=(), parties=("US",), text=""), [4]),
        (CaseSearch(systems=(), parties=(), text="ua.secret"), [1, 2]),
        (CaseSearch(systems=(), parties=(), text="", number=3), [3]),
        (CaseSearch(systems=("storm-shadow",), parties=("US",), text="", number=5), [2, 4, 5]),
        (CaseSearch(systems=(), parties=(), text="nobody"), []),
    ],
    ids=["system", "requester", "submitter", "number", "any of them", "none"],
)
def test_a_search_finds_a_case_by_any_of_its_facts(
    tx: Transaction, search: CaseSearch, found: list[int]
) -> None:
    """A case matching any one of the search's facts is found."""
    assert numbers(tx.cases.page(search=search)) == found
    assert tx.cases.count(search=search) == len(found)


def test_a_search_by_term_finds_the_cases_of_a_territory(tx: Transaction) -> None:
    """The terms (territory, region, recipient, office, policy, in lower case) find what
    they name: Ukraine is the sale's recipient, Russia the other cases' territory."""
    recipient = CaseSearch(systems=(), parties=(), text="", terms=("ua",))
    assert numbers(tx.cases.page(search=recipient)) == [4]
    territory = CaseSearch(systems=(), parties=(), text="", terms=("ru",))
    assert numbers(tx.cases.page(search=territory)) == [1, 2, 3, 5]
    none = CaseSearch(systems=(), parties=(), text="", terms=("no such term",))
    assert numbers(tx.cases.page(search=none)) == []


# Orders --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "ascending", "descending"),
    [
        (CaseOrder.NUMBER, [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]),
        (CaseOrder.DATE, [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]),
        (CaseOrder.STATE, [1, 2, 4, 3, 5], [5, 3, 4, 2, 1]),
        (CaseOrder.WAITING, [5, 4, 3, 2, 1], [1, 2, 3, 4, 5]),
    ],
    ids=["number", "date", "state", "waiting"],
)
def test_a_page_is_sorted_by_what_it_is_asked(
    tx: Transaction, order: CaseOrder, ascending: list[int], descending: list[int]
) -> None:
    """By number, by date, along the workflow (open states first), or by how long a case
    has waited in its state (the least first); reversed when descending."""
    assert numbers(tx.cases.page(order=order)) == ascending
    assert numbers(tx.cases.page(order=order, newest_first=True)) == descending


def test_ties_are_broken_by_number_in_the_direction_asked(tx: Transaction) -> None:
    """Cases 1 and 2 are both in review: by number, either way."""
    assert numbers(tx.cases.page(order=CaseOrder.STATE, states=["in_review"])) == [1, 2]
    by_state = tx.cases.page(order=CaseOrder.STATE, states=["in_review"], newest_first=True)
    assert numbers(by_state) == [2, 1]


def test_each_reads_every_case_in_the_states_a_batch_at_a_time(
    tx: Transaction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every case, oldest first, whatever the batch; read a page of ``batch`` at a time,
    each from where the last ended, until a page comes back empty."""
    pages = tx.cases.page
    asked: list[tuple[int | None, int]] = []

    def page(**options: Any) -> list[CaseRecord]:
        asked.append((options.get("limit"), options.get("offset", 0)))
        return pages(**options)

    monkeypatch.setattr(tx.cases, "page", page)
    assert numbers(list(tx.cases.each(states=OPEN, batch=2))) == [1, 2, 4]
    assert asked == [(2, 0), (2, 2), (2, 3)]
    monkeypatch.undo()
    assert numbers(list(tx.cases.each(states=OPEN, batch=2))) == [1, 2, 4]
    assert numbers(list(tx.cases.each(states=["denied"], batch=1))) == [5]
    assert numbers(list(tx.cases.each(states=["in_review", "approved", "denied"]))) == [1, 2, 3, 5]


# Counts --------------------------------------------------------------------------


def test_a_count_counts_what_a_page_would_hold(tx: Transaction) -> None:
    """The same filters as a page."""
    assert tx.cases.count() == 5
    assert tx.cases.count(states=OPEN) == 3
    assert tx.cases.count(max_level=int(Level.UNCLASSIFIED)) == 3
    assert tx.cases.count(submitted_by="ua.secret") == 2
    assert tx.cases.count(states=["in_review"], max_level=int(Level.CONFIDENTIAL)) == 1


def test_a_count_stops_at_most_where_told(tx: Transaction) -> None:
    """``at_most`` caps the count, so a broad search stays cheap."""
    assert tx.cases.count(at_most=2) == 2
    assert tx.cases.count(at_most=9) == 5
    assert tx.cases.count(states=["denied"], at_most=2) == 1


def test_the_offices_that_answered_each_case(listed: Listed, tx: Transaction) -> None:
    """The Secretary answered case 5; nobody answered case 1; no cases asked, none told."""
    assert tx.cases.answered([listed.ids[1], listed.ids[5]]) == {
        listed.ids[1]: set(),
        listed.ids[5]: {"us.secdef"},
    }
    assert tx.cases.answered([]) == {}


# Overdue and lapsed ------------------------------------------------------------------


def test_cases_in_review_are_overdue_from_the_moment_they_are_due(tx: Transaction) -> None:
    """Due at the start of 16 July: overdue then, not a moment before."""
    assert numbers(tx.cases.overdue(now=DUE)) == [1, 2]
    assert numbers(tx.cases.overdue(now=DUE - dt.timedelta(seconds=1))) == []
    assert tx.cases.count_overdue(now=DUE) == 2
    assert tx.cases.count_overdue(now=DUE - dt.timedelta(seconds=1)) == 0


def test_the_overdue_list_takes_the_filters_the_order_and_the_page(tx: Transaction) -> None:
    """The level, the submitter and the search filter it; an order sorts it; a page cuts it."""
    assert numbers(tx.cases.overdue(now=DUE, max_level=int(Level.CONFIDENTIAL))) == [2]
    assert numbers(tx.cases.overdue(now=DUE, submitted_by="ua.liaison")) == []
    g3 = CaseSearch(systems=("storm-shadow",), parties=(), text="")
    assert numbers(tx.cases.overdue(now=DUE, search=g3)) == [2]
    assert numbers(tx.cases.overdue(now=DUE, order=(CaseOrder.NUMBER, True))) == [2, 1]
    assert numbers(tx.cases.overdue(now=DUE, limit=1)) == [1]
    assert numbers(tx.cases.overdue(now=DUE, limit=1, offset=1)) == [2]
    assert tx.cases.count_overdue(now=DUE, max_level=int(Level.CONFIDENTIAL)) == 1
    assert tx.cases.count_overdue(now=DUE, submitted_by="ua.secret") == 2
    assert tx.cases.count_overdue(now=DUE, submitted_by="ua.liaison") == 0
    assert tx.cases.count_overdue(now=DUE, search=g3) == 1


def test_lapsed_approvals_come_earliest_first_at_most_limit(tmp_path: Path) -> None:
    """Two lapsed sales: the one whose approval lapsed first comes first, whatever its
    number; ``limit`` keeps the earliest."""
    with small_world(tmp_path) as world:
        eram = {**G5, "quantity": 5}
        later, _ = world.cases.submit(eram, actor="us.liaison", now=T0)
        earlier, _ = world.cases.submit(eram, actor="us.liaison", now=T0 - dt.timedelta(days=2))
        with world.store.reading() as read:
            assert (later.number, earlier.number) == (1, 2)
            assert numbers(read.cases.lapsed(now=LAPSES)) == [2, 1]
            assert numbers(read.cases.lapsed(now=LAPSES, limit=1)) == [2]


def test_only_cases_in_review_are_overdue_whatever_a_row_says_of_its_due_time(
    tmp_path: Path,
) -> None:
    """A row out of review that still holds a due time (written by an older version, or
    by hand) is not overdue: the list and its count read the state, not the clock alone."""
    with small_world(tmp_path) as world:
        reviewed, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
        settled, _ = world.cases.submit(G1, actor="ua.liaison", now=T0)
        assert (reviewed.due_at, settled.state) == (DUE, "approved")
        with world.store.database.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE cases SET due_at = :due WHERE id = :id"),
                {"due": reviewed.due_at, "id": settled.id},
            )
        with world.store.reading() as read:
            assert numbers(read.cases.overdue(now=DUE)) == [reviewed.number]
            assert read.cases.count_overdue(now=DUE) == 1


def test_approvals_that_lapse_at_one_moment_come_by_number(tmp_path: Path) -> None:
    with small_world(tmp_path) as world:
        eram = {**G5, "quantity": 5}
        made = [world.cases.submit(eram, actor="us.liaison", now=T0)[0] for _ in range(3)]
        assert len({c.expires_at for c in made}) == 1
        with world.store.database.engine.begin() as connection:  # numbered against their ids
            for case, number in zip(made, (3, 1, 2), strict=True):
                connection.execute(
                    sa.text("UPDATE cases SET number = :n WHERE id = :id"),
                    {"n": number + 100, "id": case.id},
                )
        with world.store.reading() as read:
            assert numbers(read.cases.lapsed(now=LAPSES)) == [101, 102, 103]


def test_lapsed_approvals_are_found_past_pages_of_damaged_ones(tmp_path: Path) -> None:
    """Expiry asks a page at a time: a page whose cases' decisions no longer read is read
    past, however many such pages come first, and only the readable ones come back."""
    with small_world(tmp_path) as world:
        eram = {**G5, "quantity": 5}
        made = [
            world.cases.submit(eram, actor="us.liaison", now=T0 - dt.timedelta(days=days))[0]
            for days in (4, 3, 2, 1)
        ]
        with world.store.database.engine.begin() as connection:
            for case in made[:3]:
                connection.execute(
                    sa.text("UPDATE cases SET decision = '[]' WHERE id = :id"), {"id": case.id}
                )
        with world.store.reading() as read:
            for limit in (1, 2, 3, 500):
                assert numbers(read.cases.lapsed(now=LAPSES, limit=limit)) == [4], limit


def test_an_approval_has_lapsed_from_the_moment_it_expires(tx: Transaction) -> None:
    """Lapsed at the start of 16 June 2027, not a moment before; at most ``limit``."""
    assert numbers(tx.cases.lapsed(now=LAPSES)) == [4]
    assert numbers(tx.cases.lapsed(now=LAPSES - dt.timedelta(seconds=1))) == []
    assert numbers(tx.cases.lapsed(now=LAPSES, limit=0)) == []


# The dashboard ---------------------------------------------------------------------


def test_open_cases_are_summed_by_state_and_age(tx: Transaction) -> None:
    """``(state, bucket, count, highest level)``: bucket ``i`` holds the cases younger than
    ``bucket_days[i]`` days, the last those older than every bound."""
    on_the_day = sorted(tx.cases.open_summary(now=T0 + 5 * H, bucket_days=[1, 30]))
    assert on_the_day == [("approved_with_conditions", 0, 1, 0), ("in_review", 0, 2, 2)]
    a_day_on = sorted(tx.cases.open_summary(now=T0 + dt.timedelta(days=1), bucket_days=[1, 30]))
    assert a_day_on == [
        ("approved_with_conditions", 0, 1, 0),
        ("in_review", 0, 1, 1),
        ("in_review", 1, 1, 2),
    ]
    later = sorted(tx.cases.open_summary(now=T0 + dt.timedelta(days=40), bucket_days=[1, 30]))
    assert later == [("approved_with_conditions", 2, 1, 0), ("in_review", 2, 2, 2)]


def test_the_open_summary_takes_the_level_and_the_submitter(tx: Transaction) -> None:
    """What a reader may see, and only that."""
    now = T0 + 5 * H
    assert sorted(
        tx.cases.open_summary(now=now, bucket_days=[1], max_level=int(Level.CONFIDENTIAL))
    ) == [("approved_with_conditions", 0, 1, 0), ("in_review", 0, 1, 1)]
    assert tx.cases.open_summary(now=now, bucket_days=[1], submitted_by="ua.secret") == [
        ("in_review", 0, 2, 2)
    ]


def test_decisions_are_counted_by_month_and_kind(tx: Transaction) -> None:
    """``(YYYY-MM, kind, count, highest level)``, from the counts kept as cases are decided,
    from the month of ``since`` on."""
    assert sorted(tx.cases.decisions_by_month(since=T0)) == [
        ("2025-06", "approved", 1, 0),
        ("2025-06", "approved_with_conditions", 1, 0),
        ("2025-06", "denied", 1, 0),
    ]
    assert tx.cases.decisions_by_month(since=dt.datetime(2025, 7, 1, tzinfo=dt.UTC)) == []
    assert sorted(tx.cases.decisions_by_month(since=T0, max_level=0))[0] == (
        "2025-06",
        "approved",
        1,
        0,
    )


def test_one_submitters_decisions_are_counted_from_their_cases(tx: Transaction) -> None:
    """A requester's own decisions are read from their cases, decided since ``since``."""
    assert sorted(tx.cases.decisions_by_month(since=T0, submitted_by="ua.liaison")) == [
        ("2025-06", "approved", 1, 0),
        ("2025-06", "denied", 1, 0),
    ]
    at_the_denial = tx.cases.decisions_by_month(since=T0 + 5 * H, submitted_by="ua.liaison")
    assert at_the_denial == [("2025-06", "denied", 1, 0)]
    after = tx.cases.decisions_by_month(since=T0 + 5 * H + H / 60, submitted_by="ua.liaison")
    assert after == []
    assert tx.cases.decisions_by_month(since=T0, submitted_by="ua.secret") == []


def test_decisions_are_counted_in_each_month_of_their_own(tmp_path: Path) -> None:
    """Two approvals a month apart are two rows, one per month, by either read; a decision
    above the reader's level is left out of both."""
    with small_world(tmp_path) as world:
        world.people.add_user(
            user_id="ua.secret",
            name="ua.secret",
            party="UA",
            public_key=keys()["ua.liaison"][0],
            actor=ADMIN,
            now=T0,
            clearance=Level.SECRET,
        )
        july = T0 + dt.timedelta(days=30)
        world.cases.submit(G1, actor="ua.secret", now=T0)
        world.cases.submit(G1, actor="ua.secret", now=july, classification=int(Level.SECRET))
        with world.store.reading() as read:
            by_month = [("2025-06", "approved", 1, 0), ("2025-07", "approved", 1, 2)]
            assert sorted(read.cases.decisions_by_month(since=T0)) == by_month
            mine = read.cases.decisions_by_month(since=T0, submitted_by="ua.secret")
            assert sorted(mine) == by_month
            unclassified = [("2025-06", "approved", 1, 0)]
            assert read.cases.decisions_by_month(since=T0, max_level=0) == unclassified
            mine = read.cases.decisions_by_month(since=T0, submitted_by="ua.secret", max_level=0)
            assert mine == unclassified


def test_the_months_of_decisions_are_utc_months_whatever_the_servers_zone(
    tx: Transaction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two in the morning of 1 July UTC is still 30 June in New York: counting from it
    counts from July, which holds none of the June decisions."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        july = dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.UTC)
        assert tx.cases.decisions_by_month(since=july) == []
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_page_holds_fifty_cases_unless_told(tmp_path: Path) -> None:
    """Of 51 cases, a page holds the first 50, and ``each`` reads all 51."""
    with small_world(tmp_path) as world:
        for _ in range(51):
            world.cases.submit(G1, actor="ua.liaison", now=T0)
        with world.store.reading() as read:
            assert numbers(read.cases.page()) == list(range(1, 51))
            assert len(list(read.cases.each(states=["approved"]))) == 51


def test_a_listed_case_is_the_case_as_submitted(tmp_path: Path) -> None:
    """Every column reads back: a page's record is the very record the submission made,
    its idempotency key, outcome and decision included."""
    with small_world(tmp_path) as world:
        made, _ = world.cases.submit(G1, actor="ua.liaison", now=T0, idempotency_key="k-17")
        with world.store.reading() as read:
            [listed] = read.cases.page()
    assert listed == made
    assert listed.idempotency_key == "k-17"


@pytest.mark.parametrize(
    ("change", "part"), [("decision = '[]'", "decision"), ("state = 'bogus'", "state")]
)
def test_a_case_changed_outside_clearance_is_listed_and_refused_where_needed(
    tmp_path: Path, change: str, part: str
) -> None:
    """A decision that is no longer a JSON object is kept with why, a state column holding
    no case state as no state; the case is listed by its other columns, what no longer
    reads refused naming the case, and the sweeps leave it out."""
    with small_world(tmp_path) as world:
        made, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
        kept, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
        with world.store.database.engine.begin() as connection:
            connection.execute(
                sa.text(f"UPDATE cases SET {change} WHERE id = :id"), {"id": made.id}
            )
        with world.store.reading() as read:
            listed, other = read.cases.page()
            # The open states are read by ``is_open``, which a changed state leaves true.
            swept = list(read.cases.each(states=sorted(OPEN_STATES)))
    assert (listed.damaged, other.damaged) == (True, False)
    assert (listed.number, listed.request) == (made.number, made.request)
    if part == "decision":
        assert listed.stored_decision == UnreadableDecision("it is not a JSON object")
        assert listed.state == made.state
    else:
        assert listed.stored_state is None
        assert listed.decision == made.decision
    for needs in (lambda: getattr(listed, part), listed.check_readable):
        with pytest.raises(DamagedRecord) as refused:
            needs()
        assert str(refused.value) == (
            f"case {made.number}'s stored {part} cannot be read;"
            " 'clearance audit verify' names every record changed outside clearance"
        )
    assert other == kept
    assert swept == [kept]
