"""Where each node of a region goes in a drawing: ``layout(topo)``.

One horizontal row per tier (``Role.tier``): BAG on top, then STSW/EDSW, FTSW/FDSW, and the
leaves (RTSW/RDSW) at the bottom; ``y`` is the tier itself. Left to right the nodes are
grouped by region, then L2 fabric, then plane, then name (names compare with their numbers
as numbers, so ``rtsw10`` follows ``rtsw9``), so the result depends on the node set only,
never on file order. A fabric is a block as wide as its widest row; its other rows are
spread over the same width, so a fabric reads as a trapezoid of its own. A region's BAG
row spans the region's fabrics. Planes within a row are split by a one-slot gap.

Pure geometry, no matplotlib: ``room_pt`` turns the positions into the room each node has
in its row, which sizes its marker.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from ..model import Node, Role, Topology

_PLANE_GAP = 1.0  # slots between planes within a row
_MIN_FABRIC_GAP = 2.0  # slots between fabrics of a region


def natural_key(text: str) -> tuple[tuple[object, ...], str]:
    """Sort key comparing the numbers in names as numbers (``rtsw9`` before ``rtsw10``)."""
    parts = re.split(r"(\d+)", text)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text


def _node_order(n: Node) -> tuple[object, ...]:
    return (n.plane is not None, n.plane if n.plane is not None else -1, natural_key(n.name))


def _row_width(row: list[Node]) -> float:
    planes = len({n.plane for n in row})
    return len(row) + _PLANE_GAP * (planes - 1)


def _place_row(
    row: list[Node], x0: float, width: float, pos: dict[str, tuple[float, float]]
) -> None:
    """Spread ``row`` (already sorted) over [x0, x0 + width], a gap between planes."""
    raw: list[float] = []
    at, prev = 0.0, None
    for i, n in enumerate(row):
        if i and n.plane != prev:
            at += _PLANE_GAP
        raw.append(at)
        at += 1.0
        prev = n.plane
    span = at  # the row's own width in slots
    pitch = width / span
    for n, r in zip(row, raw, strict=True):
        pos[n.name] = (x0 + (r + 0.5) * pitch, float(n.role.tier))


def layout(topo: Topology) -> dict[str, tuple[float, float]]:
    """Node name -> (x, y): ``y`` is the tier (BAG 4 ... leaves 1), ``x`` in slots (one
    slot per node in a fabric's widest row), grouped by region, fabric, plane, name."""
    regions: dict[str, dict[str, dict[int, list[Node]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    bags: dict[str, list[Node]] = defaultdict(list)
    for n in topo.nodes:
        if n.role is Role.BAG:
            bags[n.region].append(n)
        else:
            regions[n.region][n.fabric][n.role.tier].append(n)
    for rows in regions.values():
        for tiers in rows.values():
            for row in tiers.values():
                row.sort(key=_node_order)
    for row in bags.values():
        row.sort(key=_node_order)

    widths = {
        (region, fabric): max(_row_width(row) for row in tiers.values())
        for region, fabrics in regions.items()
        for fabric, tiers in fabrics.items()
    }
    total = sum(widths.values()) or sum(len(b) for b in bags.values())
    fabric_gap = max(_MIN_FABRIC_GAP, 0.03 * total)
    region_gap = 2.5 * fabric_gap

    pos: dict[str, tuple[float, float]] = {}
    x = 0.0
    for region in sorted(set(regions) | set(bags), key=natural_key):
        fabrics = sorted(regions.get(region, {}), key=natural_key)
        inner = sum(widths[(region, f)] for f in fabrics) + fabric_gap * max(len(fabrics) - 1, 0)
        bag_row = bags.get(region, [])
        width = max(inner, _row_width(bag_row) if bag_row else 0.0)
        fx = x + (width - inner) / 2
        for fabric in fabrics:
            w = widths[(region, fabric)]
            for row in regions[region][fabric].values():
                _place_row(row, fx, w, pos)
            fx += w + fabric_gap
        if bag_row:
            _place_row(bag_row, x, width, pos)
        x += width + region_gap
    return pos


def room_pt(pos: dict[str, tuple[float, float]], pt_per_slot: float) -> dict[str, float]:
    """Points from each node to its nearest neighbour in the same row (tier)."""
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for name, (x, y) in pos.items():
        rows[y].append((x, name))
    room: dict[str, float] = {}
    for row in rows.values():
        row.sort()
        xs = [x for x, _ in row]
        for i, (x, name) in enumerate(row):
            left = x - xs[i - 1] if i else math.inf
            right = xs[i + 1] - x if i + 1 < len(xs) else math.inf
            gap = min(left, right)
            room[name] = (gap if math.isfinite(gap) else 20.0) * pt_per_slot
    return room
