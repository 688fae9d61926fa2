"""The rules of how cases move stock (``service.stock_moves``) and of the stock tables that
keep the movements and running totals (``store.stock``), through the case service and the
store, each with exact quantities, days and refusals.

Each test has a world of its own, copied from one made once per process (a stock rule reads
absolute balances, and a shared world's stock would be what the tests before it left). The
seed pack tracks the US stock of ATACMS (1,000 on hand, a requirement of 700) and of ERAM
(5,000), and the Ukrainian stock of ATACMS (40); nobody's stock of Storm Shadow but the
British.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import importlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN, SYSTEM
from clearance.core.events import StockMoved
from clearance.core.stockpile import Balance, Movement, MovementKind
from clearance.core.workflow import CaseState
from clearance.errors import InputError
from clearance.service.accounts import Accounts
from clearance.service.cases import CaseService
from clearance.service.collector import collector_paused
from clearance.service.people import People
from clearance.service.stock_moves import case_movements
from clearance.store import stock
from clearance.store.db import open_database
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

from .small_worlds import keys, screener, small_world, system_key
from .worlds import ATACMS, G2, G5, T0, World

DAY = T0 + dt.timedelta(days=1)
LATER = T0 + dt.timedelta(days=3)
USE = {**G2, "target": {"territory": "UA"}}
"""A Ukrainian use of two ATACMS on its own territory: approved at once."""


@functools.cache
def _template() -> bytes:
    """A small world's database, made once per process."""
    with tempfile.TemporaryDirectory() as folder:
        with small_world(Path(folder)):
            pass
        return (Path(folder) / "clearance.db").read_bytes()


@pytest.fixture(autouse=True)
def statements_built_by_the_code_under_test() -> None:
    """``store.stock`` builds its SQL once, at import; built again for every test, so that a
    run that imports the module before it chooses the code to test (mutation testing) tests
    the statements of that code, and counts every test as reaching them."""
    importlib.reload(stock)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "clearance.db"
    path.write_bytes(_template())
    database = open_database(f"sqlite:///{path}")
    try:
        store = Store(database, sealer=system_key())
        yield World(
            store,
            CaseService(store, screener(), default_sla_days=14),
            People(store, screener().catalog),
            {user: signer for user, (_, signer) in keys().items()},
        )
    finally:
        database.dispose()


def balance(world: World, holder: str, system: str) -> Balance | None:
    """The position's balance after every movement recorded."""
    return world.cases.stock.balance(holder, system, dt.date.max)


def moved(
    world: World, case: CaseRecord
) -> list[tuple[str, dt.datetime, list[tuple[object, ...]]]]:
    """The case's ``stock_moved`` events: who, when, and each movement."""
    with world.store.reading() as tx:
        events = [e.event for e in tx.ledger.of_case(case.id)]
    return [
        (
            e.actor,
            e.at,
            [(m.holder, m.system, m.kind.value, m.quantity, m.day) for m in e.payload.movements],
        )
        for e in events
        if isinstance(e.payload, StockMoved)
    ]


def of_case(world: World, case: CaseRecord) -> list[Movement]:
    with world.store.reading() as tx:
        return tx.stock.of_case(case.id)


def committed_by(world: World, case: CaseRecord) -> int:
    with world.store.reading() as tx:
        return tx.stock.committed_by_case(case.id)


def answer(world: World, case: CaseRecord, actor: str, now: dt.datetime = DAY) -> None:
    world.cases.answer(
        case.id, actor=actor, approve=True, reason="", signer=world.keys[actor], now=now
    )


# How cases move stock -------------------------------------------------------------


def test_a_transfer_approved_at_screening_commits_its_quantity_from_the_giver(
    world: World,
) -> None:
    """Committed on the day of the move (not the request's), by the system that screened it."""
    case, _ = world.cases.submit({**ATACMS, "quantity": 100}, actor="us.liaison", now=T0)
    assert str(case.state) == "approved"
    assert balance(world, "US", "atacms") == Balance(1000, 100)
    assert balance(world, "UA", "atacms") == Balance(40, 0)
    day = T0.date()
    assert moved(world, case) == [(SYSTEM, T0, [("US", "atacms", "commit", 100, day)])]
    assert of_case(world, case) == [
        Movement("US", "atacms", MovementKind.COMMIT, 100, day, case.id)
    ]
    assert committed_by(world, case) == 100


