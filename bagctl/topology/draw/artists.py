"""What a region drawing is made of, shared by the topology drawing and the utilization
picture (``bagctl/verify/plot``), whose nodes and line widths must read the same.

A node's marker is its role (``ROLE_STYLE``), its size the room in its row; a bundle's
line width grows with log10 of its capacity (so 1 x 100G and 432 x 800G both show),
thinned as a whole when there are many (``density_scale``); bundles between nodes of one
row are arcs over it (``bundle_path``). Nodes go into one scatter per role, so tens of
thousands draw in seconds. Labels: node names when few, tier names left of the rows,
fabric and region names below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory
from matplotlib.typing import ColorType

from ..model import Bundle, Node, Role
from .placement import natural_key

# How many nodes still get their names written beside them.
LABEL_NODES_MAX = 60

TIER_NAMES = {4: "BAG", 3: "stsw · edsw", 2: "ftsw · fdsw", 1: "rtsw · rdsw"}

ROLE_STYLE: dict[Role, tuple[str, str]] = {  # marker, legend text
    Role.BAG: ("h", "bag (backend aggregation)"),
    Role.STSW: ("D", "stsw (NSF spine)"),
    Role.FTSW: ("s", "ftsw (NSF fabric)"),
    Role.RTSW: ("o", "rtsw (NSF rack)"),
    Role.EDSW: ("^", "edsw (DSF edge)"),
    Role.FDSW: ("P", "fdsw (DSF cell fabric)"),
    Role.RDSW: ("v", "rdsw (DSF rack)"),
}

NO_PLANE_COLOUR = "#9a9a9a"

ARC_HEIGHT = 0.42  # tiers; how far above its row an arc between same-tier nodes rises
ARC_POINTS = 17


def bundle_width_pt(capacity_bps: float, scale: float = 1.0) -> float:
    """Line width in points: 0.6 at 100G, +1.4 per decade (1.9 at 800G, 3.6 at 16 x 800G,
    5.6 at 432 x 800G), within [0.3, 8], times ``scale`` (below 1 for dense drawings)."""
    lw = 0.6 + 1.4 * math.log10(max(capacity_bps, 1.0) / 100e9)
    return scale * min(max(lw, 0.3), 8.0)


def density_scale(bundles: int) -> float:
    """How much every bundle line is thinned when there are many (1 up to 300 bundles)."""
    return min(1.0, max(0.3, math.sqrt(300 / max(bundles, 1))))


def _arc(p: tuple[float, float], q: tuple[float, float]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, ARC_POINTS)
    xs = p[0] + (q[0] - p[0]) * t
    ys = p[1] + (q[1] - p[1]) * t + 4 * ARC_HEIGHT * t * (1 - t)
    return np.column_stack((xs, ys))


def bundle_path(p: tuple[float, float], q: tuple[float, float]) -> np.ndarray:
    """A bundle's line from ``p`` to ``q``: an arc when both ends sit in one row (BAG to
    BAG between regions), else straight."""
    return _arc(p, q) if p[1] == q[1] else np.array((p, q))


def capacity_examples(bundles: Iterable[Bundle]) -> list[Bundle]:
    """Up to four bundles spanning the capacities present: smallest, largest and between."""
    by_cap: dict[float, Bundle] = {}
    for b in bundles:
        by_cap.setdefault(b.capacity_bps, b)
    caps = sorted(by_cap)
    if len(caps) <= 4:
        return [by_cap[c] for c in caps]
    picks = [caps[round(i * (len(caps) - 1) / 3)] for i in range(4)]
    return [by_cap[c] for c in dict.fromkeys(picks)]


def draw_nodes(
    ax: Axes,
    nodes: Sequence[Node],
    pos: dict[str, tuple[float, float]],
    room: dict[str, float],
    colour_of: Callable[[Node], ColorType],
) -> dict[str, float]:
    """One scatter per role (marker from ``ROLE_STYLE``), each node as big as the room in
    its row allows (``room_pt``) and filled with ``colour_of(node)``. Returns the marker
    sizes in points, so names go just below. Shared with ``bagctl/verify/plot``, whose
    nodes must look the same while its bundles are coloured by something else."""
    size = {
        n.name: min(max(room[n.name] * 0.6, 1.5), 11.0) * (1.2 if n.role is Role.BAG else 1.0)
        for n in nodes
    }
    for role in Role:
        members = [n for n in nodes if n.role is role]
        if not members:
            continue
        sizes = np.array([size[n.name] for n in members])
        ax.scatter(
            [pos[n.name][0] for n in members],
            [pos[n.name][1] for n in members],
            s=sizes**2,
            marker=ROLE_STYLE[role][0],
            c=[colour_of(n) for n in members],
            edgecolors="#1a1a1a",
            linewidths=np.where(sizes > 4, 0.6, 0.0).tolist(),
            zorder=3,
        )
    return size


def draw_labels(
    ax: Axes,
    nodes: Sequence[Node],
    pos: dict[str, tuple[float, float]],
    room: dict[str, float],
    size: dict[str, float],
    plot_w: float,
) -> tuple[int, int]:
    """Node names when few (``LABEL_NODES_MAX``; a row's names slanted if one does not
    fit), always tier names left of the rows and region names below, fabric names when
    few. ``plot_w`` is the axes' width in inches. Returns (regions, fabrics) counted, for
    the title."""
    if len(nodes) <= LABEL_NODES_MAX:
        slanted = {n.role.tier for n in nodes if len(n.name) * 6 * 0.6 > room[n.name] * 0.95}
        for n in sorted(nodes, key=lambda n: natural_key(n.name)):
            slant = n.role.tier in slanted
            ax.annotate(
                n.name,
                pos[n.name],
                xytext=(0, -size[n.name] / 2 - 2),
                textcoords="offset points",
                ha="right" if slant else "center",
                va="top",
                rotation=35 if slant else 0,
                rotation_mode="anchor",
                fontsize=6,
                zorder=4,
            )
    tiers = sorted({n.role.tier for n in nodes}, reverse=True)
    row_label = blended_transform_factory(ax.transAxes, ax.transData)
    for t in tiers:
        ax.text(
            -8 / 72 / plot_w,
            t,
            TIER_NAMES.get(t, f"tier {t}"),
            transform=row_label,
            ha="right",
            va="center",
            fontsize=9,
            fontweight="bold",
            color="#333333",
        )
    extent: dict[tuple[str, str], list[float]] = {}
    for n in nodes:
        x = pos[n.name][0]
        for key in ((n.region, "\0region"), (n.region, n.fabric)):
            lo_hi = extent.setdefault(key, [x, x])
            lo_hi[0], lo_hi[1] = min(lo_hi[0], x), max(lo_hi[1], x)
    fabric_keys = [k for k in extent if k[1] != "\0region" and k[1]]
    region_keys = [k for k in extent if k[1] == "\0region"]
    if len(fabric_keys) <= 48:
        for region, fabric in fabric_keys:
            lo, hi = extent[(region, fabric)]
            ax.text(
                (lo + hi) / 2,
                0.55,
                fabric,
                ha="center",
                va="center",
                fontsize=7,
                color="#555555",
                style="italic",
            )
    for region, _ in region_keys:
        lo, hi = extent[(region, "\0region")]
        ax.text(
            (lo + hi) / 2,
            0.3,
            f"region {region}",
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
        )
    return len(region_keys), len(fabric_keys)
