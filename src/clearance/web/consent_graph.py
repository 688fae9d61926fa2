"""The consent-holder graph of a system: who must consent to its transfer, and through what.

Layered left to right: the system, the components its holders reach it through, the
holders. The layout keeps every label clear of boxes, of other labels and of other edges
by construction, not by luck:

- an edge that would skip a layer passes through it in a row of its own (a waypoint), so
  every edge joins neighbouring layers and none crosses a box;
- between two layers, each edge first curves in a band of its own and then runs straight
  into its target for the last stretch, a *label lane* as wide as the widest label into
  that layer; curves never enter the lane;
- an edge's label sits just above its straight run, and the runs into one box enter it at
  ports spread at least ``PORT`` apart, taller than a label, so no label reaches the run
  above it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from clearance.core.holders import Basis, ConsentHolder

from .svg import attr, unique_id, width_of

__all__ = ["holders_graph"]

NODE_W, NODE_H = 200, 44
PORT = 26
"""Vertical room per edge entering a box: more than a label's height, so that a label over
one run stays clear of the run above it."""
GAP_Y, CURVE, MARGIN, ARROW, LABEL_PAD = 28, 70, 16, 12, 8
_KINDS = {"system": "system", "component": "component", "party": "consent holder"}


@dataclass
class _Node:
    key: str
    label: str
    kind: str  # system | component | party | waypoint
    detail: str
    column: int = 0
    height: float = NODE_H
    top: float = 0.0
    sources: list[str] = field(default_factory=list)

    @property
    def middle(self) -> float:
        return self.top + self.height / 2


@dataclass
class _Edge:
    hops: list[str]  # from its source through any waypoints to its target
    label: str


def _edge_label(basis: Basis, share: Any) -> str:
    if basis in (Basis.COMPONENT, Basis.SEE_THROUGH) and share is not None:
        return f"{basis.value}, {float(share * 100):g}% of value"
    return basis.value


def _collect(
    system_id: str,
    system_name: str,
    holders: tuple[ConsentHolder, ...],
    names: dict[str, str],
    component_names: dict[str, str],
) -> tuple[dict[str, _Node], dict[tuple[str, str], set[str]]]:
    """The boxes and the labelled edges between them, before layout."""
    root = f"s:{system_id}"
    nodes = {root: _Node(root, system_id, "system", system_name)}
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for holder in holders:
        for path in holder.paths:
            previous = root
            for level, component in enumerate(path.via[1:], start=1):
                key = f"c:{component}"
                detail = component_names.get(component, component)
                node = nodes.setdefault(key, _Node(key, component, "component", detail))
                node.column = max(node.column, level)
                edges[(previous, key)]
                previous = key
            party = f"p:{holder.party}"
            name = names.get(holder.party, holder.party)
            short = len(name) + len(holder.party) < 22
            label = f"{holder.party} ({name})" if short else holder.party
            nodes.setdefault(party, _Node(party, label, "party", name))
            edges[(previous, party)].add(_edge_label(path.basis, path.share))
    for start, end in edges:
        nodes[end].sources.append(start)
    for node in nodes.values():
        if node.kind == "party":  # after the deepest item that gives it its right
            node.column = 1 + max(nodes[s].column for s in node.sources)
    return nodes, edges


def _route(nodes: dict[str, _Node], edges: dict[tuple[str, str], set[str]]) -> list[_Edge]:
    """Each edge as its hops, with a waypoint in every layer it would otherwise skip."""
    routed = []
    for (start, end), labels in sorted(edges.items()):
        hops = [start]
        for column in range(nodes[start].column + 1, nodes[end].column):
            key = f"w:{start}>{end}@{column}"
            nodes[key] = _Node(key, "", "waypoint", "", column=column, height=PORT)
            nodes[key].sources.append(hops[-1])
            hops.append(key)
        if len(hops) > 1:
            nodes[end].sources = [hops[-1] if s == start else s for s in nodes[end].sources]
        hops.append(end)
        routed.append(_Edge(hops, "; ".join(sorted(labels))))
    return routed


def _stack(nodes: dict[str, _Node]) -> tuple[list[list[_Node]], float]:
    """Order each layer by the mean height of its sources (short edges, few crossings) and
    stack it, centred; each box tall enough for a port per edge entering it."""
    last = max(node.column for node in nodes.values())
    layers: list[list[_Node]] = []
    for column in range(last + 1):
        members = [n for n in nodes.values() if n.column == column]
        for node in members:
            if node.kind != "waypoint":
                node.height = max(NODE_H, PORT * (len(node.sources) + 1))

        def centre(node: _Node) -> float:
            above = [nodes[s].middle for s in node.sources]
            return sum(above) / len(above) if above else 0.0

        members.sort(key=lambda n: (centre(n), n.kind, n.label, n.key))
        top = 0.0
        for node in members:
            node.top = top
            top += node.height + GAP_Y
        layers.append(members)
    height = max(sum(n.height for n in m) + GAP_Y * (len(m) - 1) for m in layers)
    for members in layers:
        used = sum(n.height for n in members) + GAP_Y * (len(members) - 1)
        for node in members:
            node.top += MARGIN + (height - used) / 2
    return layers, height + 2 * MARGIN


def holders_graph(
    system_id: str,
    system_name: str,
    holders: tuple[ConsentHolder, ...],
    names: dict[str, str],
    component_names: dict[str, str],
) -> Markup:
    """The system on the left, the components its holders reach it through, the holders on the
    right; every edge into a holder is labelled with what gives it the right."""
    prefix = unique_id("graph")
    nodes, labelled = _collect(system_id, system_name, holders, names, component_names)
    edges = _route(nodes, labelled)
    layers, height = _stack(nodes)
    lanes = [0.0] * len(layers)  # the straight last stretch into each layer
    for edge in edges:
        column = nodes[edge.hops[-1]].column
        wanted = width_of(edge.label) + 2 * LABEL_PAD + ARROW if edge.label else ARROW * 2
        lanes[column] = max(lanes[column], wanted)
    lefts = [float(MARGIN)]
    for column in range(1, len(layers)):
        lefts.append(lefts[-1] + NODE_W + CURVE + lanes[column])
    width = lefts[-1] + NODE_W + MARGIN

    # Ports: the edges entering a box, spread down its left side in the order of their sources.
    ports: dict[tuple[str, str], float] = {}
    for node in nodes.values():
        ordered = sorted(node.sources, key=lambda s: nodes[s].middle)
        for index, source in enumerate(ordered):
            if node.kind == "waypoint":
                ports[(source, node.key)] = node.middle
            else:
                ports[(source, node.key)] = node.top + node.height * (index + 1) / (
                    len(ordered) + 1
                )

    holder_list = ", ".join(h.party for h in holders)
    parts = [
        f'<svg class="graph" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">Consent holders of {attr(system_id)}</title>',
        f'<desc id="{prefix}-desc">{attr(system_id)} needs the consent of {attr(holder_list)}; '
        "the list of paths below the graph says why.</desc>",
        "<defs>"
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path class="arrowhead" d="M 0 0 L 10 5 L 0 10 z"/></marker>'
        "</defs>",
    ]
    for edge in edges:
        start = nodes[edge.hops[0]]
        x, y = lefts[start.column] + NODE_W, start.middle
        path = [f"M {x:.1f} {y:.1f}"]
        for before, after in zip(edge.hops, edge.hops[1:], strict=False):
            target = nodes[after]
            port, left = ports[(before, after)], lefts[target.column]
            lane_start = left - lanes[target.column]
            bend = (lane_start - x) / 2
            path.append(
                f"C {x + bend:.1f} {y:.1f}, {lane_start - bend:.1f} {port:.1f}, "
                f"{lane_start:.1f} {port:.1f} L {left:.1f} {port:.1f}"
            )
            x, y = left, port
            if target.kind == "waypoint":  # straight on through the layer it passes
                x = left + NODE_W
                path.append(f"L {x:.1f} {y:.1f}")
        parts.append(f'<path class="edge" d="{" ".join(path)}" marker-end="url(#{prefix}-arrow)"/>')
        if edge.label:
            column = nodes[edge.hops[-1]].column
            middle = lefts[column] - (lanes[column] + ARROW) / 2
            parts.append(
                f'<text class="edge-label" x="{middle:.1f}" y="{y - 6:.1f}" '
                f'text-anchor="middle">{attr(edge.label)}</text>'
            )
    for node in nodes.values():
        if node.kind == "waypoint":
            continue
        x, y = lefts[node.column], node.top
        long = " node-label--long" if len(node.label) > 20 else ""
        parts.append(
            f'<g class="node node-{node.kind}"><title>{attr(node.detail)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{node.height:.0f}" rx="6"/>'
            f'<text class="node-kind" x="{x + 10:.1f}" y="{node.middle - 6:.1f}">'
            f"{_KINDS[node.kind]}</text>"
            f'<text class="node-label{long}" x="{x + 10:.1f}" y="{node.middle + 12:.1f}">'
            f"{attr(node.label)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
