"""Drawing the bundles by load, and the few labels on them.

Colour is utilization, the load over the bundle's *current* capacity (members up x member
speed), on viridis (perceptually uniform, readable in grey and by the colour blind) from
0 to 100 %; past 100 % a bundle is magenta with a dark halo, drawn above all others, so an
overload is never hidden under a busy neighbour. Bundles without traffic are faint grey.
Failed bundles are red, dashed, with an ``x`` at their middle; degraded ones are drawn in
long dashes, slightly thinner (their capacity is lower), and labelled ``up/members`` when
few. The five most loaded bundles carry their percentage where it fits without hiding
another label.

Bundles go into one ``LineCollection`` per layer (idle, loaded, failed, overloaded) with
per-segment widths, colours and dashes, ordered by (utilization, key), so tens of
thousands draw in seconds and the hottest draw last; the only per-bundle artists are the
handful of annotations.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, Normalize

from bagctl.topology.draw.artists import bundle_width_pt, density_scale

from .edges import Edge

COLORMAP = "viridis"
OVERLOAD_COLOUR = "#ff00cc"  # magenta: in no part of viridis, so an overload reads at once
HALO_COLOUR = "#1a1a1a"
OVERLOAD_MIN_PT = 1.8
FAILED_COLOUR = "#d62728"
IDLE_COLOUR = "#bdbdbd"
NODE_COLOUR = "#d9d9d9"
WRONG_COLOUR = "#d62728"  # a switch whose FIB verify found wrong

ANNOTATE_TOP = 5  # the most loaded bundles get their percentage written on them
ANNOTATE_DEGRADED_MAX = 12  # more degraded bundles than this: legend only, no "12/16"

SOLID = "solid"
DEGRADED_DASH = (0, (7, 2))
FAILED_DASH = (0, (3, 2))

_LABEL_T = (0.5, 0.4, 0.6, 0.32, 0.68, 0.25, 0.75)  # where along a bundle a label may sit


def utilization_colormap() -> Colormap:
    return matplotlib.colormaps[COLORMAP].with_extremes(over=OVERLOAD_COLOUR)


def _width(e: Edge, scale: float) -> float:
    """Capacity as in the topology drawing; a degraded bundle by what its members up still carry."""
    return bundle_width_pt(e.capacity_now_bps if e.degraded else e.bundle.capacity_bps, scale)


def _layer(
    ax: Axes,
    edges: Sequence[Edge],
    scale: float,
    zorder: float,
    widths: Sequence[float] | None = None,
    **style: object,
) -> LineCollection:
    """One layer of bundles in one collection: per-segment widths (by capacity unless
    given) and dashes (degraded bundles in long dashes)."""
    coll = LineCollection(
        [e.path for e in edges],
        linewidths=list(widths) if widths is not None else [_width(e, scale) for e in edges],
        linestyles=[DEGRADED_DASH if e.degraded else SOLID for e in edges],
        zorder=zorder,
        capstyle="butt",
        **style,
    )
    ax.add_collection(coll)
    return coll


def _draw_failed(ax: Axes, down: Sequence[Edge], scale: float, dense: bool) -> None:
    """Red dashes, thinner than the bundle was (it carries nothing), and an ``x`` at the
    middle so a failure shows even where dashes blur into a dense drawing."""
    ax.add_collection(
        LineCollection(
            [e.path for e in down],
            linewidths=[
                max(0.8, 0.6 * bundle_width_pt(e.bundle.capacity_bps, scale)) for e in down
            ],
            linestyles=FAILED_DASH,
            colors=FAILED_COLOUR,
            alpha=0.9,
            zorder=1.4,
            capstyle="butt",
        )
    )
    mids = np.array([_point_along(e.path, 0.5) for e in down])
    ax.scatter(
        mids[:, 0],
        mids[:, 1],
        marker="x",
        s=20 if dense else 40,
        c=FAILED_COLOUR,
        linewidths=1.3 if dense else 1.8,
        zorder=2.5,
    )


def draw_bundles(ax: Axes, edges: Sequence[Edge], dense: bool) -> LineCollection:
    """The layers from faint to loud (idle, loaded, failed, overloaded), each ordered by
    (utilization, key) so the hottest draw last; returns the loaded layer, the colour
    bar's mappable (empty when nothing carries traffic)."""
    scale = density_scale(len(edges))
    by_load = sorted(
        (e for e in edges if not e.failed), key=lambda e: (e.util or 0.0, e.bundle.key)
    )
    idle = [e for e in by_load if e.util is None]
    loaded = [e for e in by_load if e.util is not None and e.util <= 1.0]
    over = [e for e in by_load if e.overloaded]
    down = sorted((e for e in edges if e.failed), key=lambda e: e.bundle.key)

    _layer(ax, idle, scale, 1.0, colors=IDLE_COLOUR, alpha=0.3 if dense else 0.55)
    mappable = _layer(
        ax,
        loaded,
        scale,
        1.2,
        cmap=utilization_colormap(),
        norm=Normalize(0.0, 1.0),
        alpha=0.8 if dense else 0.95,
    )
    mappable.set_array(np.array([e.util for e in loaded], dtype=float))
    if down:
        _draw_failed(ax, down, scale, dense)
    if over:
        # At least OVERLOAD_MIN_PT wide, so a thin overloaded bundle in a dense drawing
        # still shows its colour inside the halo.
        widths = [max(_width(e, scale), OVERLOAD_MIN_PT) for e in over]
        _layer(ax, over, scale, 1.5, widths=[w + 1.2 for w in widths], colors=HALO_COLOUR)
        _layer(ax, over, scale, 1.6, widths=widths, colors=OVERLOAD_COLOUR)
    return mappable


