"""A pack's stockpile figures, stated on the pure code (``policy.stockfigures``).

What ``stockpile.yaml`` may say, read back field by field, every refusal with
its place and exact words, and which opening figure a position has on a day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.core.catalog import Catalog
from clearance.core.stockpile import Delivery, Position
from clearance.errors import PackError
from clearance.policy.pack import ScenarioPack
from clearance.policy.stockfigures import FILE, StockFigures, load_stock_figures

OPENED = dt.date(2022, 2, 24)


@pytest.fixture(scope="module")
def catalog(seed_pack: ScenarioPack) -> Catalog:
    return seed_pack.catalog


def figures(**change: Any) -> dict[str, Any]:
    return {
        "opened_on": "2022-02-24",
        "positions": [{"holder": "US", "system": "atacms", "on_hand": 10}],
        **change,
    }


def position(**change: Any) -> dict[str, Any]:
    return figures(positions=[{"holder": "US", "system": "atacms", "on_hand": 10, **change}])


def test_no_file_means_no_tracked_position(catalog: Catalog) -> None:
    stock = load_stock_figures(None, catalog)
    assert stock == StockFigures()
    assert stock.opened_on is None
    assert stock.opening("US", "atacms", OPENED) is None
    assert stock.position("US", "atacms") is None


def test_every_figure_is_read_back(catalog: Catalog) -> None:
    stock = load_stock_figures(
        {
            "illustrative": True,
            "note": "invented",
            "opened_on": "2022-02-24",
            "positions": [
                {
                    "holder": "US",
                    "system": "atacms",
                    "on_hand": 1000,
                    "requirement": 700,
                    "production_per_month": 20,
                    "deliveries": [{"date": "2026-03-01", "quantity": 50}],
                },
                {"holder": "UA", "system": "atacms", "on_hand": 0},
            ],
        },
        catalog,
    )
    us = Position("US", "atacms", 700, 20, (Delivery(dt.date(2026, 3, 1), 50),), illustrative=True)
    ua = Position("UA", "atacms", 0, 0, (), illustrative=True)
    assert stock == StockFigures(
        OPENED, (us, ua), {("US", "atacms"): 1000, ("UA", "atacms"): 0}, True
    )
    assert stock.position("US", "atacms") == us
    assert stock.position("UA", "atacms") == ua
    assert stock.position("GB", "atacms") is None


def test_an_opening_figure_holds_from_the_opening_day_for_listed_positions(
    catalog: Catalog,
) -> None:
    stock = load_stock_figures(figures(), catalog)
    assert stock.illustrative is False
    assert stock.opening("US", "atacms", OPENED - dt.timedelta(days=1)) is None
    assert stock.opening("US", "atacms", OPENED) == 10
    assert stock.opening("US", "gmlrs", OPENED) is None
    listed_without_figure = StockFigures(OPENED, (Position("US", "gmlrs"),), {})
    assert listed_without_figure.opening("US", "gmlrs", OPENED) == 0


@pytest.mark.parametrize(
    ("data", "where", "problem"),
    [
        ([], "(top level)", "input should be a valid dictionary or instance of _File"),
        (figures(colour="red"), "colour", "is not a known field"),
        ({"positions": []}, "opened_on", "is required"),
        (
            figures(opened_on="2022-02-30"),
            "opened_on",
            "'2022-02-30' is not a date of the calendar",
        ),
        (figures(illustrative="yes"), "illustrative", "input should be a valid boolean"),
        (position(on_hand="10"), "positions[0].on_hand", "must be a whole number"),
        (position(on_hand=1.5), "positions[0].on_hand", "must be a whole number"),
        (position(on_hand=-1), "positions[0].on_hand", "must be ≥ 0"),
        (position(requirement=-1), "positions[0].requirement", "must be ≥ 0"),
        (
            position(on_hand=10**12 + 1),
            "positions[0].on_hand",
            "input should be less than or equal to 1000000000000",
        ),
        (
            position(deliveries=[{"date": "2026-03-01", "quantity": 0}]),
            "positions[0].deliveries[0].quantity",
            "must be ≥ 1",
        ),
        (position(holder="ZZ"), "positions[0].holder", "unknown party 'ZZ'"),
        (position(system="nope"), "positions[0].system", "unknown system 'nope'"),
        (
            figures(positions=[{"holder": "US", "system": "atacms", "on_hand": 1}] * 2),
            "positions[1]",
            "US already has a position for 'atacms'",
        ),
    ],
)
def test_a_wrong_figure_is_refused_naming_its_place(
    catalog: Catalog, data: Any, where: str, problem: str
) -> None:
    with pytest.raises(PackError) as refused:
        load_stock_figures(data, catalog)
    assert (refused.value.file, refused.value.where, refused.value.problem) == (
        FILE,
        where,
        problem,
    )
    assert FILE == "stockpile.yaml"
