"""The stockpile arithmetic's rules, stated on the pure code (``core.stockpile``).

The service and page tests rate real positions; these state each rule of the
arithmetic on its own: where the colours change, what a movement does to a
balance, how a month is added, which deliveries a month counts, when stock is
green again, and what the facts given to policy hold.
"""

from __future__ import annotations

import datetime as dt

import pytest

from clearance.core.stockpile import (
    Balance,
    Delivery,
    Movement,
    MovementKind,
    NegativeStock,
    Position,
    Rating,
    StockpileFacts,
    Thresholds,
    add_months,
    assess,
    balance_of,
    months_to_recover,
    project,
)

STANDARD = Thresholds(green_percent=120, yellow_percent=100)
START = dt.date(2025, 1, 15)


@pytest.mark.parametrize(
    ("available", "requirement", "rating"),
    [
        (120, 100, Rating.GREEN),
        (119, 100, Rating.YELLOW),
        (100, 100, Rating.YELLOW),
        (99, 100, Rating.RED),
        (999, 1000, Rating.RED),
        (9, 7, Rating.GREEN),
        (8, 7, Rating.YELLOW),
        (7, 7, Rating.YELLOW),
        (6, 7, Rating.RED),
        (0, 0, Rating.GREEN),
        (-1, 0, Rating.RED),
    ],
)
def test_a_figure_exactly_at_a_threshold_is_rated_the_better_colour(
    available: int, requirement: int, rating: Rating
) -> None:
    assert STANDARD.rate(available, requirement) is rating


@pytest.mark.parametrize(
    ("requirement", "green_level"), [(100, 120), (7, 9), (5, 6), (0, 0), (1, 2)]
)
def test_the_green_level_is_the_least_whole_quantity_rated_green(
    requirement: int, green_level: int
) -> None:
    level = STANDARD.green_level(requirement)
    assert level == green_level
    assert type(level) is int
    assert STANDARD.rate(level, requirement) is Rating.GREEN
    assert STANDARD.rate(level - 1, requirement) is not Rating.GREEN


@pytest.mark.parametrize(("green", "yellow"), [(100, 100), (0, 0), (150, 0)])
def test_thresholds_in_order_are_accepted(green: int, yellow: int) -> None:
    thresholds = Thresholds(green_percent=green, yellow_percent=yellow)
    assert thresholds.as_dict() == {"green_percent": green, "yellow_percent": yellow}


@pytest.mark.parametrize(("green", "yellow"), [(99, 100), (50, -1)])
def test_thresholds_out_of_order_are_refused_with_both_figures(green: int, yellow: int) -> None:
    with pytest.raises(ValueError, match="thresholds out of order") as refused:
        Thresholds(green_percent=green, yellow_percent=yellow)
    assert f"yellow ({yellow}%)" in str(refused.value)
    assert f"green ({green}%)" in str(refused.value)


def test_the_standard_thresholds_are_green_at_120_and_yellow_at_100_percent() -> None:
    assert Thresholds().as_dict() == {"green_percent": 120, "yellow_percent": 100}


def test_ratings_are_ordered_by_severity_and_say_what_they_mean() -> None:
    assert [r.severity for r in (Rating.GREEN, Rating.YELLOW, Rating.RED)] == [0, 1, 2]
    assert Rating.GREEN.meaning == "sufficient"
    assert Rating.YELLOW.meaning == "at the margin"
    assert Rating.RED.meaning == "below requirement"


def test_what_is_available_is_on_hand_less_committed() -> None:
    assert Balance(10, 3).available == 7
    assert Balance().available == 0


def test_a_change_is_added_to_a_balance() -> None:
    assert Balance(10, 3).after(5, 2) == Balance(15, 5)
    assert Balance(10, 3).after(-10, -3) == Balance(0, 0)


def test_a_change_below_zero_on_hand_is_refused_with_the_figures() -> None:
    with pytest.raises(NegativeStock) as refused:
        Balance(10, 3).after(-11, 0)
    assert str(refused.value) == "only 10 on hand, 11 needed"


