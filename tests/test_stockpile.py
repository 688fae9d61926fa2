"""Stockpile sufficiency: ratings at their boundaries, movements from cases, history, the CLI.

Ratings are pure arithmetic (``core.stockpile``), tested exactly at each
threshold and by properties; movements are tested through real cases on
SQLite and PostgreSQL; the commands through ``clearance`` as a user runs them.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.request import parse_request
from clearance.core.stockpile import (
    Balance,
    Delivery,
    Movement,
    MovementKind,
    NegativeStock,
    Position,
    Rating,
    Thresholds,
    add_months,
    assess,
    balance_of,
    months_to_recover,
    project,
)
from clearance.errors import InputError, PackError
from clearance.policy.engine import Screener
from clearance.policy.pack import default_pack_path, load_pack
from clearance.service.accounts import Accounts
from tests.cli_support import Cli, pin_the_commands_clock
from tests.worlds import ATACMS, G2, G5, T0, FreshStore, FreshWorld, World

DAY = dt.date(2025, 9, 1)


# ratings: exact boundaries ---------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "rating"),
    [(841, "green"), (840, "green"), (839, "yellow"), (700, "yellow"), (699, "red"), (-5, "red")],
)
def test_ratings_exactly_at_each_threshold(available: int, rating: str) -> None:
    assert Thresholds(120, 100).rate(available, 700) is Rating(rating)


def test_an_odd_requirement_rounds_the_green_level_up() -> None:
    # 120% of 7 is 8.4: 8 is below it, 9 is at or above it.
    thresholds = Thresholds(120, 100)
    assert thresholds.green_level(7) == 9
    assert thresholds.rate(8, 7) is Rating.YELLOW
    assert thresholds.rate(9, 7) is Rating.GREEN


def test_no_requirement_is_always_green_and_thresholds_must_be_in_order() -> None:
    assert Thresholds().rate(0, 0) is Rating.GREEN
    with pytest.raises(ValueError, match="out of order"):
        Thresholds(green_percent=90, yellow_percent=100)


def test_months_to_recover_counts_production_and_expected_deliveries() -> None:
    position = Position("US", "atacms", 700, 20, ())
    assert months_to_recover(position, 699, Thresholds(), DAY) == 8  # 699 + 8×20 = 859 ≥ 840
    assert months_to_recover(position, 840, Thresholds(), DAY) == 0
    assert months_to_recover(Position("US", "x", 700), 699, Thresholds(), DAY) is None
    lot = Position("US", "x", 700, 0, (Delivery(dt.date(2025, 11, 15), 200),))
    assert months_to_recover(lot, 699, Thresholds(), DAY) == 3  # arrives in the third month
    points = project(lot, 699, Thresholds(), DAY, 3)
    assert [p.available for p in points] == [699, 699, 699, 899]
    assert [p.rating for p in points][-1] is Rating.GREEN


def test_months_are_calendar_months_clipped_at_month_end() -> None:
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)


# properties ----------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=10**6)
thresholds = st.tuples(st.integers(0, 400), st.integers(0, 400)).map(
    lambda t: Thresholds(max(t), min(t))
)


@given(counts, counts, counts, st.integers(0, 10**6), thresholds, st.integers(0, 1000))
def test_a_transfer_never_improves_the_givers_rating(
    on_hand: int, committed: int, requirement: int, quantity: int, rule: Thresholds, made: int
) -> None:
    position = Position("US", "x", requirement, made)
    facts = assess(position, Balance(on_hand, committed), rule, quantity, DAY)
    assert facts.after.severity >= facts.now.severity
    more = assess(position, Balance(on_hand, committed), rule, quantity + 1, DAY)
    assert more.after.severity >= facts.after.severity
    if facts.months_to_recover is not None and more.months_to_recover is not None:
        assert more.months_to_recover >= facts.months_to_recover


movement_lists = st.lists(
    st.tuples(
        st.sampled_from(list(MovementKind)),
        st.integers(1, 500),
        st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ),
    max_size=25,
)


def _stored(movements: list[Movement], day: dt.date) -> tuple[int, int] | None:
    """What the store must give as a position's balance on ``day``: None before it moved."""
    if not any(m.on <= day for m in movements):
        return None
    expected = balance_of(movements, day)
    return (expected.on_hand, expected.committed)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    movement_lists,
    st.lists(st.dates(dt.date(2024, 12, 1), dt.date(2026, 1, 31)), min_size=1, max_size=6),
)
def test_the_rating_as_of_a_date_is_the_rating_of_the_movements_up_to_it(
    fresh_store: FreshStore, moves: list[tuple[MovementKind, int, dt.date]], days: list[dt.date]
) -> None:
    """Each example in a store of its own (the fixture only hands out a maker)."""
    movements = [Movement("US", "atacms", kind, q, day) for kind, q, day in moves]
    rule = Thresholds()
    with fresh_store() as store:
        with store.transaction() as tx:
            tx.stock.add(movements, at=T0, actor="test")
            # Read back in the transaction that holds them, as a submission's screening does.
            assert [tx.stock.total("US", "atacms", day) for day in days] == [
                _stored(movements, day) for day in days
            ]
        with store.reading() as tx:
            for day in days:
                stored = tx.stock.total("US", "atacms", day)
                expected = balance_of(movements, day)
                if not any(m.on <= day for m in movements):
                    assert stored is None  # not moved yet on that day
                    continue
                assert stored == (expected.on_hand, expected.committed)
                assert rule.rate(stored[0] - stored[1], 300) is rule.rate(expected.available, 300)
            if movements:
                whole = balance_of(movements)
                assert tx.stock.total("US", "atacms") == (whole.on_hand, whole.committed)
            else:
                assert tx.stock.total("US", "atacms") is None


