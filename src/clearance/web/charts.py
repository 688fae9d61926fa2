"""Charts and graphs drawn on the server as inline SVG: no script, no chart library, no internet.

Each drawing is a labelled image (``role="img"`` with a title and a
description) and its page also gives the same facts as text or a table, so
nothing is only in the picture. Colours come from classes in app.css (the
CSP allows no inline style); shapes also differ (hatching, dots) so that a
series is never told apart by colour alone.

The pages find every drawing here; the consent-holder graph, laid out by
rules of its own, is drawn in ``consent_graph``.

The module runs past 400 lines because its drawings share their helpers (scales,
hatching patterns, month labels) and each lays out its own axes, labels and text
alternative in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from clearance.core.stockpile import ProjectionPoint, Rating, StockpileFacts
from clearance.core.workflow import CaseState
from clearance.service.oversight import MonthFigures

from .consent_graph import holders_graph
from .svg import attr, nice_ticks, unique_id

__all__ = [
    "SERIES",
    "MonthCounts",
    "changes_chart",
    "decisions_chart",
    "holders_graph",
    "projection_chart",
    "recovery_words",
    "waiting_chart",
]

SERIES: tuple[tuple[str, str], ...] = (
    (CaseState.APPROVED, "approved"),
    (CaseState.APPROVED_WITH_CONDITIONS, "approved with conditions"),
    (CaseState.DENIED, "denied"),
)
"""The decisions the chart counts: (case state, label)."""


@dataclass
class MonthCounts:
    """Decisions of one month by kind (a key of ``SERIES``)."""

    month: str  # YYYY-MM
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _month_label(month: str) -> str:
    year, number = month.split("-")
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{names[int(number) - 1]} {year}"


def _nice_top(value: int) -> int:
    """A round axis maximum at or above ``value``: four gridlines of 1, 2 or 5 × 10ⁿ each."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude * 4 >= value:
                return step * magnitude * 4
        magnitude *= 10


def _patterns(prefix: str) -> str:
    return (
        "<defs>"
        f'<pattern id="{prefix}-hatch" class="pattern" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect class="pattern-denied" width="6" height="6"/>'
        '<line class="hatch" x1="0" y1="0" x2="0" y2="6"/></pattern>'
        f'<pattern id="{prefix}-dots" class="pattern" width="6" height="6" '
        'patternUnits="userSpaceOnUse">'
        '<rect class="pattern-conditions" width="6" height="6"/>'
        '<circle class="dot" cx="3" cy="3" r="1.3"/></pattern>'
        "</defs>"
    )


def _fill(prefix: str, key: str) -> str:
    if key == CaseState.DENIED:
        return f' fill="url(#{prefix}-hatch)"'
    if key == CaseState.APPROVED_WITH_CONDITIONS:
        return f' fill="url(#{prefix}-dots)"'
    return ""


def decisions_chart(months: list[MonthCounts], *, title: str) -> Markup:
    """A stacked bar per month: approved, approved with conditions, denied.

    The months are the caller's (the span that has decisions); the axis rises in whole
    numbers to the first round value at or above the busiest month, and no further.
    """
    prefix = unique_id("chart")
    width, height = 1000, 300
    left, right, top, bottom = 48, 16, 24, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max((m.total for m in months), default=0))
    axis_top = ticks[-1]
    slot = plot_w / max(len(months), 1)
    bar = min(64.0, slot * 0.6)
    totals = {key: sum(m.counts.get(key, 0) for m in months) for key, _ in SERIES}
    summary = "; ".join(f"{totals[key]} {label}" for key, label in SERIES)
    span = f"{_month_label(months[0].month)} to {_month_label(months[-1].month)}" if months else ""
    parts = [
        f'<svg class="chart chart--decisions" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{attr(title)}</title>',
        f'<desc id="{prefix}-desc">{attr(span)}: {attr(summary)}.</desc>',
        _patterns(prefix),
    ]
    for value in ticks:
        y = top + plot_h - plot_h * value / axis_top
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    for index, month in enumerate(months):
        x = left + slot * index + (slot - bar) / 2
        y = top + plot_h
        for key, label in SERIES:
            n = month.counts.get(key, 0)
            if not n:
                continue
            h = plot_h * n / axis_top
            y -= h
            parts.append(
                f'<rect class="seg seg--{key}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"{_fill(prefix, key)}>'
                f"<title>{attr(_month_label(month.month))}: {n} {attr(label)}</title></rect>"
            )
        if month.total:
            parts.append(
                f'<text class="total" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" '
                f'text-anchor="middle">{month.total}</text>'
            )
        name, year = _month_label(month.month).split()
        cx = left + slot * index + slot / 2
        parts.append(
            f'<text class="tick" x="{cx:.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
            f"{name}</text>"
        )
        if index == 0 or month.month.endswith("-01"):
            parts.append(
                f'<text class="tick" x="{cx:.1f}" y="{top + plot_h + 34}" '
                f'text-anchor="middle">{year}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}"/>'
    )
    legend_y = height - 10
    x = left
    for key, label in SERIES:
        parts.append(
            f'<rect class="seg seg--{key}" x="{x}" y="{legend_y - 11}" width="14" height="14"'
            f"{_fill(prefix, key)}/>"
            f'<text class="legend" x="{x + 20}" y="{legend_y}">{attr(label)}</text>'
        )
        x += 40 + 8 * len(label)
    parts.append("</svg>")
    return Markup("".join(parts))