def test_a_release_of_more_than_is_committed_is_refused_with_the_figures() -> None:
    with pytest.raises(NegativeStock) as refused:
        Balance(10, 3).after(0, -4)
    assert str(refused.value) == "only 3 committed, 4 to release"


@pytest.mark.parametrize(
    ("kind", "deltas"),
    [
        (MovementKind.RECEIPT, (3, 0)),
        (MovementKind.COMMIT, (0, 3)),
        (MovementKind.RELEASE, (0, -3)),
        (MovementKind.TRANSFER_OUT, (-3, 0)),
        (MovementKind.TRANSFER_IN, (3, 0)),
        (MovementKind.CONSUME, (-3, 0)),
    ],
)
def test_each_kind_of_movement_moves_stock_one_way(
    kind: MovementKind, deltas: tuple[int, int]
) -> None:
    assert kind.deltas(3) == deltas
    assert Movement("US", "sys", kind, 3, START).deltas == deltas


def test_a_movement_moves_at_least_one_item() -> None:
    assert Movement("US", "sys", MovementKind.RECEIPT, 1, START).quantity == 1
    with pytest.raises(ValueError, match=r"^a movement") as refused:
        Movement("US", "sys", MovementKind.RECEIPT, 0, START)
    assert str(refused.value) == "a movement's quantity must be a whole number ≥ 1"


def test_a_balance_counts_the_movements_up_to_and_on_its_date() -> None:
    day = dt.date(2025, 3, 1)
    movements = [
        Movement("US", "sys", MovementKind.RECEIPT, 50, day - dt.timedelta(days=1)),
        Movement("US", "sys", MovementKind.COMMIT, 20, day),
        Movement("US", "sys", MovementKind.CONSUME, 5, day + dt.timedelta(days=1)),
    ]
    assert balance_of(movements, day - dt.timedelta(days=2)) == Balance(0, 0)
    assert balance_of(movements, day - dt.timedelta(days=1)) == Balance(50, 0)
    assert balance_of(movements, day) == Balance(50, 20)
    assert balance_of(movements) == Balance(45, 20)


@pytest.mark.parametrize(
    ("day", "months", "later"),
    [
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2023, 1, 31), 1, dt.date(2023, 2, 28)),
        (dt.date(2024, 11, 15), 2, dt.date(2025, 1, 15)),
        (dt.date(2024, 12, 31), 0, dt.date(2024, 12, 31)),
        (dt.date(2024, 12, 31), 1, dt.date(2025, 1, 31)),
        (dt.date(2024, 3, 31), 11, dt.date(2025, 2, 28)),
        (dt.date(2024, 5, 10), 12, dt.date(2025, 5, 10)),
        (dt.date(2024, 5, 10), 25, dt.date(2026, 6, 10)),
        (dt.date(2024, 1, 15), -1, dt.date(2023, 12, 15)),
    ],
)
def test_a_month_later_is_the_same_day_clipped_to_a_shorter_month(
    day: dt.date, months: int, later: dt.date
) -> None:
    assert add_months(day, months) == later


def test_a_projection_adds_production_and_the_deliveries_due_in_each_month() -> None:
    position = Position(
        "US",
        "sys",
        requirement=100,
        production_per_month=10,
        deliveries=(
            Delivery(START, 1000),  # on month 0's day: already in what is available
            Delivery(dt.date(2025, 2, 15), 7),  # on month 1's day: counted in month 1
            Delivery(dt.date(2025, 2, 16), 3),  # the day after: counted in month 2
            Delivery(dt.date(2025, 3, 16), 500),  # after the last month
        ),
    )
    points = project(position, 100, STANDARD, START, 2)
    assert [p.as_dict() for p in points] == [
        {
            "month": 0,
            "on": "2025-01-15",
            "available": 100,
            "requirement": 100,
            "green_level": 120,
            "rating": "yellow",
        },
        {
            "month": 1,
            "on": "2025-02-15",
            "available": 117,
            "requirement": 100,
            "green_level": 120,
            "rating": "yellow",
        },
        {
            "month": 2,
            "on": "2025-03-15",
            "available": 130,
            "requirement": 100,
            "green_level": 120,
            "rating": "green",
        },
    ]


