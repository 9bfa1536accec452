"""Draw where the traffic goes: ``render_utilization(topo, utilization, path)`` writes the
region as ``bagctl/topology/draw.py`` lays it out, each bundle coloured by its load;
``render_report(topo, report, path)`` does it for a verification's report.

Why a picture: a verifier's verdict ("UCMP delivers 100 % of demand, ECMP 87.5 %") says
*that* a weighting falls short, the drawing says *where*: the few bundles past their
capacity stand out in magenta while the rest of the region shows how evenly the load
spreads. The caller puts its verdict in the title.

Encoding. Colour is utilization, the load over the bundle's *current* capacity (members up
x member speed), on viridis (perceptually uniform, readable in grey and by the colour
blind) from 0 to 100 %; past 100 % a bundle is magenta with a dark halo, drawn above all
others, so an overload is never hidden under a busy neighbour. Bundles without traffic are
faint grey. Line width is capacity, as in ``draw.py``. Failed bundles are red, dashed,
with an ``x`` at their middle; degraded ones (some members down) are drawn in long dashes,
slightly thinner (their capacity is lower), and labelled ``up/members`` when few. The five
most loaded bundles carry their percentage where it fits without hiding another label.
Nodes keep their role markers but are grey: colour belongs to the bundles here.

Speed. Bundles go into one ``LineCollection`` per layer (idle, loaded, failed, overloaded)
with per-segment widths, colours and dashes, so tens of thousands draw in seconds; the only
per-bundle artists are the handful of annotations. Output is deterministic: bundles are
ordered by (utilization, key), and the SVG ids are stable through ``draw.py``'s rcParams.
"""

from __future__ import annotations

import heapq
import html
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from bagctl.topology.draw.artists import (
    ARC_HEIGHT,
    LABEL_NODES_MAX,
    bundle_path,
    bundle_width_pt,
    capacity_examples,
    density_scale,
    draw_labels,
    draw_nodes,
)
from bagctl.topology.draw.files import PAGE_CSS, RC_PARAMS, check_output, inline_svg
from bagctl.topology.draw.legend import capacity_entries, role_entries
from bagctl.topology.draw.placement import layout, room_pt
from bagctl.topology.model import Bundle, Topology
from bagctl.verify.report import VerifyReport
from speakers.wire import format_bps

Key = tuple[str, str]

COLORMAP = "viridis"
OVERLOAD_COLOUR = "#ff00cc"  # magenta: in no part of viridis, so an overload reads at once
HALO_COLOUR = "#1a1a1a"
OVERLOAD_MIN_PT = 1.8
FAILED_COLOUR = "#d62728"
IDLE_COLOUR = "#bdbdbd"
NODE_COLOUR = "#d9d9d9"

ANNOTATE_TOP = 5  # the most loaded bundles get their percentage written on them
ANNOTATE_DEGRADED_MAX = 12  # more degraded bundles than this: legend only, no "12/16"
LIST_MAX = 8  # failed / degraded / most loaded bundles named in the legend
PAGE_ROWS_MAX = 200  # rows per table in the HTML page

_SOLID = "solid"
_DEGRADED_DASH = (0, (7, 2))
_FAILED_DASH = (0, (3, 2))

_LABEL_T = (0.5, 0.4, 0.6, 0.32, 0.68, 0.25, 0.75)  # where along a bundle a label may sit


@dataclass(frozen=True, slots=True)
class _Edge:
    """One bundle as drawn: its path, state and the numbers its legend and labels need."""

    bundle: Bundle
    path: np.ndarray
    util: float | None  # None: carries no traffic (absent from the mapping)
    up: int  # members up
    members: int  # members in all (from ``degraded`` when given)
    failed: bool

    @property
    def degraded(self) -> bool:
        return not self.failed and self.up < self.members

    @property
    def overloaded(self) -> bool:
        return not self.failed and self.util is not None and self.util > 1.0

    @property
    def capacity_now_bps(self) -> float:
        return self.up * self.bundle.member_speed_bps

    @property
    def name(self) -> str:
        return _pair(self.bundle.key)


# --- inputs ---------------------------------------------------------------------------


def _pair(key: Key) -> str:
    """A bundle's name for people: its ends, which contain hyphens themselves."""
    return f"{key[0]} ↔ {key[1]}"


def _key(k: Iterable[str]) -> Key:
    a, b = k
    return (a, b) if a <= b else (b, a)