def test_a_transfer_in_review_commits_nothing_until_its_last_approval(world: World) -> None:
    """Leaving the US yellow, the transfer waits on the Under Secretary; his approval commits."""
    case, _ = world.cases.submit({**ATACMS, "quantity": 250}, actor="us.liaison", now=T0)
    assert str(case.state) == "in_review"
    assert (moved(world, case), of_case(world, case)) == ([], [])
    assert balance(world, "US", "atacms") == Balance(1000, 0)
    answer(world, case, "usdp")
    assert balance(world, "US", "atacms") == Balance(1000, 250)
    assert moved(world, case) == [("usdp", DAY, [("US", "atacms", "commit", 250, DAY.date())])]


def test_a_draw_delivers_what_was_done_and_releases_as_much_of_the_commitment(
    world: World,
) -> None:
    """A part drawn releases the part; the draw that executes the case releases all that is
    left, whatever the last draw's size."""
    case, _ = world.cases.submit({**ATACMS, "quantity": 100}, actor="us.liaison", now=T0)
    world.cases.execute(case.id, actor="us.liaison", quantity=30, now=DAY)
    assert balance(world, "US", "atacms") == Balance(970, 70)
    assert balance(world, "UA", "atacms") == Balance(70, 0)
    assert committed_by(world, case) == 70
    world.cases.execute(case.id, actor="us.liaison", quantity=70, now=LATER)
    assert balance(world, "US", "atacms") == Balance(900, 0)
    assert balance(world, "UA", "atacms") == Balance(140, 0)
    assert committed_by(world, case) == 0
    day, later = DAY.date(), LATER.date()
    assert moved(world, case)[1:] == [
        (
            "us.liaison",
            DAY,
            [
                ("US", "atacms", "release", 30, day),
                ("US", "atacms", "transfer_out", 30, day),
                ("UA", "atacms", "transfer_in", 30, day),
            ],
        ),
        (
            "us.liaison",
            LATER,
            [
                ("US", "atacms", "release", 70, later),
                ("US", "atacms", "transfer_out", 70, later),
                ("UA", "atacms", "transfer_in", 70, later),
            ],
        ),
    ]


def test_a_part_drawn_releases_no_more_than_the_case_still_has_committed(world: World) -> None:
    """Stock committed by another case stays committed when this one is drawn on."""
    other, _ = world.cases.submit({**ATACMS, "quantity": 50}, actor="us.liaison", now=T0)
    case, _ = world.cases.submit({**ATACMS, "quantity": 40}, actor="us.liaison", now=T0)
    world.cases.execute(case.id, actor="us.liaison", quantity=10, now=DAY)
    assert balance(world, "US", "atacms") == Balance(990, 80)
    assert (committed_by(world, case), committed_by(world, other)) == (30, 50)


def test_a_withdrawn_transfer_releases_what_it_still_has_committed(world: World) -> None:
    case, _ = world.cases.submit({**ATACMS, "quantity": 100}, actor="us.liaison", now=T0)
    world.cases.execute(case.id, actor="us.liaison", quantity=40, now=DAY)
    world.cases.withdraw(case.id, actor="us.liaison", reason="", now=LATER)
    assert balance(world, "US", "atacms") == Balance(960, 0)
    assert moved(world, case)[-1] == (
        "us.liaison",
        LATER,
        [("US", "atacms", "release", 60, LATER.date())],
    )
    assert [m.kind for m in of_case(world, case)] == [
        MovementKind.COMMIT,
        MovementKind.RELEASE,
        MovementKind.TRANSFER_OUT,
        MovementKind.TRANSFER_IN,
        MovementKind.RELEASE,
    ]


def test_a_transfer_withdrawn_before_it_committed_moves_nothing(world: World) -> None:
    case, _ = world.cases.submit({**ATACMS, "quantity": 250}, actor="us.liaison", now=T0)
    world.cases.withdraw(case.id, actor="us.liaison", reason="", now=DAY)
    assert (moved(world, case), balance(world, "US", "atacms")) == ([], Balance(1000, 0))