def test_a_projection_of_no_months_is_the_start_alone() -> None:
    points = project(Position("US", "sys", requirement=10), 3, STANDARD, START, 0)
    assert len(points) == 1
    assert points[0].rating is Rating.RED


@pytest.mark.parametrize(
    ("available", "production", "months"),
    [
        (120, 0, 0),
        (200, 0, 0),
        (119, 1, 1),
        (100, 10, 2),
        (101, 10, 2),
        (99, 10, 3),
        (-480, 1, 600),
        (-481, 1, None),
        (0, 0, None),
    ],
)
def test_stock_is_green_again_after_whole_months_of_production_within_fifty_years(
    available: int, production: int, months: int | None
) -> None:
    position = Position("US", "sys", requirement=100, production_per_month=production)
    assert months_to_recover(position, available, STANDARD, START) == months


def test_a_delivery_due_counts_towards_recovery_in_its_month() -> None:
    position = Position(
        "US", "sys", requirement=100, deliveries=(Delivery(dt.date(2025, 3, 15), 20),)
    )
    assert months_to_recover(position, 100, STANDARD, START) == 2
    assert months_to_recover(position, 99, STANDARD, START) is None


@pytest.mark.parametrize(
    ("due", "month"),
    [
        (dt.date(2025, 1, 16), 1),  # later in the start's own month: its first month
        (dt.date(2025, 2, 15), 1),  # a whole month after the start: still the first
        (dt.date(2025, 2, 16), 2),  # a day later: the second
        (dt.date(2026, 2, 10), 13),  # the next year, earlier in its month than the start
        (dt.date(2026, 2, 16), 14),  # the next year, later in its month
        (dt.date(2075, 1, 15), 600),  # the last month of the fifty years
        (dt.date(2075, 1, 16), None),  # a day past them: not counted
    ],
)
def test_a_delivery_counts_in_the_month_whose_end_it_falls_on_or_before(
    due: dt.date, month: int | None
) -> None:
    position = Position("US", "sys", requirement=100, deliveries=(Delivery(due, 20),))
    assert months_to_recover(position, 100, STANDARD, START) == month
    assert months_to_recover(position, 100, STANDARD, START) == _stepped(position, 100)


def test_deliveries_due_in_one_month_count_together() -> None:
    position = Position(
        "US",
        "sys",
        requirement=100,
        deliveries=(Delivery(dt.date(2025, 3, 10), 10), Delivery(dt.date(2025, 3, 12), 10)),
    )
    assert months_to_recover(position, 100, STANDARD, START) == 2  # 100 + 10 + 10 = 120


def test_a_delivery_that_makes_the_month_green_counts_from_that_month() -> None:
    # 100 + 2 × 3 + 19 = 125 in month 2; without the delivery month 1 would be 103.
    position = Position(
        "US",
        "sys",
        requirement=100,
        production_per_month=3,
        deliveries=(Delivery(dt.date(2025, 3, 15), 19),),
    )
    assert months_to_recover(position, 100, STANDARD, START) == 2
    assert months_to_recover(position, 100, STANDARD, START) == _stepped(position, 100)


def test_recovery_near_year_9999_fails_as_stepping_does_only_past_it() -> None:
    start = dt.date(9999, 1, 15)
    recovers = Position("US", "sys", requirement=100, production_per_month=10)
    assert months_to_recover(recovers, 100, STANDARD, start) == 2
    never = Position("US", "sys", requirement=100)
    with pytest.raises(ValueError, match=r"^year 10000 is out of range$"):
        months_to_recover(never, 100, STANDARD, start)
    with pytest.raises(ValueError, match=r"^year 10000 is out of range$"):
        project(never, 100, STANDARD, start, 600)


