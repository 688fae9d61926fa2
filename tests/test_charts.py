"""The server-drawn charts read as SVG: which months a chart spans, which ticks its axis has.

The drawings are parsed as XML, as any reader of the page's markup would; how the text
of a drawing sits on the screen is measured in a browser by test_chart_geometry.py.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pytest
from markupsafe import Markup

from clearance.service.runtime import Runtime
from clearance.web.charts import MonthCounts, decisions_chart
from clearance.web.dashboard import decisions_by_month
from clearance.web.svg import nice_ticks

from .test_pages import as_user, seeded, server  # noqa: F401 (the seeded demo's fixtures)

SVG = "{http://www.w3.org/2000/svg}"


def parse(drawing: Markup) -> ET.Element:
    return ET.fromstring(str(drawing))


def y_ticks(svg: ET.Element) -> list[str]:
    """The labels left of the plot, bottom up (the y axis)."""
    ticks = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "tick" and t.get("x") == "40"]
    return [t.text or "" for t in sorted(ticks, key=lambda t: -float(t.get("y", 0)))]


def month(key: str, **counts: int) -> MonthCounts:
    return MonthCounts(key, dict(counts))


@pytest.mark.parametrize(
    ("totals", "ticks"),
    [
        ((1, 3, 2), ["0", "1", "2", "3"]),
        ((2,), ["0", "1", "2"]),
        ((7, 1), ["0", "2", "4", "6", "8"]),
        ((40,), ["0", "10", "20", "30", "40"]),
    ],
)
def test_the_decisions_axis_rises_in_whole_numbers_to_the_busiest_month(
    totals: tuple[int, ...], ticks: list[str]
) -> None:
    months = [month(f"2026-{n + 1:02d}", approved=total) for n, total in enumerate(totals)]
    assert y_ticks(parse(decisions_chart(months, title="t"))) == ticks


@pytest.mark.parametrize("peak", [1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 24, 99, 101, 999, 12345])
def test_nice_ticks_end_at_the_first_round_value_at_or_above_the_peak(peak: int) -> None:
    ticks = nice_ticks(peak)
    step = ticks[1]
    assert ticks[0] == 0
    assert ticks[-1] >= peak > ticks[-2], "no empty step above the data"
    assert len(ticks) <= 7
    assert all(b - a == step for a, b in pairwise(ticks))
    assert str(step).strip("0") in {"1", "2", "5"}


def test_the_decisions_chart_spans_the_width_of_its_panel() -> None:
    svg = parse(decisions_chart([month("2026-12", approved=1)], title="t"))
    assert "chart--decisions" in (svg.get("class") or "").split()


@dataclass
class _Viewer:
    id: str = "us.reviewer"


class _Cases:
    def __init__(self, rows: list[tuple[str, str, int, int]]) -> None:
        self.rows = rows

    def decisions_by_month(self, *, actor: str, since: dt.datetime) -> list[Any]:
        return [row for row in self.rows if row[0] >= since.strftime("%Y-%m")]


@dataclass
class _Runtime:
    cases: _Cases


NOW = dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC)


def shown(rows: list[tuple[str, str, int, int]]) -> list[str]:
    months, _ = decisions_by_month(_Runtime(_Cases(rows)), _Viewer(), NOW)  # type: ignore[arg-type]
    return [m.month for m in months]


def test_the_months_shown_run_from_the_first_with_a_decision_to_this_one() -> None:
    assert shown([("2026-12", "approved", 1, 0), ("2026-12", "denied", 1, 0)]) == ["2026-12"]
    assert shown([("2026-09", "approved", 2, 0), ("2026-11", "denied", 1, 0)]) == [
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert shown([("2025-01", "approved", 5, 0)]) == [], "older than a year: not counted"
    assert shown([]) == []


def test_the_dashboard_says_in_a_sentence_when_nothing_was_decided(
    server: Runtime,  # noqa: F811 (test_pages' fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decided = as_user(server, "us.reviewer").client.get("/dashboard").text
    assert '<svg class="chart chart--decisions"' in decided
    assert 'id="decisions-none"' not in decided
    later = server.now() + dt.timedelta(days=400)  # every demo decision over a year old
    monkeypatch.setattr(server, "now", lambda: later)
    quiet = as_user(server, "us.reviewer").client.get("/dashboard").text
    assert "chart--decisions" not in quiet
    assert "No case you can see was decided in the last twelve months." in quiet