def test_a_balance_never_goes_below_zero() -> None:
    with pytest.raises(NegativeStock):
        Balance(3, 0).after(-4, 0)
    with pytest.raises(NegativeStock):
        Balance(3, 1).after(0, -2)
    assert Balance(3, 1).after(-3, -1) == Balance(0, 0)


# thresholds are policy, and change on a date ----------------------------------------


def _pack_copy(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(default_pack_path(), root)
    return root


def test_thresholds_change_with_the_bundle_in_force(tmp_path: Path) -> None:
    root = _pack_copy(tmp_path)
    meta = root / "bundles/US/2025-08-28/bundle.yaml"
    meta.write_text(
        meta.read_text().replace(
            "{green_percent: 120, yellow_percent: 100}", "{green_percent: 150, yellow_percent: 110}"
        )
    )
    screener = Screener(load_pack(root))
    request = parse_request({**ATACMS, "quantity": 100})  # leaves 900 of 700: 128 %
    before = screener.decide(request, decision_id="a", now=T0, as_of=dt.date(2025, 8, 27))
    after = screener.decide(request, decision_id="b", now=T0, as_of=dt.date(2025, 8, 28))
    assert before.stockpile is not None
    assert after.stockpile is not None
    assert (before.stockpile.after, before.outcome.value) == (Rating.GREEN, "permitted")
    assert (after.stockpile.after, after.outcome.value) == (Rating.YELLOW, "review_required")
    assert after.stockpile.thresholds == Thresholds(150, 110)
    assert [a.authority for a in after.required_approvals] == ["us.usdp"]


@pytest.mark.parametrize(
    ("file", "old", "new", "where"),
    [
        (
            "bundles/US/2025-08-28/bundle.yaml",
            "{green_percent: 120, yellow_percent: 100}",
            "{green_percent: 90, yellow_percent: 100}",
            "bundles/US/2025-08-28/bundle.yaml: stockpile_thresholds: thresholds out of order",
        ),
        (
            "bundles/US/2025-08-28/bundle.yaml",
            "{green_percent: 120, yellow_percent: 100}",
            "{green_percent: 1.5, yellow_percent: 100}",
            "stockpile_thresholds.green_percent: must be a whole percent",
        ),
        ("stockpile.yaml", "on_hand: 1000", "on_hand: -3", "positions[0].on_hand: must be ≥ 0"),
        (
            "stockpile.yaml",
            "on_hand: 1000",
            "on_hand: 12.5",
            "positions[0].on_hand: must be a whole number",
        ),
        (
            "stockpile.yaml",
            "requirement: 700",
            "requirement: lots",
            "positions[0].requirement: must be a whole number",
        ),
        (
            "stockpile.yaml",
            "{holder: US, system: atacms",
            "{holder: XX, system: atacms",
            "positions[0].holder: unknown party 'XX'",
        ),
        (
            "stockpile.yaml",
            "{holder: US, system: atacms",
            "{holder: US, system: nosuch",
            "positions[0].system: unknown system 'nosuch'",
        ),
        (
            "stockpile.yaml",
            "{holder: US, system: eram",
            "{holder: US, system: atacms",
            "positions[1]: US already has a position for 'atacms'",
        ),
        (
            "stockpile.yaml",
            "quantity: 50}",
            "quantity: 0}",
            "positions[0].deliveries[0].quantity: must be ≥ 1",
        ),
        ("stockpile.yaml", "opened_on: 2022-02-24", "opened_on: someday", "opened_on"),
    ],
)
def test_bad_figures_and_thresholds_are_refused_naming_the_place(
    tmp_path: Path, file: str, old: str, new: str, where: str
) -> None:
    root = _pack_copy(tmp_path)
    path = root / file
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not once in {file}"
    path.write_text(text.replace(old, new))
    with pytest.raises(PackError) as caught:
        load_pack(root)
    assert where in str(caught.value)
    assert "\n" not in str(caught.value)


# cases move stock ------------------------------------------------------------------


def _stock(world: World, holder: str, system: str) -> Balance:
    balance = world.cases.stock.balance(holder, system, dt.date.max)
    assert balance is not None
    return balance


def test_an_approved_transfer_commits_and_its_execution_moves_stock(world: World) -> None:
    cases = world.cases
    case, _ = cases.submit({**ATACMS, "quantity": 150}, actor="us.liaison", now=T0)
    assert case.state == "approved"  # 850 available after: green
    assert _stock(world, "US", "atacms") == Balance(1000, 150)
    assert _stock(world, "UA", "atacms") == Balance(40, 0)

    later = T0 + dt.timedelta(days=3)
    cases.execute(case.id, actor="us.liaison", quantity=120, now=later)
    assert _stock(world, "US", "atacms") == Balance(880, 30)  # 30 still promised
    assert _stock(world, "UA", "atacms") == Balance(160, 0)
    cases.withdraw(case.id, actor="us.liaison", reason="the rest is not needed", now=later)
    assert _stock(world, "US", "atacms") == Balance(880, 0)  # the 30 not delivered are released
    with world.store.reading() as tx:
        assert [m.kind for m in tx.stock.of_case(case.id)] == [
            MovementKind.COMMIT,
            MovementKind.RELEASE,
            MovementKind.TRANSFER_OUT,
            MovementKind.TRANSFER_IN,
            MovementKind.RELEASE,
        ]


def test_committed_stock_feeds_the_next_decision(world: World) -> None:
    cases = world.cases
    first, _ = cases.submit({**ATACMS, "quantity": 150}, actor="us.liaison", now=T0)
    second, _ = cases.submit({**ATACMS, "quantity": 100}, actor="us.liaison", now=T0)
    facts = cases.view(second.id, actor=ADMIN).decision["stockpile"]
    assert (facts["available"], facts["available_after"]) == (850, 750)
    assert (facts["now"], facts["after"]) == ("green", "yellow")
    assert second.state == "in_review"
    assert [
        a["authority"] for a in cases.view(second.id, actor=ADMIN).decision["required_approvals"]
    ] == ["us.usdp"]
    # The Under Secretary approves: the stock is committed from that moment.
    cases.answer(
        second.id, actor="usdp", approve=True, reason="", signer=world.keys["usdp"], now=T0
    )
    assert _stock(world, "US", "atacms") == Balance(1000, 250)
    assert first.id != second.id


def test_a_withdrawn_approved_transfer_releases_its_commitment(world: World) -> None:
    case, _ = world.cases.submit({**ATACMS, "quantity": 150}, actor="us.liaison", now=T0)
    world.cases.withdraw(case.id, actor="us.liaison", reason="not needed", now=T0)
    assert _stock(world, "US", "atacms") == Balance(1000, 0)


def test_an_executed_use_consumes_the_users_stock_and_not_more(world: World) -> None:
    cases = world.cases
    use = {**G2, "target": {"territory": "UA"}, "quantity": 2}
    case, _ = cases.submit(use, actor="ua.liaison", now=T0)
    cases.execute(case.id, actor="ua.liaison", quantity=None, now=T0)
    assert _stock(world, "UA", "atacms") == Balance(38, 0)

    big, _ = cases.submit({**use, "quantity": 39}, actor="ua.liaison", now=T0)
    with world.store.reading() as tx:
        events_before = tx.ledger.head()
    with pytest.raises(InputError) as caught:
        cases.execute(big.id, actor="ua.liaison", quantity=None, now=T0)
    assert str(caught.value) == "quantity: UA has 38 'atacms' on hand; cannot use 39"
    assert cases.view(big.id, actor=ADMIN).case.state == "approved"  # nothing recorded
    assert _stock(world, "UA", "atacms") == Balance(38, 0)
    with world.store.reading() as tx:
        assert tx.ledger.head() == events_before


def test_untracked_stock_does_not_move(world: World) -> None:
    # Storm Shadow is tracked for GB, not for UA: UA's use of it moves nothing.
    case, _ = world.cases.submit(
        {**G2, "system": "storm-shadow", "target": {"territory": "UA"}}, actor="ua.liaison", now=T0
    )
    world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=T0)
    assert world.cases.stock.balance("UA", "storm-shadow", dt.date.max) is None