def _point_along(path: np.ndarray, t: float) -> tuple[float, float]:
    """The point a fraction ``t`` of the way along ``path`` (by vertex index, which is
    uniform enough for a line or the evenly sampled arc)."""
    at = t * (len(path) - 1)
    i = min(int(at), len(path) - 2)
    f = at - i
    x, y = path[i] * (1 - f) + path[i + 1] * f
    return float(x), float(y)


def pct(u: float) -> str:
    """A percentage that never reads as "100%" for an overload."""
    text = f"{u * 100:.0f}%"
    return f"{u * 100:.1f}%" if u > 1.0 and text == "100%" else text


class _Placer:
    """Label boxes in pixels, so a new label goes where it hides no earlier one (or not
    at all: the legend names the same bundles)."""

    def __init__(self, ax: Axes) -> None:
        self._to_px = ax.transData.transform
        self._px_per_pt = ax.figure.dpi / 72
        self._boxes: list[tuple[float, float, float, float]] = []

    def place(self, path: np.ndarray, text: str, fontsize: float) -> tuple[float, float] | None:
        w = (len(text) * 0.62 * fontsize + 6) * self._px_per_pt
        h = (fontsize + 5) * self._px_per_pt
        for t in _LABEL_T:
            xy = _point_along(path, t)
            x, y = self._to_px(xy)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if not any(_overlap(box, other) for other in self._boxes):
                self._boxes.append(box)
                return xy
        return None


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def most_loaded(edges: Sequence[Edge], n: int) -> list[Edge]:
    carrying = (e for e in edges if not e.failed and e.util)
    return heapq.nsmallest(n, carrying, key=lambda e: (-(e.util or 0.0), e.bundle.key))


def annotate(ax: Axes, edges: Sequence[Edge]) -> None:
    """Percentages on the most loaded bundles, then ``up/members`` on degraded ones when
    there are few; each only where it overlaps no earlier label."""
    placer = _Placer(ax)
    for e in most_loaded(edges, ANNOTATE_TOP):
        text = pct(e.util or 0.0)
        xy = placer.place(e.path, text, 7.5)
        if xy is not None:
            edge = OVERLOAD_COLOUR if e.overloaded else HALO_COLOUR
            _label(ax, xy, text, 7.5, edge, bold=True)
    degraded = sorted((e for e in edges if e.degraded), key=lambda e: e.bundle.key)
    if len(degraded) <= ANNOTATE_DEGRADED_MAX:
        for e in degraded:
            text = f"{e.up}/{e.members}"
            xy = placer.place(e.path, text, 6.5)
            if xy is not None:
                _label(ax, xy, text, 6.5, "#777777", bold=False)


def _label(
    ax: Axes, xy: tuple[float, float], text: str, size: float, edge: str, *, bold: bool
) -> None:
    ax.text(
        *xy,
        text,
        ha="center",
        va="center",
        fontsize=size,
        fontweight="bold" if bold else "normal",
        color="#1a1a1a",
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": edge, "lw": 0.8},
        zorder=5,
    )