def _stepped(position: Position, available: int) -> int | None:
    """The first month ``project`` rates green, stepping month by month (the reference)."""
    for point in project(position, available, STANDARD, START, 600):
        if point.rating is Rating.GREEN:
            return point.month
    return None


def test_a_month_start_on_the_31st_ends_on_the_last_day_of_a_shorter_month() -> None:
    start = dt.date(2025, 1, 31)
    on_the_28th = Position(
        "US", "sys", requirement=100, deliveries=(Delivery(dt.date(2025, 2, 28), 20),)
    )
    assert months_to_recover(on_the_28th, 100, STANDARD, start) == 1
    on_the_1st = Position(
        "US", "sys", requirement=100, deliveries=(Delivery(dt.date(2025, 3, 1), 20),)
    )
    assert months_to_recover(on_the_1st, 100, STANDARD, start) == 2


def test_a_delivery_past_fifty_years_does_not_stretch_the_horizon() -> None:
    # 601 months of production would be needed: not within fifty years, whatever is
    # due after them.
    position = Position(
        "US",
        "sys",
        requirement=100,
        production_per_month=1,
        deliveries=(Delivery(dt.date(2085, 1, 15), 1),),
    )
    assert months_to_recover(position, -481, STANDARD, START) is None


def _position(production: int, illustrative: bool = False) -> Position:
    return Position(
        "US", "sys", requirement=100, production_per_month=production, illustrative=illustrative
    )


def test_the_facts_rate_the_giver_now_and_after_giving() -> None:
    facts = assess(_position(10), Balance(150, 20), STANDARD, 30, START)
    assert facts.available == 130
    assert facts.available_after == 100
    assert facts.as_dict() == {
        "holder": "US",
        "system": "sys",
        "on": "2025-01-15",
        "quantity": 30,
        "on_hand": 150,
        "committed": 20,
        "available": 130,
        "available_after": 100,
        "requirement": 100,
        "thresholds": {"green_percent": 120, "yellow_percent": 100},
        "now": "green",
        "after": "yellow",
        "months_to_recover": 2,
        "illustrative": False,
    }


def test_policy_sees_the_ratings_the_counts_and_the_months_to_recover() -> None:
    facts = assess(_position(10), Balance(150, 20), STANDARD, 30, START)
    assert facts.cedar() == {
        "now": "green",
        "after": "yellow",
        "available": 130,
        "available_after": 100,
        "requirement": 100,
        "months_to_recover": 2,
    }


def test_policy_sees_no_months_to_recover_when_production_never_recovers() -> None:
    facts = assess(_position(0), Balance(150, 20), STANDARD, 30, START)
    assert facts.months_to_recover is None
    assert "months_to_recover" not in facts.cedar()
    assert facts.as_dict()["months_to_recover"] is None


def test_facts_already_green_after_giving_recover_in_no_months() -> None:
    facts = assess(_position(0), Balance(150, 0), STANDARD, 30, START)
    assert facts.cedar()["months_to_recover"] == 0


def test_recorded_facts_read_back_as_they_were() -> None:
    facts = assess(
        _position(10, illustrative=True),
        Balance(150, 20),
        Thresholds(green_percent=130, yellow_percent=90),
        30,
        START,
    )
    again = StockpileFacts.from_dict(facts.as_dict())
    assert again == facts
    assert again.illustrative is True
    assert again.as_dict() == facts.as_dict()


def test_facts_recorded_before_the_illustrative_flag_read_back_as_real() -> None:
    facts = assess(_position(10, illustrative=True), Balance(150, 20), STANDARD, 30, START)
    recorded = facts.as_dict()
    del recorded["illustrative"]
    assert StockpileFacts.from_dict(recorded).illustrative is False
