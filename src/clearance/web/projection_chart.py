"""A stockpile projection: available stock month by month after a transfer, over red,
yellow and green bands.

The bands are named in the margin to the right of the plot, each beside a key bar that
spans its band, so no name ever sits on the line of available stock, however it runs, and
a band too thin to hold its name is still named. The x axis starts at "now", the day of
the transfer: the drop there is the transfer, and the months after add production and
expected deliveries.
"""

from __future__ import annotations

from markupsafe import Markup

from clearance.core.stockpile import ProjectionPoint, Rating, StockpileFacts

from .svg import attr, nice_ticks, unique_id

__all__ = ["projection_chart", "recovery_words", "yellow_level"]

WIDTH, HEIGHT = 760, 350
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 20, 96
NOW_GAP = 80.0
"""Room left of "now" for the transfer's label: the level lines start at "now", so no
line but the light grid runs behind it."""
LABEL_H = 30.0
"""The height a band's name takes: its colour in capitals over its meaning."""


def recovery_words(months: int | None) -> str:
    """``green right after``, ``green again in 8 months``, or ``never green again …``."""
    if months is None:
        return "never green again at this production rate"
    if months == 0:
        return "green right after"
    return f"green again in {months} month{'' if months == 1 else 's'}"


def yellow_level(facts: StockpileFacts) -> int:
    """The least available quantity rated yellow."""
    return -(-facts.requirement * facts.thresholds.yellow_percent // 100)


def _rating_words(rating: Rating) -> str:
    return f"{rating.value.upper()} ({rating.meaning})"


def _month_step(months: int) -> int:
    """Label every month, or every 2, 3, 6, 12… so that at most twelve labels fit."""
    for step in (1, 2, 3, 6, 12, 24, 60, 120):
        if months // step <= 12:
            return step
    return 240


def _spread(wanted: list[float], low: float, high: float) -> list[float]:
    """Label centres as near ``wanted`` (top to bottom) as they can be, ``LABEL_H`` apart
    and within [low, high]."""
    placed: list[float] = []
    for centre in wanted:
        placed.append(max(centre, low, placed[-1] + LABEL_H if placed else low))
    for index in range(len(placed) - 1, -1, -1):
        ceiling = high if index == len(placed) - 1 else placed[index + 1] - LABEL_H
        placed[index] = min(placed[index], ceiling)
    return placed


def projection_chart(facts: StockpileFacts, points: list[ProjectionPoint], *, title: str) -> Markup:
    """Available stock month by month after a transfer, against the requirement and the green
    level, over red, yellow and green bands named in words.

    The transfer is the drop at "now" from what is available to what is left after giving
    it; the months after add production and expected deliveries.
    """
    prefix = unique_id("projection")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    months = points[-1].month if points else 0
    step_x = (plot_w - NOW_GAP - 8) / max(months, 1)
    requirement = facts.requirement
    green = points[0].green_level if points else requirement
    yellow = yellow_level(facts)
    values = [facts.available, *(p.available for p in points)]
    low, high = min(0, *values), max(green, requirement, *values)
    high += high // 10 + 1  # room above the highest line
    step_y = nice_ticks(high - low, most=4)[1]
    axis_low, axis_high = step_y * (low // step_y), step_y * -(-high // step_y)

    def x(month: int) -> float:
        return LEFT + NOW_GAP + month * step_x

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * (value - axis_low) / (axis_high - axis_low)

    recover = recovery_words(facts.months_to_recover)
    summary = (
        f"{facts.holder} {facts.system}: now {facts.available:,} available,"
        f" {_rating_words(facts.now)}; after giving {facts.quantity:,},"
        f" {facts.available_after:,}, {_rating_words(facts.after)}; {recover}."
        f" Requirement {requirement:,}; green from {green:,}."
    )
    parts = [
        f'<svg class="chart chart--projection" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{attr(title)}</title>',
        f'<desc id="{prefix}-desc">{attr(summary)}</desc>',
        "<defs>"
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto">'
        '<path class="arrowhead" d="M 0 0 L 10 5 L 0 10 z"/></marker>'
        "</defs>",
    ]
    bands = []
    for rating, start, end in (
        (Rating.GREEN, green, axis_high),
        (Rating.YELLOW, yellow, green),
        (Rating.RED, axis_low, yellow),
    ):
        start, end = max(start, axis_low), min(end, axis_high)
        if end > start:
            bands.append((rating, y(end), y(start)))
    for rating, y_top, y_bottom in bands:
        parts.append(
            f'<rect class="band band--{rating.value}" x="{LEFT}" y="{y_top:.1f}" '
            f'width="{plot_w}" height="{y_bottom - y_top:.1f}"/>'
            f'<rect class="band band--{rating.value} band-key" x="{WIDTH - RIGHT + 6}" '
            f'y="{y_top:.1f}" width="8" height="{y_bottom - y_top:.1f}"/>'
        )
    centres = _spread(
        [(y_top + y_bottom) / 2 for _, y_top, y_bottom in bands],
        TOP + LABEL_H / 2,
        TOP + plot_h - LABEL_H / 2,
    )
    for (rating, _, _), centre in zip(bands, centres, strict=True):
        parts.append(
            f'<text class="band-label" x="{WIDTH - RIGHT + 20}" y="{centre - 3:.1f}">'
            f"{rating.value.upper()}"
            f'<tspan class="band-meaning" x="{WIDTH - RIGHT + 20}" dy="1.2em">'
            f"{attr(rating.meaning)}</tspan></text>"
        )
    for value in range(axis_low, axis_high + 1, step_y):
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{LEFT - 8}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value:,}</text>'
        )
    for cls, level in (("requirement", requirement), ("green-level", green)):
        parts.append(
            f'<line class="level level--{cls}" x1="{x(0) - 4:.1f}" y1="{y(level):.1f}" '
            f'x2="{WIDTH - RIGHT}" y2="{y(level):.1f}"/>'
        )
    label_every = _month_step(months)
    axis_y = TOP + plot_h
    parts.append(
        f'<text class="tick" x="{x(0):.1f}" y="{axis_y + 18}" text-anchor="middle">now</text>'
    )
    for point in points[1:]:
        if point.month % label_every == 0:
            parts.append(
                f'<text class="tick" x="{x(point.month):.1f}" y="{axis_y + 18}" '
                f'text-anchor="middle">{point.month}</text>'
            )
    parts.append(
        f'<text class="tick" x="{x(0) + (plot_w - NOW_GAP) / 2:.1f}" y="{axis_y + 36}" '
        'text-anchor="middle">months from today</text>'
        f'<line class="axis" x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}"/>'
    )
    if facts.quantity:
        label_y = (y(facts.available) + y(facts.available_after)) / 2 + 4
        parts.append(
            f'<line class="drop" x1="{x(0):.1f}" y1="{y(facts.available):.1f}" '
            f'x2="{x(0):.1f}" y2="{y(facts.available_after):.1f}" '
            f'marker-end="url(#{prefix}-arrow)"/>'
            f'<text class="drop-label" x="{x(0) - 8:.1f}" '
            f'y="{label_y:.1f}" '
            f'text-anchor="end"><tspan x="{x(0) - 8:.1f}" dy="-0.6em">transfer </tspan>'
            f'<tspan x="{x(0) - 8:.1f}" dy="1.2em">of {facts.quantity:,}</tspan></text>'
        )
    line = " ".join(f"{x(p.month):.1f},{y(p.available):.1f}" for p in points)
    parts.append(
        f'<polyline class="available" points="{line}"/>'
        f'<circle class="pt pt--{facts.now.value}" cx="{x(0):.1f}" '
        f'cy="{y(facts.available):.1f}" r="4"><title>Now, before the transfer: '
        f"{facts.available:,} available, {attr(_rating_words(facts.now))}</title></circle>"
    )
    for point in points:
        when = "after the transfer" if point.month == 0 else f"month {point.month}"
        parts.append(
            f'<circle class="pt pt--{point.rating.value}" cx="{x(point.month):.1f}" '
            f'cy="{y(point.available):.1f}" r="3.5"><title>{attr(when)}, {point.on.isoformat()}:'
            f" {point.available:,} available, {attr(_rating_words(point.rating))}</title></circle>"
        )
    legend_y = HEIGHT - 34
    parts.append(
        f'<line class="available" x1="{LEFT}" y1="{legend_y - 4}" x2="{LEFT + 24}" '
        f'y2="{legend_y - 4}"/>'
        f'<text class="legend" x="{LEFT + 30}" y="{legend_y}">available</text>'
        f'<line class="level level--requirement" x1="{LEFT + 120}" y1="{legend_y - 4}" '
        f'x2="{LEFT + 144}" y2="{legend_y - 4}"/>'
        f'<text class="legend" x="{LEFT + 150}" y="{legend_y}">requirement {requirement:,}</text>'
        f'<line class="level level--green-level" x1="{LEFT + 300}" y1="{legend_y - 4}" '
        f'x2="{LEFT + 324}" y2="{legend_y - 4}"/>'
        f'<text class="legend" x="{LEFT + 330}" y="{legend_y}">green from {green:,}</text>'
        f'<text class="legend" x="{LEFT}" y="{legend_y + 22}">bands: red below'
        f" {yellow:,}, yellow from {yellow:,}, green from {green:,}</text>"
        "</svg>"
    )
    return Markup("".join(parts))