OFFICE_HOLDERS = {"us.usdp": "usdp", "us.secdef": "hegseth"}
"""Who answers for each office a US transfer may wait on, in the world of ``tests.worlds``."""


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(1, 300), st.integers(0, 40)), min_size=1, max_size=3))
def test_executed_transfers_conserve_stock_between_giver_and_receiver(
    fresh_world: FreshWorld, transfers: list[tuple[int, int]]
) -> None:
    """Every generated transfer is executed (in part or whole): one approved at once, and
    one that waits on the offices its stock rating names once they approve. The fixture
    only hands out a maker: each example has a world of its own."""
    with fresh_world() as world:
        before = _stock(world, "US", "atacms").on_hand + _stock(world, "UA", "atacms").on_hand
        moved = 0
        for asked, short in transfers:
            case, _ = world.cases.submit({**ATACMS, "quantity": asked}, actor="us.liaison", now=T0)
            offices = [
                a["authority"]
                for a in world.cases.view(case.id, actor=ADMIN).decision["required_approvals"]
            ]
            for office in offices:
                holder = OFFICE_HOLDERS[office]
                world.cases.answer(
                    case.id,
                    actor=holder,
                    approve=True,
                    reason="",
                    signer=world.keys[holder],
                    now=T0,
                )
            event(f"waited on {' and '.join(offices) or 'no office'}")
            done = max(1, asked - short)
            executed = world.cases.execute(case.id, actor="us.liaison", quantity=done, now=T0)
            assert executed.case.state == ("executed" if done == asked else "partly_executed")
            moved += done
        us, ua = _stock(world, "US", "atacms"), _stock(world, "UA", "atacms")
        assert us.on_hand + ua.on_hand == before
        assert (us.on_hand, ua.on_hand) == (1000 - moved, 40 + moved)
        assert us.committed == sum(asked for asked, _ in transfers) - moved
        assert us.committed >= 0


