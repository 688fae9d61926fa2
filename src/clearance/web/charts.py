"""Charts and graphs drawn on the server as inline SVG: no script, no chart library, no internet.

Each drawing is a labelled image (``role="img"`` with a title and a
description) and its page also gives the same facts as text or a table, so
nothing is only in the picture. Colours come from classes in app.css (the
CSP allows no inline style); shapes also differ (hatching, dots) so that a
series is never told apart by colour alone.

The consent-holder graph and the stockpile projection, each laid out by rules of
its own, are drawn in ``consent_graph`` and ``projection_chart``; the graph and
the projection's words are found here too, where the pages have always found them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from clearance.core.workflow import CaseState
from clearance.service.oversight import MonthFigures

from .consent_graph import holders_graph
from .projection_chart import recovery_words
from .svg import attr, nice_ticks, unique_id

__all__ = [
    "SERIES",
    "MonthCounts",
    "changes_chart",
    "decisions_chart",
    "holders_graph",
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