def _unknown(what: str, keys: Iterable[Key], known: Collection[Key]) -> None:
    """Refuse keys naming no bundle: a typo or a stale mapping would otherwise draw an
    idle bundle and hide the mistake."""
    missing = sorted(k for k in keys if k not in known)
    if missing:
        shown = ", ".join(_pair(k) for k in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ValueError(f"{what} names bundles not in the topology: {shown}{more}")


def _edges(
    topo: Topology,
    pos: Mapping[str, tuple[float, float]],
    utilization: Mapping[Key, float],
    failed: Iterable[Key],
    degraded: Mapping[Key, tuple[int, int]],
) -> list[_Edge]:
    """Every bundle with its state; ``ValueError`` for keys naming no bundle and for
    utilizations that are negative or not finite."""
    util = {_key(k): float(v) for k, v in utilization.items()}
    down = {_key(k) for k in failed}
    part = {_key(k): (int(u), int(m)) for k, (u, m) in degraded.items()}
    known = {b.key for b in topo.bundles}
    _unknown("utilization", util, known)
    _unknown("failed", down, known)
    _unknown("degraded", part, known)
    bad = sorted(k for k, v in util.items() if not (math.isfinite(v) and v >= 0))
    if bad:
        raise ValueError(
            f"utilization of {_pair(bad[0])} is {util[bad[0]]}: must be finite and >= 0"
        )
    out = []
    for b in topo.bundles:
        up, members = part.get(b.key, (b.members, b.members))
        up = min(max(up, 0), members)
        p, q = pos[b.a], pos[b.b]
        out.append(
            _Edge(
                bundle=b,
                path=bundle_path(p, q),
                util=util.get(b.key),
                up=up,
                members=members,
                failed=b.key in down or up == 0,
            )
        )
    return out


# --- drawing --------------------------------------------------------------------------


def _colormap() -> Colormap:
    return matplotlib.colormaps[COLORMAP].with_extremes(over=OVERLOAD_COLOUR)


def _width(e: _Edge, scale: float) -> float:
    """Capacity as in ``draw.py``; a degraded bundle by what its members up still carry."""
    return bundle_width_pt(e.capacity_now_bps if e.degraded else e.bundle.capacity_bps, scale)


def _layer(
    ax: Axes,
    edges: Sequence[_Edge],
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
        linestyles=[_DEGRADED_DASH if e.degraded else _SOLID for e in edges],
        zorder=zorder,
        capstyle="butt",
        **style,
    )
    ax.add_collection(coll)
    return coll


def _draw_failed(ax: Axes, down: Sequence[_Edge], scale: float, dense: bool) -> None:
    """Red dashes, thinner than the bundle was (it carries nothing), and an ``x`` at the
    middle so a failure shows even where dashes blur into a dense drawing."""
    ax.add_collection(
        LineCollection(
            [e.path for e in down],
            linewidths=[
                max(0.8, 0.6 * bundle_width_pt(e.bundle.capacity_bps, scale)) for e in down
            ],
            linestyles=_FAILED_DASH,
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


def _draw_bundles(ax: Axes, edges: Sequence[_Edge], dense: bool) -> LineCollection:
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
        cmap=_colormap(),
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


def _pct(u: float) -> str:
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


def _most_loaded(edges: Sequence[_Edge], n: int) -> list[_Edge]:
    carrying = (e for e in edges if not e.failed and e.util)
    return heapq.nsmallest(n, carrying, key=lambda e: (-(e.util or 0.0), e.bundle.key))


def _annotate(ax: Axes, edges: Sequence[_Edge]) -> None:
    """Percentages on the most loaded bundles, then ``up/members`` on degraded ones when
    there are few; each only where it overlaps no earlier label."""
    placer = _Placer(ax)
    for e in _most_loaded(edges, ANNOTATE_TOP):
        text = _pct(e.util or 0.0)
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


# --- legend and titles ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Counts:
    idle: int
    loaded: int
    over: int
    failed: int
    degraded: int
    peak: float | None

    @classmethod
    def of(cls, edges: Sequence[_Edge]) -> _Counts:
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
        peak = f"; peak {_pct(self.peak)}" if self.peak is not None else ""
        return f"{topo.name}: {', '.join(parts)}{peak}"


def _listed(
    edges: Sequence[_Edge], text: Callable[[_Edge], str] = attrgetter("name"), limit: int = LIST_MAX
) -> list[str]:
    """Legend lines for the first ``limit`` of ``edges``, then how many are left out."""
    lines = [text(e) for e in edges[:limit]]
    if len(edges) > limit:
        lines.append(f"… and {len(edges) - limit:,} more")
    return lines


class _Legend:
    """Handles and labels with bold section headers, as ``draw.py``'s legend reads."""

    def __init__(self) -> None:
        self.handles: list[object] = []
        self.labels: list[str] = []
        self.headers: list[int] = []

    def header(self, text: str) -> None:
        self.headers.append(len(self.labels))
        self.blank(text)

    def blank(self, text: str) -> None:
        self.add(Line2D([], [], linestyle="", marker=""), text)

    def add(self, handle: object, text: str) -> None:
        self.handles.append(handle)
        self.labels.append(text)

    def draw(self, fig: Figure, anchor: tuple[float, float]) -> None:
        legend = fig.legend(
            self.handles,
            self.labels,
            loc="upper left",
            bbox_to_anchor=anchor,
            frameon=False,
            fontsize=7.5,
            handlelength=3.2,
        )
        texts = legend.get_texts()
        for i in self.headers:
            texts[i].set_fontweight("bold")


def _legend(topo: Topology, edges: Sequence[_Edge], counts: _Counts, scale: float) -> _Legend:
    leg = _Legend()
    leg.header("bundles (colour: load / current capacity)")
    mid = _colormap()(0.55)
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
                linestyle=_FAILED_DASH,
                marker="x",
                markersize=6,
                markevery=[1],
            ),
            f"failed, down ({counts.failed:,})",
        )
    if counts.degraded:
        leg.add(
            Line2D([], [], color="#555555", linewidth=2.0, linestyle=_DEGRADED_DASH),
            f"degraded, members up/all ({counts.degraded:,})",
        )
    top = _most_loaded(edges, LIST_MAX)
    if top:
        leg.header("most loaded")
        for line in _listed(top, lambda e: f"{e.name}: {_pct(e.util or 0.0)}"):
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


def _colorbar(fig: Figure, mappable: LineCollection, rect: tuple[float, ...], over: bool) -> None:
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


# --- the figure -----------------------------------------------------------------------


def _figure(
    topo: Topology, pos: dict[str, tuple[float, float]], edges: Sequence[_Edge], title: str
) -> Figure:
    nodes = topo.nodes
    label_nodes = len(nodes) <= LABEL_NODES_MAX
    xs = [p[0] for p in pos.values()] or [0.0]
    span = max(xs) - min(xs) + 2.0
    counts = _Counts.of(edges)
    scale = density_scale(len(edges))
    legend = _legend(topo, edges, counts, scale)

    # Inches, as in draw.py: the plot grows with the widest row; the right column holds
    # the colour bar (top) and the legend under it.
    per_slot = 0.55 if label_nodes else 0.2
    plot_w = min(max(span * per_slot, 7.0), 40.0)
    bar_in = 0.95
    plot_h = max(5.8, min(plot_w / 3.5, 12.0), 0.19 * len(legend.labels) + bar_in + 0.6)
    left_in, right_in, top_in, bottom_in = 1.2, 4.0, 0.8, 0.2
    fig_w, fig_h = left_in + plot_w + right_in, top_in + plot_h + bottom_in
    fig = Figure(figsize=(fig_w, fig_h), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((left_in / fig_w, bottom_in / fig_h, plot_w / fig_w, plot_h / fig_h))
    ax.set_axis_off()
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(0.2, 4.0 + ARC_HEIGHT + 0.25)

    mappable = _draw_bundles(ax, edges, dense=len(edges) > 2000)
    room = room_pt(pos, plot_w * 72 / max(span, 1.0))
    size = draw_nodes(ax, nodes, pos, room, lambda n: NODE_COLOUR)
    draw_labels(ax, nodes, pos, room, size, plot_w)
    _annotate(ax, edges)

    fig.text(
        left_in / fig_w,
        1 - 0.15 / fig_h,
        title or f"{topo.name}: bundle utilization",
        ha="left",
        va="top",
        fontsize=13,
        fontweight="bold",
    )
    fig.text(
        left_in / fig_w,
        1 - 0.47 / fig_h,
        counts.summary(topo),
        ha="left",
        va="top",
        fontsize=9,
        color="#333333",
    )
    col_x = 1 - (right_in - 0.15) / fig_w
    bar_top = top_in + 0.3
    _colorbar(
        fig,
        mappable,
        (col_x + 0.05 / fig_w, 1 - (bar_top + 0.14) / fig_h, 2.9 / fig_w, 0.14 / fig_h),
        over=counts.over > 0,
    )
    legend.draw(fig, anchor=(col_x, 1 - (top_in + bar_in) / fig_h))
    return fig


# --- output ---------------------------------------------------------------------------


def render_utilization(
    topo: Topology,
    utilization: Mapping[Key, float],
    path: str | Path,
    *,
    failed: Iterable[Key] = (),
    degraded: Mapping[Key, tuple[int, int]] | None = None,
    title: str = "",
) -> Path:
    """Draw ``topo`` with each bundle coloured by ``utilization`` (bundle key -> load as a
    fraction of its current capacity; absent: no traffic) into ``path``: PNG, SVG or HTML
    (a page with the SVG inline and tables of the most loaded, failed and degraded
    bundles) by the suffix. ``failed``: bundle keys that are down; ``degraded``: key ->
    (members up, members). Keys may name their ends in either order.

    Returns the path written. ``ValueError`` for another suffix, for keys that name no
    bundle and for utilizations that are negative or not finite (nothing is written);
    ``OSError`` if it cannot write."""
    out = Path(path)
    fmt = check_output(out)
    pos = layout(topo)
    edges = _edges(topo, pos, utilization, failed, degraded or {})
    heading = title or f"{topo.name}: bundle utilization"
    with matplotlib.rc_context(RC_PARAMS):
        fig = _figure(topo, pos, edges, title)
        if fmt == ".png":
            fig.savefig(out, format="png", dpi=100, metadata={"Title": heading})
        elif fmt == ".svg":
            fig.savefig(out, format="svg", metadata={"Title": heading, "Date": None})
        else:
            out.write_text(_page(topo, heading, edges, inline_svg(fig)), encoding="utf-8")
    return out


def render_report(topo: Topology, report: VerifyReport, path: str | Path) -> Path:
    """Draw one verification's loads (``VerifyReport.utilization``, at the report's scale)
    with the bundles its failures took down or degraded, its headline as the title
    (``render_utilization`` for the formats and errors)."""
    failures = report.failures
    return render_utilization(
        topo,
        report.utilization(),
        path,
        failed=sorted(failures.down),
        degraded={k: (n, topo.bundle(*k).members) for k, n in failures.members_up.items()},
        title=report.headline(),
    )


def _rows(edges: Sequence[_Edge], cells: Callable[[_Edge], Sequence[str]]) -> str:
    esc = html.escape
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells(e)) + "</tr>"
        for e in edges[:PAGE_ROWS_MAX]
    )
    if len(edges) > PAGE_ROWS_MAX:
        body += f"<tr><td>… and {len(edges) - PAGE_ROWS_MAX:,} more</td></tr>"
    return body