def test_a_cleared_sale_moves_nothing_until_it_is_drawn_on(world: World) -> None:
    """The ERAM sale commits when approved on its condition; meeting the condition moves
    nothing; its delivery makes the receiver's stock of ERAM tracked."""
    case, _ = world.cases.submit({**G5, "quantity": 5}, actor="us.liaison", now=T0)
    world.cases.condition_met(
        case.id,
        actor="us.liaison",
        condition="European partners fund the purchase",
        evidence="paid",
        now=DAY,
    )
    assert len(moved(world, case)) == 1
    assert balance(world, "UA", "eram") is None
    world.cases.execute(case.id, actor="us.liaison", quantity=2, now=LATER)
    assert balance(world, "US", "eram") == Balance(4998, 3)
    assert balance(world, "UA", "eram") == Balance(2, 0)


def test_a_use_drawn_on_consumes_what_was_used_and_commits_nothing(world: World) -> None:
    case, _ = world.cases.submit(USE, actor="ua.liaison", now=T0)
    assert (str(case.state), moved(world, case)) == ("approved", [])
    world.cases.execute(case.id, actor="ua.liaison", quantity=1, now=DAY)
    assert balance(world, "UA", "atacms") == Balance(39, 0)
    world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=LATER)
    assert balance(world, "UA", "atacms") == Balance(38, 0)
    assert moved(world, case) == [
        ("ua.liaison", DAY, [("UA", "atacms", "consume", 1, DAY.date())]),
        ("ua.liaison", LATER, [("UA", "atacms", "consume", 1, LATER.date())]),
    ]
    assert of_case(world, case) == [
        Movement("UA", "atacms", MovementKind.CONSUME, 1, DAY.date(), case.id),
        Movement("UA", "atacms", MovementKind.CONSUME, 1, LATER.date(), case.id),
    ]


def test_a_use_beyond_what_is_on_hand_is_refused_naming_it_and_nothing_moves(
    world: World,
) -> None:
    case, _ = world.cases.submit({**USE, "quantity": 41}, actor="ua.liaison", now=T0)
    with world.store.reading() as tx:
        head = tx.ledger.head()
    with pytest.raises(InputError) as refused:
        world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=DAY)
    assert (refused.value.where, refused.value.problem) == (
        "quantity",
        "UA has 40 'atacms' on hand; cannot use 41",
    )
    assert balance(world, "UA", "atacms") == Balance(40, 0)
    with world.store.reading() as tx:
        assert tx.ledger.head() == head


def test_a_delivery_beyond_what_is_on_hand_is_refused_naming_it(world: World) -> None:
    """The stock on hand fell after the transfer committed (a use outside any case here)."""
    case, _ = world.cases.submit({**ATACMS, "quantity": 100}, actor="us.liaison", now=T0)
    with world.store.transaction() as tx:
        tx.stock.add(
            [Movement("US", "atacms", MovementKind.CONSUME, 950, T0.date())], at=T0, actor=ADMIN
        )
    with pytest.raises(InputError) as refused:
        world.cases.execute(case.id, actor="us.liaison", quantity=60, now=DAY)
    assert refused.value.problem == "US has 50 'atacms' on hand; cannot deliver 60"
    assert balance(world, "US", "atacms") == Balance(50, 100)


def test_an_untracked_position_does_not_move(world: World) -> None:
    """Storm Shadow is tracked for GB, not for UA: UA's use of it moves nothing."""
    case, _ = world.cases.submit({**USE, "system": "storm-shadow"}, actor="ua.liaison", now=T0)
    world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=DAY)
    assert (moved(world, case), balance(world, "UA", "storm-shadow")) == ([], None)