def test_the_eram_sale_keeps_its_condition_and_commits_stock(world: World) -> None:
    case, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    view = world.cases.view(case.id, actor=ADMIN)
    assert case.state == "approved_with_conditions"
    assert view.decision["conditions"] == ["European partners fund the purchase"]
    assert view.decision["stockpile"]["after"] == "green"
    assert _stock(world, "US", "eram") == Balance(5000, 3350)


# who sees what of a position ---------------------------------------------------------


def _cleared(world: World, user: str, level: Level, *roles: Role) -> None:
    Accounts(world.store).set_access(
        user, roles=roles or (Role.REQUESTER,), clearance=level, actor="admin", now=T0
    )


def test_movements_of_cases_above_the_readers_clearance_are_totals_without_case_or_actor(
    world: World,
) -> None:
    _cleared(world, "us.liaison", Level.TOP_SECRET)
    cases = world.cases
    seen, _ = cases.submit({**ATACMS, "quantity": 100}, actor="us.liaison", now=T0)
    for quantity in (30, 20):  # each leaves US green (from 840), so each is approved and commits
        cases.submit(
            {**ATACMS, "quantity": quantity},
            actor="us.liaison",
            now=T0,
            classification=int(Level.TOP_SECRET),
        )
    reviewer = world.people.add_user(
        user_id="conf.reviewer",
        name="Reviewer cleared CONFIDENTIAL",
        party="US",
        public_key=world.people.users()[0].public_key,
        actor="admin",
        now=T0,
        roles=(Role.REVIEWER,),
        clearance=Level.CONFIDENTIAL,
    )
    whole = cases.stock.position("US", "atacms", on=T0.date(), actor=ADMIN)
    shown = cases.stock.position("US", "atacms", on=T0.date(), actor=reviewer.id)
    assert shown.row == whole.row, "the position's figures count every movement"
    assert (shown.row.balance.on_hand, shown.row.balance.committed) == (1000, 150)
    assert [(m.kind.value, m.quantity, m.case_id is not None) for m in whole.movements] == [
        ("commit", 20, True),
        ("commit", 30, True),
        ("commit", 100, True),
    ]
    withheld, visible = shown.movements
    assert (withheld.kind, withheld.quantity, withheld.on) == (MovementKind.COMMIT, 50, T0.date())
    assert withheld.withheld
    assert (withheld.case_id, withheld.actor, withheld.at) == (None, None, None)
    assert (visible.case_id, visible.quantity, visible.withheld) == (seen.id, 100, False)
    assert shown.as_dict()["movements"][0] == {
        "day": T0.date().isoformat(),
        "kind": "commit",
        "quantity": 50,
        "on_hand_change": 0,
        "committed_change": 50,
        "case_id": None,
        "actor": None,
        "at": None,
        "withheld": True,
    }
    # Cleared TOP SECRET, the same reader sees every movement whole.
    _cleared(world, "conf.reviewer", Level.TOP_SECRET, Role.REVIEWER)
    assert cases.stock.position("US", "atacms", on=T0.date(), actor="conf.reviewer") == whole