def _page(topo: Topology, heading: str, edges: Sequence[_Edge], svg: str) -> str:
    """A self-contained page: the drawing inline, then the bundles worth a closer look."""
    esc = html.escape
    counts = _Counts.of(edges)
    top = _most_loaded(edges, len(edges))
    failed = sorted((e for e in edges if e.failed), key=lambda e: e.bundle.key)
    degraded = sorted((e for e in edges if e.degraded), key=lambda e: e.bundle.key)
    sections = []
    if top:
        sections.append(
            "<h2>Most loaded bundles</h2>\n<table>\n<tr><th>bundle</th><th>capacity now</th>"
            "<th>utilization</th></tr>\n"
            + _rows(top, lambda e: (e.name, format_bps(e.capacity_now_bps), _pct(e.util or 0)))
            + "\n</table>"
        )
    if failed:
        sections.append(
            "<h2>Failed bundles</h2>\n<table>\n<tr><th>bundle</th><th>capacity lost</th></tr>\n"
            + _rows(failed, lambda e: (e.name, format_bps(e.bundle.capacity_bps)))
            + "\n</table>"
        )
    if degraded:
        sections.append(
            "<h2>Degraded bundles</h2>\n<table>\n<tr><th>bundle</th><th>members up</th>"
            "<th>capacity now</th></tr>\n"
            + _rows(
                degraded,
                lambda e: (e.name, f"{e.up}/{e.members}", format_bps(e.capacity_now_bps)),
            )
            + "\n</table>"
        )
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(heading)}</title>
<style>{PAGE_CSS}</style>
</head>
<body>
<h1>{esc(heading)}</h1>
<p>{esc(counts.summary(topo))}.</p>
<div class="drawing">
{svg}
</div>
{body}
</body>
</html>
"""