@pytest.mark.parametrize(
    ("request_", "state", "moves"),
    [
        (USE, CaseState.APPROVED, []),
        (USE, CaseState.IN_REVIEW, []),
        (USE, CaseState.WITHDRAWN, []),
        (ATACMS, CaseState.WITHDRAWN, [("US", "atacms", "release", 100, DAY.date())]),
        (ATACMS, CaseState.APPROVED_WITH_CONDITIONS, [("US", "atacms", "commit", 100, DAY.date())]),
    ],
    ids=[
        "use-approved",
        "use-in-review",
        "use-withdrawn",
        "transfer-withdrawn",
        "transfer-approved",
    ],
)
def test_only_a_draw_moves_what_was_done(
    world: World, request_: dict[str, object], state: CaseState, moves: list[tuple[object, ...]]
) -> None:
    """A quantity given with a move that draws nothing moves nothing of it: a withdrawal
    releases what is committed, an approval commits what was asked."""
    actor = "ua.liaison" if request_ is USE else "us.liaison"
    case, _ = world.cases.submit(request_, actor=actor, now=T0)
    before = moved(world, case)
    with world.store.transaction() as tx:
        case_movements(
            tx, world.cases.stock, case.request, case_id=case.id, state=state, done=1,
            now=DAY, actor=actor,
        )  # fmt: skip
    assert moved(world, case)[len(before) :] == ([(actor, DAY, moves)] if moves else [])


def test_a_submission_denied_releases_nothing(world: World) -> None:
    """A case being submitted has committed nothing: its move reads no commitment."""
    case, _ = world.cases.submit({**ATACMS, "quantity": 100}, actor="us.liaison", now=T0)
    with world.store.transaction() as tx:
        event = case_movements(
            tx, world.cases.stock, case.request, case_id=case.id, state=CaseState.DENIED,
            done=None, now=DAY, actor=SYSTEM, submitted=True,
        )  # fmt: skip
    assert event is None
    assert balance(world, "US", "atacms") == Balance(1000, 100)


# The stock tables ---------------------------------------------------------------------

D1, D2, D3 = dt.date(2025, 1, 10), dt.date(2025, 2, 10), dt.date(2025, 3, 10)


def _record(world: World, *movements: Movement, actor: str = ADMIN, at: dt.datetime = T0) -> None:
    with world.store.transaction() as tx:
        tx.stock.add(list(movements), at=at, actor=actor)


def test_a_positions_total_is_its_movements_up_to_the_day_asked(world: World) -> None:
    """None before its first movement; the running total on or after its last."""
    _record(
        world,
        Movement("GB", "atacms", MovementKind.RECEIPT, 10, D1),
        Movement("GB", "atacms", MovementKind.COMMIT, 4, D1),
    )
    _record(world, Movement("GB", "atacms", MovementKind.TRANSFER_OUT, 3, D2))
    _record(world, Movement("GB", "atacms", MovementKind.RELEASE, 1, D3))
    with world.store.reading() as tx:
        total = functools.partial(tx.stock.total, "GB", "atacms")
        assert total(D1 - dt.timedelta(days=1)) is None
        assert total(D1) == (10, 4)
        assert total(D2 - dt.timedelta(days=1)) == (10, 4)
        assert total(D2) == (7, 4)
        assert total(D3) == total(D3 + dt.timedelta(days=1)) == total() == (7, 3)
        assert tx.stock.total("GB", "eram") is None
        assert tx.stock.total("GB", "eram", D3) is None


def test_the_totals_are_every_moved_positions_changes(world: World) -> None:
    """Two movements of one position in one write fold into one total; a second write adds."""
    _record(
        world,
        Movement("GB", "atacms", MovementKind.RECEIPT, 10, D1),
        Movement("GB", "atacms", MovementKind.CONSUME, 3, D1),
        Movement("FR", "atacms", MovementKind.TRANSFER_IN, 5, D1),
        Movement("GB", "eram", MovementKind.RECEIPT, 4, D1),
    )
    _record(world, Movement("GB", "atacms", MovementKind.COMMIT, 2, D2))
    _record(world)
    with world.store.reading() as tx:
        assert tx.stock.totals() == {
            ("GB", "atacms"): (7, 2),
            ("FR", "atacms"): (5, 0),
            ("GB", "eram"): (4, 0),
        }