# the commands ----------------------------------------------------------------------


def test_the_board_is_worst_first_and_rates_from_the_ledger(cli: Cli) -> None:
    board = cli.json("stockpile", "board")
    first = board["positions"][0]
    assert (first["holder"], first["system"], first["rating"]) == ("US", "demo-interceptor", "red")
    assert board["counts"] == {"green": 4, "yellow": 0, "red": 1}
    ratings = [Rating(p["rating"]).severity for p in board["positions"]]
    assert ratings == sorted(ratings, reverse=True)
    assert cli.json("stockpile", "board", "--rating", "green", "--holder", "UA")["positions"] == [
        {
            "holder": "UA",
            "system": "atacms",
            "rating": "green",
            "meaning": "sufficient",
            "on_hand": 40,
            "committed": 0,
            "available": 40,
            "requirement": 20,
            "cover_percent": 200,
            "production_per_month": 0,
            "thresholds": {"green_percent": 120, "yellow_percent": 100},
            "illustrative": True,
        }
    ]
    table = cli("stockpile", "board").stdout
    assert "RED" in table
    assert "GREEN" in table
    assert "below requirement" in table


def test_project_and_history_through_the_cli(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before the seed's delivery of 50 on 2026-03-01 (month 6 of the projection).
    pin_the_commands_clock(monkeypatch, dt.datetime(2025, 9, 1, 12, tzinfo=dt.UTC))
    before = cli.json("stockpile", "project", "atacms", "--transfer", "301", "--months", "12")
    assert before["months"][0]["on"] == "2025-09-01"
    assert [m["available"] for m in before["months"][:8]] == [
        *(699 + 20 * n for n in range(6)),
        699 + 20 * 6 + 50,
        699 + 20 * 7 + 50,
    ]
    assert before["months_to_recover"] == 6  # 869 ≥ 840; 799 a month earlier
    # After it: production alone.
    pin_the_commands_clock(monkeypatch, dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    projected = cli.json("stockpile", "project", "atacms", "--transfer", "301", "--months", "12")
    assert projected["months"][0]["on"] == "2026-06-01"
    assert (projected["now"], projected["after"], projected["months_to_recover"]) == (
        "green",
        "red",
        8,
    )
    assert [m["available"] for m in projected["months"][:3]] == [699, 719, 739]
    assert projected["months"][8]["rating"] == "green"
    text = cli("stockpile", "project", "atacms", "--transfer", "301").stdout
    assert "RED below requirement" in text
    assert re.search(r"\bgreen again: in 8 months\b", text)

    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    transfer = cli.file("t.json", {**ATACMS, "quantity": 150})
    cli("cases", "submit", transfer, "--as", "us.liaison")
    today = cli.json("stockpile", "history", "atacms")
    assert (today["on_hand"], today["committed"], today["available"]) == (1000, 150, 850)
    assert [m["kind"] for m in today["movements"]] == ["commit"]
    past = cli.json("stockpile", "history", "atacms", "--as-of", "2025-01-01")
    assert (past["available"], past["movements"]) == (1000, [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["project", "atacms", "--transfer", "-1"], "--transfer: must be a whole number ≥ 0"),
        (
            ["project", "atacms", "--transfer", "1.5"],
            "Invalid value for '--transfer': Input should be a valid integer",
        ),
        (
            ["project", "atacms", "--transfer", "1", "--months", "0"],
            "--months: must be between 1 and 240",
        ),
        (["project", "nosuch", "--transfer", "1"], "unknown system 'nosuch'"),
        (["project", "atacms", "--transfer", "1", "--holder", "XX"], "unknown party 'XX'"),
        (["project", "flamingo", "--transfer", "1"], "US's stock of 'flamingo' is not tracked"),
        (["history", "atacms", "--as-of", "2025-02-30"], "--as-of: '2025-02-30' is not a date"),
        (["board", "--rating", "purple"], "--rating: must be red, yellow or green"),
    ],
)
def test_bad_stockpile_input_is_one_line_and_changes_nothing(
    cli: Cli,
    args: list[str],
    message: str,
) -> None:
    before = cli.snapshot()
    run = cli("stockpile", *args, ok=False)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.count("\n") <= 2
    assert cli.snapshot() == before


def test_history_as_a_user_shows_what_they_may_see_and_says_whose_view_it_is(cli: Cli) -> None:
    cli("users", "access", "secdef", "--role", "requester", "--clearance", "TOP SECRET")
    cli("users", "access", "usdp", "--role", "reviewer", "--clearance", "CONFIDENTIAL")
    transfer = cli.file("t.json", {**ATACMS, "quantity": 150})
    cli("cases", "submit", transfer, "--as", "secdef", "--classification", "TOP SECRET")

    everything = cli.json("stockpile", "history", "atacms")
    assert everything["seen_as"] is None
    [commit] = everything["movements"]
    assert (commit["case_id"] is not None, commit["actor"], commit["withheld"]) == (
        True,
        "clearance",
        False,
    )
    as_usdp = cli.json("stockpile", "history", "atacms", "--as", "usdp")
    assert as_usdp["seen_as"] == "usdp"
    assert as_usdp["movements"] == [
        {**commit, "case_id": None, "actor": None, "at": None, "withheld": True}
    ]
    figures = ("on_hand", "committed", "available", "rating")
    assert [as_usdp[k] for k in figures] == [everything[k] for k in figures]

    operator = cli("stockpile", "history", "atacms").stdout
    assert "as the local operator sees it: every movement" in operator
    assert commit["case_id"][:8] in operator
    table = cli("stockpile", "history", "atacms", "--as", "usdp").stdout
    assert "as usdp sees it" in table
    assert "(withheld)" in table
    assert commit["case_id"][:8] not in table

    hidden = cli("stockpile", "history", "atacms", "--as", "ua.liaison", ok=False)
    assert (hidden.returncode, hidden.stderr.strip()) == (
        2,
        "error: US's stock of 'atacms' is not tracked",
    )
    nobody = cli("stockpile", "history", "atacms", "--as", "nobody", ok=False)
    assert "unknown user 'nobody'" in nobody.stderr
