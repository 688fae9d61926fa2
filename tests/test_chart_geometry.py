"""The server-drawn SVG measured in a real browser: what is written does not collide.

Each drawing is put on a page with the site's own style sheet and measured by Chromium
(``getBBox``, and points sampled along every line and path), so a label is judged by the
space its font really takes, not by an estimate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup
from playwright.sync_api import Browser, Page, sync_playwright

from clearance.core.holders import Basis, ConsentHolder, HolderPath, consent_holders
from clearance.core.stockpile import Balance, Thresholds, assess, project
from clearance.policy.pack import load_pack
from clearance.web.charts import holders_graph
from clearance.web.projection_chart import projection_chart

CHROMIUM = Path("/usr/bin/chromium")
STYLE = (Path(__file__).parents[1] / "src/clearance/web/static/app.css").read_text()

MEASURE = """svg => {
  const box = e => { const b = e.getBBox(); return {x: b.x, y: b.y, w: b.width, h: b.height}; };
  const shapes = [];
  for (const e of svg.querySelectorAll('text, rect')) {
    if (e.closest('defs') || e.closest('marker')) continue;
    shapes.push({tag: e.tagName, cls: e.getAttribute('class') || e.parentNode.getAttribute('class') || '',
                 text: e.textContent, group: e.parentNode.getAttribute('class') || '', ...box(e)});
  }
  const lines = [];
  for (const e of svg.querySelectorAll('path.edge, polyline, line')) {
    if (e.closest('defs') || e.closest('marker')) continue;
    const n = e.getTotalLength(), points = [];
    for (let d = 0; d <= n; d += 1) { const p = e.getPointAtLength(d); points.push([p.x, p.y]); }
    lines.push({cls: e.getAttribute('class'), points});
  }
  return {shapes, lines};
}"""


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed (apt-get install chromium); make test installs it")
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser.new_page(viewport={"width": 1366, "height": 800})
        browser.close()


def measure(page: Page, drawing: Markup) -> dict[str, Any]:
    page.set_content(f"<!doctype html><style>{STYLE}</style><main>{drawing}</main>")
    found: dict[str, Any] = page.locator("svg").first.evaluate(MEASURE)
    return found


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def inside(point: list[float], box: dict[str, float], pad: float = 0.0) -> bool:
    x, y = point
    return (
        box["x"] + pad < x < box["x"] + box["w"] - pad
        and box["y"] + pad < y < box["y"] + box["h"] - pad
    )


SEED = load_pack().catalog
NAMES = {p.code: p.name for p in SEED.parties}


def _path(basis: Basis, *via: str, party: str, share: str | None = None) -> HolderPath:
    return HolderPath(basis, via, party, Decimal(share) if share else None)


DEEP = (
    ConsentHolder(
        "US",
        (
            _path(Basis.ORIGIN, "x", party="US"),
            _path(Basis.LICENCE, "x", party="US"),
            _path(Basis.COMPONENT, "x", "kit", "seeker", party="US", share="0.2"),
        ),
    ),
    ConsentHolder("GB", (_path(Basis.SOFTWARE, "x", "kit", party="GB"),)),
    ConsentHolder("FR", (_path(Basis.INTELLIGENCE, "x", party="FR"),)),
)
"""A made-up system whose holder US is reached from the system itself and two components
deep, so one edge must pass a layer it does not stop in; and two reasons on one edge."""
CASES = {
    **{s.id: (s.id, s.name, consent_holders(SEED, s.id)) for s in SEED.systems},
    "deep": ("x", "a made-up system", DEEP),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_label_of_the_consent_graph_touches_a_box_another_label_or_an_edge(
    page: Page, case: str
) -> None:
    """Every system of the seed catalog, and one with a layer to pass."""
    system, name, holders = CASES[case]
    drawing = holders_graph(system, name, holders, NAMES, {c.id: c.name for c in SEED.components})
    seen = measure(page, drawing)
    labels = [s for s in seen["shapes"] if s["cls"] == "edge-label"]
    boxes = [s for s in seen["shapes"] if s["tag"] == "rect"]
    edges = [line["points"] for line in seen["lines"]]
    reasons = {p.basis.value for h in holders for p in h.paths}
    for reason in reasons:
        assert any(reason in label["text"] for label in labels), (system, reason, "unlabelled")
    assert len(boxes) == 1 + len({h.party for h in holders}) + len(
        {c for h in holders for p in h.paths for c in p.via[1:]}
    )
    for index, label in enumerate(labels):
        for other in labels[index + 1 :]:
            assert not overlap(label, other), (system, label["text"], other["text"])
        for box in boxes:
            assert not overlap(label, box), (system, label["text"], "a box")
        for points in edges:
            crossing = [p for p in points if inside(p, label)]
            assert not crossing, (system, label["text"], "an edge at", crossing[0])
    for box in boxes:
        for points in edges:  # an edge meets a box only at its ends, on the border
            assert not [p for p in points if inside(p, box, pad=2)], (system, "an edge in a box")
    for text in (s for s in seen["shapes"] if s["tag"] == "text" and "node" in s["group"]):
        assert any(
            box["x"] <= text["x"]
            and text["x"] + text["w"] <= box["x"] + box["w"]
            and box["y"] <= text["y"]
            and text["y"] + text["h"] <= box["y"] + box["h"]
            for box in boxes
        ), (system, text["text"], "runs out of its box")


# the stockpile projection ---------------------------------------------------------

TODAY = dt.date(2026, 12, 2)
STANDARD = Thresholds(green_percent=120, yellow_percent=100)
PROJECTIONS = [
    (p.holder, p.system, transfer, months)
    for p in load_pack().stock.positions
    for transfer, months in ((1, 24), (301, 24), (40, 60), (1000, 120), (5, 6))
]


@pytest.mark.parametrize(("holder", "system", "transfer", "months"), PROJECTIONS)
def test_the_bands_are_named_clear_of_the_line_and_now_is_the_one_origin(
    page: Page, holder: str, system: str, transfer: int, months: int
) -> None:
    """Every seed position, small and large transfers, short and long horizons."""
    pack = load_pack()
    position = pack.stock.position(holder, system)
    assert position is not None
    on_hand = pack.stock.opening(holder, system, TODAY) or 0
    quantity = min(transfer, on_hand)
    facts = assess(position, Balance(on_hand, 0), STANDARD, quantity, TODAY)
    points = project(position, facts.available_after, STANDARD, TODAY, months)
    seen = measure(page, projection_chart(facts, points, title="t"))
    shapes, lines = seen["shapes"], seen["lines"]
    bands = [s for s in shapes if s["cls"] == "band-label"]
    assert [b["text"] for b in bands] == [
        "GREENsufficient",
        "YELLOWat the margin",
        "REDbelow requirement",
    ], "each band named, whatever its height"
    drawn = [
        line["points"]
        for line in lines
        if line["cls"] in ("available", "level level--requirement", "level level--green-level")
    ]
    for drop in (s for s in shapes if s["cls"] == "drop-label"):
        for points_ in drawn:
            assert not [p for p in points_ if inside(p, drop)], "the transfer's label on a line"
    for index, band in enumerate(bands):
        for other in bands[index + 1 :]:
            assert not overlap(band, other), (band["text"], other["text"])
        for points_ in drawn:
            assert not [p for p in points_ if inside(p, band)], (band["text"], "on a line")
    ticks = [
        s
        for s in shapes
        if s["cls"] == "tick" and s["y"] > 250 and s["text"] != "months from today"
    ]
    labels = [t["text"] for t in ticks if t["x"] > 60]
    assert labels.count("now") == 1, labels
    assert "0" not in labels, "one label at the origin"
    for index, tick in enumerate(ticks):
        for other in ticks[index + 1 :]:
            assert not overlap(tick, other), (tick["text"], other["text"])