# stockpile projection -----------------------------------------------------------


def _nice_step(span: int) -> int:
    """A round gridline step (1, 2 or 5 × 10ⁿ) that covers ``span`` in at most four steps."""
    return _nice_top(max(span, 1)) // 4


def _month_step(months: int) -> int:
    """Label every month, or every 2, 3, 6, 12… so that at most twelve labels fit."""
    for step in (1, 2, 3, 6, 12, 24, 60, 120):
        if months // step <= 12:
            return step
    return 240


def recovery_words(months: int | None) -> str:
    """``green right after``, ``green again in 8 months``, or ``never green again …``."""
    if months is None:
        return "never green again at this production rate"
    if months == 0:
        return "green right after"
    return f"green again in {months} month{'' if months == 1 else 's'}"


def _rating_words(rating: Rating) -> str:
    return f"{rating.value.upper()} ({rating.meaning})"


def projection_chart(facts: StockpileFacts, points: list[ProjectionPoint], *, title: str) -> Markup:
    """Available stock month by month after a transfer, against the requirement and the green
    level, over red, yellow and green bands named in words.

    The transfer is the drop at month 0 from what is available now to what is left after
    giving it; the months after add production and expected deliveries.
    """
    prefix = unique_id("projection")
    width, height = 760, 350
    left, right, top, bottom = 64, 112, 20, 96
    plot_w, plot_h = width - left - right, height - top - bottom
    now_gap = 80.0  # room left of month 0 for "now" and the transfer's label
    months = points[-1].month if points else 0
    step_x = (plot_w - now_gap - 8) / max(months, 1)
    requirement = facts.requirement
    green = points[0].green_level if points else requirement
    yellow = -(-requirement * facts.thresholds.yellow_percent // 100)  # least rated yellow
    values = [facts.available, *(p.available for p in points)]
    low, high = min(0, *values), max(green, requirement, *values)
    high += high // 10 + 1  # headroom above the highest line, for its label
    step_y = _nice_step(high - low)
    axis_low = step_y * (low // step_y)
    axis_high = step_y * -(-high // step_y)

    def x(month: int) -> float:
        return left + now_gap + month * step_x

    def y(value: float) -> float:
        return top + plot_h - plot_h * (value - axis_low) / (axis_high - axis_low)

    recover = recovery_words(facts.months_to_recover)
    summary = (
        f"{facts.holder} {facts.system}: now {facts.available:,} available,"
        f" {_rating_words(facts.now)}; after giving {facts.quantity:,},"
        f" {facts.available_after:,}, {_rating_words(facts.after)}; {recover}."
        f" Requirement {requirement:,}; green from {green:,}."
    )
    parts = [
        f'<svg class="chart chart--projection" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{attr(title)}</title>',
        f'<desc id="{prefix}-desc">{attr(summary)}</desc>',
        "<defs>"
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto">'
        '<path class="arrowhead" d="M 0 0 L 10 5 L 0 10 z"/></marker>'
        "</defs>",
    ]
    bands = (
        (Rating.RED, axis_low, yellow),
        (Rating.YELLOW, yellow, green),
        (Rating.GREEN, green, axis_high),
    )
    for rating, start, end in bands:
        start, end = max(start, axis_low), min(end, axis_high)
        if end <= start:
            continue
        y_top, y_bottom = y(end), y(start)
        parts.append(
            f'<rect class="band band--{rating.value}" x="{left}" y="{y_top:.1f}" '
            f'width="{plot_w}" height="{y_bottom - y_top:.1f}"/>'
        )
        if y_bottom - y_top >= 16:
            parts.append(
                f'<text class="band-label" x="{width - right - 6}" y="{y_top + 14:.1f}" '
                f'text-anchor="end">{attr(_rating_words(rating))}</text>'
            )
    value = axis_low
    while value <= axis_high:
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y(value):.1f}" x2="{width - right}" '
            f'y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value:,}</text>'
        )
        value += step_y
    # The two levels are named in the margin at the right, apart even when they are close.
    green_label_y = min(y(green) + 4, y(requirement) + 4 - 14)
    for cls, level, label, label_y in (
        ("requirement", requirement, f"requirement {requirement:,}", y(requirement) + 4),
        ("green-level", green, f"green from {green:,}", green_label_y),
    ):
        parts.append(
            f'<line class="level level--{cls}" x1="{left}" y1="{y(level):.1f}" '
            f'x2="{width - right}" y2="{y(level):.1f}"/>'
            f'<text class="level-label" x="{width - right + 6}" y="{label_y:.1f}">'
            f"{attr(label)}</text>"
        )
    label_every = _month_step(months)
    axis_y = top + plot_h
    parts.append(
        f'<text class="tick" x="{left + 14:.1f}" y="{axis_y + 18}" text-anchor="middle">now</text>'
    )
    for point in points:
        if point.month % label_every == 0:
            parts.append(
                f'<text class="tick" x="{x(point.month):.1f}" y="{axis_y + 18}" '
                f'text-anchor="middle">{point.month}</text>'
            )
    parts.append(
        f'<text class="tick" x="{left + plot_w / 2:.1f}" y="{axis_y + 36}" '
        'text-anchor="middle">months from today</text>'
        f'<line class="axis" x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}"/>'
    )
    if facts.quantity:
        parts.append(
            f'<line class="drop" x1="{x(0):.1f}" y1="{y(facts.available):.1f}" '
            f'x2="{x(0):.1f}" y2="{y(facts.available_after):.1f}" '
            f'marker-end="url(#{prefix}-arrow)"/>'
            f'<text class="drop-label" x="{x(0) - 6:.1f}" '
            f'y="{(y(facts.available) + y(facts.available_after)) / 2 + 4:.1f}" '
            f'text-anchor="end"><tspan x="{x(0) - 6:.1f}" dy="-0.6em">transfer </tspan>'
            f'<tspan x="{x(0) - 6:.1f}" dy="1.2em">of {facts.quantity:,}</tspan></text>'
        )
    line = [f"{left + 14:.1f},{y(facts.available):.1f}", f"{x(0):.1f},{y(facts.available):.1f}"]
    line += [f"{x(p.month):.1f},{y(p.available):.1f}" for p in points]
    parts.append(
        f'<polyline class="available" points="{" ".join(line[:2])}"/>'
        f'<polyline class="available" points="{" ".join(line[2:])}"/>'
        f'<circle class="pt pt--{facts.now.value}" cx="{left + 14:.1f}" '
        f'cy="{y(facts.available):.1f}" r="4"><title>Now: {facts.available:,} available, '
        f"{attr(_rating_words(facts.now))}</title></circle>"
    )
    for point in points:
        when = "after the transfer" if point.month == 0 else f"month {point.month}"
        parts.append(
            f'<circle class="pt pt--{point.rating.value}" cx="{x(point.month):.1f}" '
            f'cy="{y(point.available):.1f}" r="3.5"><title>{attr(when)}, {point.on.isoformat()}:'
            f" {point.available:,} available, {attr(_rating_words(point.rating))}</title></circle>"
        )
    legend_y = height - 34
    parts.append(
        f'<line class="available" x1="{left}" y1="{legend_y - 4}" x2="{left + 24}" '
        f'y2="{legend_y - 4}"/>'
        f'<text class="legend" x="{left + 30}" y="{legend_y}">available</text>'
        f'<line class="level level--requirement" x1="{left + 120}" y1="{legend_y - 4}" '
        f'x2="{left + 144}" y2="{legend_y - 4}"/>'
        f'<text class="legend" x="{left + 150}" y="{legend_y}">requirement</text>'
        f'<line class="level level--green-level" x1="{left + 260}" y1="{legend_y - 4}" '
        f'x2="{left + 284}" y2="{legend_y - 4}"/>'
        f'<text class="legend" x="{left + 290}" y="{legend_y}">green level</text>'
        f'<text class="legend" x="{left}" y="{legend_y + 22}">bands: red below'
        f" {yellow:,}, yellow from {yellow:,}, green from {green:,}</text>"
        "</svg>"
    )
    return Markup("".join(parts))


# a proposal's impact ------------------------------------------------------------


def changes_chart(kinds: list[tuple[str, int]], *, title: str) -> Markup:
    """One labelled horizontal bar per kind of change (``review_required → permitted``), most
    first; each bar is named and counted in text beside it, so no colour is needed to read it."""
    prefix = unique_id("changes")
    label_w, bar_w, count_w, row_h, top = 300, 380, 60, 30, 12
    width = label_w + bar_w + count_w
    height = top * 2 + row_h * max(len(kinds), 1)
    most = max((n for _, n in kinds), default=0)
    summary = "; ".join(f"{n} {kind}" for kind, n in kinds) or "no change"
    parts = [
        f'<svg class="chart chart--changes" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{attr(title)}</title>',
        f'<desc id="{prefix}-desc">{attr(summary)}.</desc>',
    ]
    for index, (kind, n) in enumerate(kinds):
        y = top + index * row_h
        length = bar_w * n / most if most else 0
        parts.append(
            f'<text class="tick" x="{label_w - 10}" y="{y + row_h / 2 + 4:.1f}" '
            f'text-anchor="end">{attr(kind)}</text>'
            f'<rect class="change-bar" x="{label_w}" y="{y + 5}" width="{length:.1f}" '
            f'height="{row_h - 10}"><title>{n} {attr(kind)}</title></rect>'
            f'<text class="total" x="{label_w + length + 6:.1f}" y="{y + row_h / 2 + 4:.1f}">'
            f"{n}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{label_w}" y1="{top}" x2="{label_w}" y2="{height - top}"/></svg>'
    )
    return Markup("".join(parts))


# time to decision ---------------------------------------------------------------


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def waiting_chart(months: Sequence[MonthFigures], *, title: str) -> Markup:
    """Two bars a month, in working days to an answer: the median (solid) and the 90th
    percentile (hatched), each labelled with its value; under each month, how many
    answers it had (a month with none has no bars)."""
    prefix = unique_id("waiting")
    width, height = 760, 320
    left, right, top, bottom = 48, 16, 24, 84
    plot_w, plot_h = width - left - right, height - top - bottom
    axis_top = _nice_top(max((m.p90_days or 0 for m in months), default=0))
    slot = plot_w / max(len(months), 1)
    bar = min(28.0, slot * 0.35)
    answered = [m for m in months if m.decided]
    span = f"{_month_label(months[0].month)} to {_month_label(months[-1].month)}" if months else ""
    summary = "; ".join(
        f"{_month_label(m.month)}: median {_days(m.median_days)},"
        f" 90th percentile {_days(m.p90_days)} ({m.decided} decided)"
        for m in answered
    )
    parts = [
        f'<svg class="chart chart--waiting" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{attr(title)}</title>',
        f'<desc id="{prefix}-desc">{attr(span)}, working days: {attr(summary or "no answer")}.</desc>',
        "<defs>"
        f'<pattern id="{prefix}-hatch" class="pattern" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect class="pattern-p90" width="6" height="6"/>'
        '<line class="hatch" x1="0" y1="0" x2="0" y2="6"/></pattern>'
        "</defs>",
    ]
    for step in range(5):
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{axis_top * step // 4}</text>"
        )
    for index, month in enumerate(months):
        centre = left + slot * index + slot / 2
        label = _month_label(month.month)
        for offset, value, key, fill, words in (
            (-bar, month.median_days, "median", "", "median"),
            (0.0, month.p90_days, "p90", f' fill="url(#{prefix}-hatch)"', "90th percentile"),
        ):
            if value is None:
                continue
            h = plot_h * value / axis_top
            x, y = centre + offset, top + plot_h - h
            parts.append(
                f'<rect class="wait wait--{key}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"{fill}><title>{attr(label)}: {words} {_days(value)} working'
                f" days</title></rect>"
                f'<text class="total" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" '
                f'text-anchor="middle">{_days(value)}</text>'
            )
        name, year = label.split()
        parts.append(
            f'<text class="tick" x="{centre:.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle">{name}</text>'
        )
        if index == 0 or month.month.endswith("-01"):
            parts.append(
                f'<text class="tick" x="{centre:.1f}" y="{top + plot_h + 34}" '
                f'text-anchor="middle">{year}</text>'
            )
        parts.append(
            f'<text class="tick" x="{centre:.1f}" y="{top + plot_h + 50}" '
            f'text-anchor="middle">{month.decided} decided</text>'
        )
    legend_y = height - 10
    parts.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}"/>'
        f'<rect class="wait wait--median" x="{left}" y="{legend_y - 11}" width="14" '
        'height="14"/>'
        f'<text class="legend" x="{left + 20}" y="{legend_y}">median</text>'
        f'<rect class="wait wait--p90" x="{left + 100}" y="{legend_y - 11}" width="14" '
        f'height="14" fill="url(#{prefix}-hatch)"/>'
        f'<text class="legend" x="{left + 120}" y="{legend_y}">90th percentile</text>'
        f'<text class="legend" x="{width - right}" y="{legend_y}" text-anchor="end">'
        "working days to an answer</text></svg>"
    )
    return Markup("".join(parts))