def test_what_a_case_has_committed_is_its_commitments_less_its_releases(world: World) -> None:
    first, _ = world.cases.submit({**ATACMS, "quantity": 9}, actor="us.liaison", now=T0)
    second, _ = world.cases.submit({**ATACMS, "quantity": 5}, actor="us.liaison", now=T0)
    _record(
        world,
        Movement("US", "atacms", MovementKind.RELEASE, 4, D2, first.id),
        Movement("US", "atacms", MovementKind.TRANSFER_OUT, 4, D2, first.id),
    )
    with world.store.reading() as tx:
        assert tx.stock.committed_by_case(first.id) == 5
        assert tx.stock.committed_by_case(second.id) == 5
        assert tx.stock.committed_by_case("no such case") == 0
        assert [m.kind for m in tx.stock.of_case(first.id)] == [
            MovementKind.COMMIT,
            MovementKind.RELEASE,
            MovementKind.TRANSFER_OUT,
        ]


def test_a_positions_movements_are_newest_first_up_to_the_day_with_who_and_when(
    world: World,
) -> None:
    """By day, then by the order recorded; the case's level, 0 for a movement of no case."""
    Accounts(world.store).set_access(
        "us.liaison", roles=(Role.REQUESTER,), clearance=Level.SECRET, actor=ADMIN, now=T0
    )
    case, _ = world.cases.submit(
        {**ATACMS, "quantity": 10}, actor="us.liaison", now=T0, classification=int(Level.SECRET)
    )
    _record(world, Movement("US", "atacms", MovementKind.RECEIPT, 7, D2), actor="usdp", at=DAY)
    _record(
        world,
        Movement("US", "atacms", MovementKind.RECEIPT, 1, D1),
        Movement("US", "atacms", MovementKind.RECEIPT, 2, D1),
        Movement("UA", "atacms", MovementKind.RECEIPT, 3, D1),
        at=LATER,
    )
    with world.store.reading() as tx:
        rows = tx.stock.movements("US", "atacms")
        assert [r.id for r in rows] == [1, 2, 4, 3]
        assert [(r.movement.quantity, r.actor, r.at, r.classification) for r in rows] == [
            (10, SYSTEM, T0, int(Level.SECRET)),
            (7, "usdp", DAY, 0),
            (2, ADMIN, LATER, 0),
            (1, ADMIN, LATER, 0),
        ]
        assert rows[0].movement == Movement(
            "US", "atacms", MovementKind.COMMIT, 10, T0.date(), case.id
        )
        assert [r.movement.quantity for r in tx.stock.movements("US", "atacms", on=D2)] == [
            7,
            2,
            1,
        ]
        assert [r.movement.quantity for r in tx.stock.movements("US", "atacms", limit=2)] == [
            10,
            7,
        ]
        assert tx.stock.movements("US", "eram") == []


def test_a_positions_movements_are_fifty_unless_asked_for_more(world: World) -> None:
    _record(world, *[Movement("GB", "atacms", MovementKind.RECEIPT, n, D1) for n in range(1, 52)])
    with world.store.reading() as tx:
        assert [r.movement.quantity for r in tx.stock.movements("GB", "atacms")] == list(
            range(51, 1, -1)
        )
        assert len(tx.stock.movements("GB", "atacms", limit=51)) == 51


def _cycles_of_board(world: World, holders: frozenset[str] | None) -> tuple[int, int]:
    """How many positions the board of ``holders`` shows, and how many objects in reference
    cycles building it leaves."""
    world.cases.stock.board(on=DAY.date(), actor=ADMIN, holders=holders)  # queries compiled
    gc.collect()
    with collector_paused():
        board = world.cases.stock.board(on=DAY.date(), actor=ADMIN, holders=holders)
        return board.total, gc.collect()


def test_a_larger_board_makes_no_more_reference_cycles(world: World) -> None:
    """What lets the collector be paused while the board is built (``service.collector``):
    reference counting alone frees what each position makes."""
    few, cycles = _cycles_of_board(world, frozenset({"UA"}))
    every, cycles_of_every = _cycles_of_board(world, None)
    assert 0 < few < every
    assert cycles_of_every == cycles
