"""Charts and graphs drawn on the server as inline SVG: no script, no chart library, no internet.

Each drawing is a labelled image (``role="img"`` with a title and a
description) and its page also gives the same facts as text or a table, so
nothing is only in the picture. Colours come from classes in app.css (the
CSP allows no inline style); shapes also differ (hatching, dots) so that a
series is never told apart by colour alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from itertools import count
from typing import Any

from markupsafe import Markup

from clearance.core.holders import Basis, ConsentHolder

__all__ = ["SERIES", "MonthCounts", "decisions_chart", "holders_graph"]

SERIES: tuple[tuple[str, str], ...] = (
    ("approved", "approved"),
    ("approved_with_conditions", "approved with conditions"),
    ("denied", "denied"),
)
"""The decisions the chart counts: (case state, label)."""

_ids = count(1)


def _a(value: object) -> str:
    return escape(str(value), quote=True)


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
    if key == "denied":
        return f' fill="url(#{prefix}-hatch)"'
    if key == "approved_with_conditions":
        return f' fill="url(#{prefix}-dots)"'
    return ""


def decisions_chart(months: list[MonthCounts], *, title: str) -> Markup:
    """A stacked bar per month: approved, approved with conditions, denied."""
    prefix = f"chart{next(_ids)}"
    width, height = 760, 300
    left, right, top, bottom = 48, 16, 24, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((m.total for m in months), default=0)
    axis_top = _nice_top(peak)
    slot = plot_w / max(len(months), 1)
    bar = min(40.0, slot * 0.6)
    totals = {key: sum(m.counts.get(key, 0) for m in months) for key, _ in SERIES}
    summary = "; ".join(f"{totals[key]} {label}" for key, label in SERIES)
    span = f"{_month_label(months[0].month)} to {_month_label(months[-1].month)}" if months else ""
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{_a(title)}</title>',
        f'<desc id="{prefix}-desc">{_a(span)}: {_a(summary)}.</desc>',
        _patterns(prefix),
    ]
    for step in range(5):
        value = axis_top * step // 4
        y = top + plot_h - plot_h * step / 4
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
                f"<title>{_a(_month_label(month.month))}: {n} {_a(label)}</title></rect>"
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
            f'<text class="legend" x="{x + 20}" y="{legend_y}">{_a(label)}</text>'
        )
        x += 40 + 8 * len(label)
    parts.append("</svg>")
    return Markup("".join(parts))


# consent-holder graph -----------------------------------------------------------


@dataclass
class _Node:
    key: str
    label: str
    kind: str  # system | component | party
    detail: str
    column: int = 0
    row: int = 0


_KINDS = {"system": "system", "component": "component", "party": "consent holder"}


def _edge_label(basis: Basis, share: Any) -> str:
    if basis in (Basis.COMPONENT, Basis.SEE_THROUGH) and share is not None:
        return f"{basis.value}, {float(share * 100):g}% of value"
    return basis.value


def _centre(nodes: dict[str, _Node], sources: list[str], column: int) -> float:
    """The mean row of a node's sources to its left: placing it there keeps edges short."""
    rows = [nodes[s].row for s in sources if nodes[s].column < column]
    return sum(rows) / len(rows) if rows else 0.0


def holders_graph(
    system_id: str,
    system_name: str,
    holders: tuple[ConsentHolder, ...],
    names: dict[str, str],
    component_names: dict[str, str],
) -> Markup:
    """The system on the left, the components its holders reach it through, the holders on the
    right; every edge into a holder is labelled with what gives it the right."""
    prefix = f"graph{next(_ids)}"
    nodes: dict[str, _Node] = {
        f"s:{system_id}": _Node(f"s:{system_id}", system_id, "system", system_name)
    }
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for holder in holders:
        for path in holder.paths:
            previous = f"s:{system_id}"
            for level, component in enumerate(path.via[1:], start=1):
                key = f"c:{component}"
                node = nodes.setdefault(
                    key,
                    _Node(key, component, "component", component_names.get(component, component)),
                )
                node.column = max(node.column, level)
                edges[(previous, key)]
                previous = key
            party = f"p:{holder.party}"
            name = names.get(holder.party, holder.party)
            label = (
                f"{holder.party} ({name})" if len(name) + len(holder.party) < 22 else holder.party
            )
            nodes.setdefault(party, _Node(party, label, "party", name))
            edges[(previous, party)].add(_edge_label(path.basis, path.share))
    # Layers: a holder sits in the column after the deepest item that gives it its right,
    # so that (almost) every edge joins neighbouring columns and crosses no box.
    sources: dict[str, list[str]] = defaultdict(list)
    for start, end in edges:
        sources[end].append(start)
    for node in nodes.values():
        if node.kind == "party":
            node.column = 1 + max(nodes[s].column for s in sources[node.key])
    last = max(node.column for node in nodes.values())
    columns: dict[int, list[_Node]] = defaultdict(list)
    for column in range(last + 1):
        members = [n for n in nodes.values() if n.column == column]

        members.sort(key=lambda n: (_centre(nodes, sources[n.key], n.column), n.kind, n.label))
        for row, node in enumerate(members):
            node.row = row
        columns[column] = members
    node_w, node_h, gap_x, gap_y, margin = 200, 44, 150, 30, 16
    tallest = max(len(c) for c in columns.values())
    height = margin * 2 + tallest * node_h + (tallest - 1) * gap_y
    width = margin * 2 + (last + 1) * node_w + last * gap_x
    where: dict[str, tuple[float, float]] = {}
    for column, members in columns.items():
        used = len(members) * node_h + (len(members) - 1) * gap_y
        y0 = (height - used) / 2
        for node in members:
            where[node.key] = (margin + column * (node_w + gap_x), y0 + node.row * (node_h + gap_y))
    holder_list = ", ".join(h.party for h in holders)
    parts = [
        f'<svg class="graph" viewBox="0 0 {width} {height:.0f}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">Consent holders of {_a(system_id)}</title>',
        f'<desc id="{prefix}-desc">{_a(system_id)} needs the consent of {_a(holder_list)}; '
        "the list of paths below the graph says why.</desc>",
        "<defs>"
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path class="arrowhead" d="M 0 0 L 10 5 L 0 10 z"/></marker>'
        "</defs>",
    ]
    for (start, end), labels in sorted(edges.items()):
        x1, y1 = where[start]
        x2, y2 = where[end]
        x1, y1 = x1 + node_w, y1 + node_h / 2
        y2 = y2 + node_h / 2
        bend = (x2 - x1) / 2
        parts.append(
            f'<path class="edge" d="M {x1:.1f} {y1:.1f} C {x1 + bend:.1f} {y1:.1f}, '
            f'{x2 - bend:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}" marker-end="url(#{prefix}-arrow)"/>'
        )
        for index, label in enumerate(sorted(labels)):
            lx, ly = x1 + (x2 - x1) * 0.5, y1 + (y2 - y1) * 0.5 - 6 + index * 14
            parts.append(
                f'<text class="edge-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle">'
                f"{_a(label)}</text>"
            )
    for node in nodes.values():
        x, y = where[node.key]
        parts.append(
            f'<g class="node node-{node.kind}"><title>{_a(node.detail)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{node_w}" height="{node_h}" rx="6"/>'
            f'<text class="node-kind" x="{x + 10:.1f}" y="{y + 16:.1f}">{_KINDS[node.kind]}</text>'
            f'<text class="node-label{" node-label--long" if len(node.label) > 20 else ""}" '
            f'x="{x + 10:.1f}" y="{y + 34:.1f}">{_a(node.label)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
