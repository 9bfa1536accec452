"""The utilization picture's words: its legend, colour bar and summary line.

The legend names what the colours mean with each kind's count, then lists the bundles
worth a look (most loaded, failed, degraded; ``LIST_MAX`` each), then line widths and
roles as the topology drawing shows them (``bagctl/topology/draw/legend.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from bagctl.topology.draw.artists import capacity_examples
from bagctl.topology.draw.legend import Legend, capacity_entries, role_entries
from bagctl.topology.model import Topology

from .edges import Edge
from .layers import (
    DEGRADED_DASH,
    FAILED_COLOUR,
    FAILED_DASH,
    IDLE_COLOUR,
    NODE_COLOUR,
    OVERLOAD_COLOUR,
    most_loaded,
    pct,
    utilization_colormap,
)

LIST_MAX = 8  # failed / degraded / most loaded bundles named in the legend


@dataclass(frozen=True, slots=True)
class Counts:
    idle: int
    loaded: int
    over: int
    failed: int
    degraded: int
    peak: float | None

    @classmethod
    def of(cls, edges: Sequence[Edge]) -> Counts:
        utils = [e.util for e in edges if not e.failed and e.util is not None]
        return cls(
            idle=sum(1 for e in edges if not e.failed and e.util is None),
            loaded=len(utils),
            over=sum(1 for e in edges if e.overloaded),
            failed=sum(1 for e in edges if e.failed),
            degraded=sum(1 for e in edges if e.degraded),
            peak=max(utils, default=None),
        )

    def summary(self, topo: Topology) -> str:
        parts = [
            f"{len(topo.bundles):,} bundles",
            f"{self.loaded:,} carrying traffic",
            f"{self.over:,} overloaded",
        ]
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        if self.degraded:
            parts.append(f"{self.degraded:,} degraded")
        peak = f"; peak {pct(self.peak)}" if self.peak is not None else ""
        return f"{topo.name}: {', '.join(parts)}{peak}"


def _listed(
    edges: Sequence[Edge], text: Callable[[Edge], str] = attrgetter("name"), limit: int = LIST_MAX
) -> list[str]:
    """Legend lines for the first ``limit`` of ``edges``, then how many are left out."""
    lines = [text(e) for e in edges[:limit]]
    if len(edges) > limit:
        lines.append(f"… and {len(edges) - limit:,} more")
    return lines


def utilization_legend(
    topo: Topology, edges: Sequence[Edge], counts: Counts, scale: float
) -> Legend:
    leg = Legend()
    leg.header("bundles (colour: load / current capacity)")
    mid = utilization_colormap()(0.55)
    leg.add(Line2D([], [], color=mid, linewidth=2.2), f"carrying traffic ({counts.loaded:,})")
    leg.add(
        Line2D([], [], color=OVERLOAD_COLOUR, linewidth=2.2),
        f"overloaded, over 100% ({counts.over:,})",
    )
    leg.add(Line2D([], [], color=IDLE_COLOUR, linewidth=2.2), f"no traffic ({counts.idle:,})")
    if counts.failed:
        leg.add(
            Line2D(
                [],
                [],
                color=FAILED_COLOUR,
                linewidth=1.4,
                linestyle=FAILED_DASH,
                marker="x",
                markersize=6,
                markevery=[1],
            ),
            f"failed, down ({counts.failed:,})",
        )
    if counts.degraded:
        leg.add(
            Line2D([], [], color="#555555", linewidth=2.0, linestyle=DEGRADED_DASH),
            f"degraded, members up/all ({counts.degraded:,})",
        )
    top = most_loaded(edges, LIST_MAX)
    if top:
        leg.header("most loaded")
        for line in _listed(top, lambda e: f"{e.name}: {pct(e.util or 0.0)}"):
            leg.blank(line)
    failed = sorted((e for e in edges if e.failed), key=lambda e: e.bundle.key)
    if failed:
        leg.header("failed bundles")
        for line in _listed(failed):
            leg.blank(line)
    degraded = sorted((e for e in edges if e.degraded), key=lambda e: e.bundle.key)
    if degraded:
        leg.header("degraded bundles (members up/all)")
        for line in _listed(degraded, lambda e: f"{e.name}: {e.up}/{e.members}"):
            leg.blank(line)
    examples = capacity_examples(topo.bundles)
    if examples:
        leg.header("bundle capacity (line width)")
        for handle, text in capacity_entries(examples, scale, "#555555"):
            leg.add(handle, text)
    roles = role_entries(topo, NODE_COLOUR)
    if roles:
        leg.header("roles")
        for handle, text in roles:
            leg.add(handle, text)
    return leg


def colorbar(
    fig: Figure, mappable: LineCollection, rect: tuple[float, float, float, float], over: bool
) -> None:
    cax = fig.add_axes(rect)
    bar = fig.colorbar(
        mappable,
        cax=cax,
        orientation="horizontal",
        extend="max" if over else "neither",
        ticks=[0, 0.25, 0.5, 0.75, 1.0],
        format=PercentFormatter(1.0, decimals=0),
    )
    bar.ax.tick_params(labelsize=7, length=2)
    bar.outline.set_linewidth(0.5)
    label = "utilization (load / current capacity)"
    if over:
        label += "; past the arrow: overloaded"
    bar.ax.set_title(label, fontsize=7.5, fontweight="bold", loc="left", pad=3)
