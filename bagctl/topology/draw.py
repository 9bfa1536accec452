"""Draw a region: ``layout(topo)`` places the nodes, ``render(topo, path)`` writes SVG, PNG or
HTML (chosen by the suffix).

Layout. One horizontal row per tier (``Role.tier``): BAG on top, then STSW/EDSW, FTSW/FDSW,
and the leaves (RTSW/RDSW) at the bottom; ``y`` is the tier itself. Left to right the nodes
are grouped by region, then L2 fabric, then plane, then name (names compare with their
numbers as numbers, so ``rtsw10`` follows ``rtsw9``), so the result depends on the node set
only, never on file order. A fabric is a block as wide as its widest row; its other rows are
spread over the same width, so a fabric reads as a trapezoid of its own. A region's BAG row
spans the region's fabrics. Planes within a row are split by a one-slot gap.

Picture. Node colour is the plane (a qualitative palette; nodes without a plane in grey),
marker is the role. A bundle's line width grows with log10 of its capacity (so 1 x 100G and
432 x 800G both show), thinned as a whole when there are many; its colour is the plane of
its ends. Capacity-only bundles (to an FDSW: the scheduled cell fabric, no BGP) are dashed,
``dsf_mesh`` sessions dotted, and BAG-to-BAG links between regions are arcs over the top
row. Bundles go into one ``LineCollection`` per style and nodes into one scatter per role,
so tens of thousands of bundles draw in seconds.

Matplotlib is used without pyplot: a ``Figure`` on an explicit Agg canvas, and the few
rcParams the output needs (SVG text as text, stable SVG ids) set in an ``rc_context`` that
is undone on return, so nothing leaks between calls.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from speakers.wire import format_bps

from .model import Bundle, Node, Role, Topology

FORMATS = (".svg", ".png", ".html")

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
INTER_REGION_COLOUR = "#222222"

_PLANE_GAP = 1.0  # slots between planes within a row
_MIN_FABRIC_GAP = 2.0  # slots between fabrics of a region
_ARC_HEIGHT = 0.42  # tiers; how far above its row an arc between same-tier nodes rises
_ARC_POINTS = 17


def check_output(path: str | Path) -> str:
    """The output format (``.svg``, ``.png`` or ``.html``) for ``path``; ``ValueError``
    for any other suffix, before anything is drawn."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        got = f"suffix {suffix!r}" if suffix else "no suffix"
        raise ValueError(
            f"cannot draw to {str(path)!r}: {got}; the output must end in "
            f"{', '.join(FORMATS[:-1])} or {FORMATS[-1]}"
        )
    return suffix


# --- layout ---------------------------------------------------------------------------


def _natural(text: str) -> tuple[tuple[object, ...], str]:
    parts = re.split(r"(\d+)", text)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text


def _node_order(n: Node) -> tuple[object, ...]:
    return (n.plane is not None, n.plane if n.plane is not None else -1, _natural(n.name))


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
    for region in sorted(set(regions) | set(bags), key=_natural):
        fabrics = sorted(regions.get(region, {}), key=_natural)
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


# --- drawing --------------------------------------------------------------------------


def plane_colours(topo: Topology) -> dict[int | None, tuple[float, ...] | str]:
    """Plane -> colour: tab10 without its grey (which means "no plane"), tab20 without its
    greys past nine planes, cycling past eighteen."""
    planes = sorted({n.plane for n in topo.nodes if n.plane is not None})
    if len(planes) <= 9:
        palette = [c for i, c in enumerate(matplotlib.colormaps["tab10"].colors) if i != 7]
    else:
        palette = [
            c for i, c in enumerate(matplotlib.colormaps["tab20"].colors) if i not in (14, 15)
        ]
    out: dict[int | None, tuple[float, ...] | str] = {None: NO_PLANE_COLOUR}
    for i, p in enumerate(planes):
        out[p] = palette[i % len(palette)]
    return out


def bundle_width_pt(capacity_bps: float, scale: float = 1.0) -> float:
    """Line width in points: 0.6 at 100G, +1.4 per decade (1.9 at 800G, 3.6 at 16 x 800G,
    5.6 at 432 x 800G), within [0.3, 8], times ``scale`` (below 1 for dense drawings)."""
    lw = 0.6 + 1.4 * math.log10(max(capacity_bps, 1.0) / 100e9)
    return scale * min(max(lw, 0.3), 8.0)


def _density_scale(bundles: int) -> float:
    return min(1.0, max(0.3, math.sqrt(300 / max(bundles, 1))))


@dataclass(frozen=True, slots=True)
class _Style:
    key: str
    label: str
    linestyle: object
    alpha_small: float


_STYLES = (
    _Style("link", "eBGP bundle", "solid", 0.85),
    _Style("capacity", "capacity only (to fdsw, no BGP)", (0, (4, 2)), 0.8),
    _Style("mesh", "dsf_mesh session (over the cell fabric)", (0, (1, 1.5)), 0.6),
    _Style("inter", "BAG link between regions", (0, (6, 2, 1, 2)), 0.9),
)


def _style_of(b: Bundle, na: Node, nb: Node) -> str:
    if na.region != nb.region:
        return "inter"
    if b.kind == "dsf_mesh":
        return "mesh"
    if not (na.role.speaks_bgp and nb.role.speaks_bgp):
        return "capacity"
    return "link"


def _arc(p: tuple[float, float], q: tuple[float, float]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, _ARC_POINTS)
    xs = p[0] + (q[0] - p[0]) * t
    ys = p[1] + (q[1] - p[1]) * t + 4 * _ARC_HEIGHT * t * (1 - t)
    return np.column_stack((xs, ys))


def _edge_colour(na: Node, nb: Node, colours: dict) -> object:
    if na.plane is not None and nb.plane is not None and na.plane != nb.plane:
        return NO_PLANE_COLOUR
    plane = na.plane if na.plane is not None else nb.plane
    return colours.get(plane, NO_PLANE_COLOUR)


def _capacity_examples(bundles: Iterable[Bundle]) -> list[Bundle]:
    """Up to four bundles spanning the capacities present: smallest, largest and between."""
    by_cap: dict[float, Bundle] = {}
    for b in bundles:
        by_cap.setdefault(b.capacity_bps, b)
    caps = sorted(by_cap)
    if len(caps) <= 4:
        return [by_cap[c] for c in caps]
    picks = [caps[round(i * (len(caps) - 1) / 3)] for i in range(4)]
    return [by_cap[c] for c in dict.fromkeys(picks)]


def _room_pt(pos: dict[str, tuple[float, float]], pt_per_slot: float) -> dict[str, float]:
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


def _figure(topo: Topology, pos: dict[str, tuple[float, float]]) -> Figure:
    nodes = topo.nodes
    names = {n.name: n for n in topo.nodes}
    colours = plane_colours(topo)
    label_nodes = len(nodes) <= LABEL_NODES_MAX
    xs = [p[0] for p in pos.values()] or [0.0]
    span = max(xs) - min(xs) + 2.0

    # Sizes in inches: the plot grows with the widest row (capped), the legend is fixed.
    per_slot = 0.55 if label_nodes else 0.2
    plot_w = min(max(span * per_slot, 7.0), 40.0)
    legend_entries = (
        len({n.role for n in nodes})
        + min(len(colours), 13)
        + len(_capacity_examples(topo.bundles))
        + len(_STYLES)
        + 4
    )
    plot_h = max(5.8, min(plot_w / 3.5, 12.0), 0.19 * legend_entries + 0.9)
    left_in, right_in, top_in, bottom_in = 1.2, 3.6, 0.55, 0.2
    fig_w, fig_h = left_in + plot_w + right_in, top_in + plot_h + bottom_in
    fig = Figure(figsize=(fig_w, fig_h), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((left_in / fig_w, bottom_in / fig_h, plot_w / fig_w, plot_h / fig_h))
    ax.set_axis_off()
    margin = 1.0
    x_lo, x_hi = min(xs) - margin, max(xs) + margin
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(0.2, 4.0 + _ARC_HEIGHT + 0.25)

    # Bundles: one LineCollection per style.
    scale = _density_scale(len(topo.bundles))
    segs: dict[str, list[np.ndarray]] = defaultdict(list)
    widths: dict[str, list[float]] = defaultdict(list)
    ecols: dict[str, list[object]] = defaultdict(list)
    for b in sorted(topo.bundles, key=lambda b: -b.capacity_bps):
        na, nb = names[b.a], names[b.b]
        style = _style_of(b, na, nb)
        p, q = pos[b.a], pos[b.b]
        segs[style].append(_arc(p, q) if p[1] == q[1] else np.array((p, q)))
        widths[style].append(bundle_width_pt(b.capacity_bps, scale))
        ecols[style].append(
            INTER_REGION_COLOUR if style == "inter" else _edge_colour(na, nb, colours)
        )
    dense = len(topo.bundles) > 2000
    for z, st in enumerate(_STYLES):
        if not segs[st.key]:
            continue
        coll = LineCollection(
            segs[st.key],
            linewidths=widths[st.key],
            colors=ecols[st.key],
            linestyles=st.linestyle,
            alpha=(0.6 if st.key == "inter" else 0.35) if dense else st.alpha_small,
            zorder=1 + z * 0.1,
            capstyle="butt",
        )
        ax.add_collection(coll)

    # Nodes: one scatter per role, coloured by plane, sized by the room in their row.
    room = _room_pt(pos, plot_w * 72 / max(span, 1.0))
    size = draw_nodes(ax, nodes, pos, room, lambda n: colours.get(n.plane, NO_PLANE_COLOUR))
    regions, fabrics = draw_labels(ax, nodes, pos, room, size, plot_w)

    bundle_styles = Counter({k: len(v) for k, v in segs.items()})
    fig.text(
        left_in / fig_w,
        1 - 0.18 / fig_h,
        f"{topo.name}: {len(nodes):,} nodes, {len(topo.bundles):,} bundles, "
        f"{_plural(regions, 'region')}, {_plural(fabrics, 'fabric')}",
        ha="left",
        va="top",
        fontsize=12,
        fontweight="bold",
    )
    _legend(fig, topo, colours, scale, bundle_styles, anchor=(1 - (right_in - 0.15) / fig_w, 1))
    return fig


def draw_nodes(
    ax: Axes,
    nodes: Sequence[Node],
    pos: dict[str, tuple[float, float]],
    room: dict[str, float],
    colour_of: Callable[[Node], object],
) -> dict[str, float]:
    """One scatter per role (marker from ``ROLE_STYLE``), each node as big as the room in
    its row allows (``_room_pt``) and filled with ``colour_of(node)``. Returns the marker
    sizes in points, so names go just below. Shared with ``bagctl/verify/plot.py``, whose
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
            linewidths=np.where(sizes > 4, 0.6, 0.0),
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
        for n in sorted(nodes, key=lambda n: _natural(n.name)):
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


def role_entries(topo: Topology, facecolor: str) -> list[tuple[Line2D, str]]:
    """Legend entries for the roles present: each role's marker, filled ``facecolor``
    (shared with ``bagctl/verify/plot.py``)."""
    present = {n.role for n in topo.nodes}
    return [
        (
            Line2D(
                [],
                [],
                linestyle="",
                marker=marker,
                markersize=7,
                markerfacecolor=facecolor,
                markeredgecolor="#1a1a1a",
            ),
            text,
        )
        for role, (marker, text) in ROLE_STYLE.items()
        if role in present
    ]


def capacity_entries(
    examples: Iterable[Bundle], scale: float, colour: str
) -> list[tuple[Line2D, str]]:
    """Legend entries for line width: one example bundle per width (``_capacity_examples``)."""
    return [
        (
            Line2D([], [], color=colour, linewidth=bundle_width_pt(b.capacity_bps, scale)),
            f"{b.members} x {format_bps(b.member_speed_bps)} = {format_bps(b.capacity_bps)}",
        )
        for b in examples
    ]


def _legend(
    fig: Figure,
    topo: Topology,
    colours: dict,
    scale: float,
    styles_present: Counter,
    anchor: tuple[float, float],
) -> None:
    handles: list[object] = []
    labels: list[str] = []
    headers: list[int] = []

    def header(text: str) -> None:
        headers.append(len(labels))
        handles.append(Line2D([], [], linestyle="", marker=""))
        labels.append(text)

    header("roles")
    for handle, text in role_entries(topo, "white"):
        handles.append(handle)
        labels.append(text)
    header("planes (node and bundle colour)")
    planes = sorted(p for p in colours if p is not None)
    for p in planes[:12]:
        handles.append(Patch(facecolor=colours[p], edgecolor="#1a1a1a", linewidth=0.4))
        labels.append(f"plane {p}")
    if len(planes) > 12:
        handles.append(Line2D([], [], linestyle="", marker=""))
        labels.append(f"... {len(planes) - 12} more planes")
    if any(n.plane is None for n in topo.nodes):
        handles.append(Patch(facecolor=NO_PLANE_COLOUR, edgecolor="#1a1a1a", linewidth=0.4))
        labels.append("no plane")
    examples = _capacity_examples(topo.bundles)
    if examples:
        header("bundle capacity (line width)")
        for handle, text in capacity_entries(examples, scale, "#333333"):
            handles.append(handle)
            labels.append(text)
        header("bundle kinds")
        for st in _STYLES:
            if styles_present.get(st.key):
                colour = INTER_REGION_COLOUR if st.key == "inter" else "#555555"
                handles.append(Line2D([], [], color=colour, linewidth=1.4, linestyle=st.linestyle))
                labels.append(f"{st.label} ({styles_present[st.key]:,})")
    legend = fig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=anchor,
        frameon=False,
        fontsize=7.5,
        handlelength=3.2,
    )
    texts = legend.get_texts()
    for i in headers:
        texts[i].set_fontweight("bold")


# --- output ---------------------------------------------------------------------------

_RC = {
    "svg.fonttype": "none",  # text stays text: names searchable, small files
    "svg.hashsalt": "bagemu",  # stable ids, so the same topology gives the same SVG
    "font.family": "DejaVu Sans",
}


def render(topo: Topology, path: str | Path) -> Path:
    """Draw ``topo`` into ``path``: SVG, PNG or HTML (a page with the SVG inline and tables
    of nodes by role and capacity by layer) by the suffix. Returns the path written;
    ``ValueError`` for another suffix (nothing is written), ``OSError`` if it cannot write."""
    out = Path(path)
    fmt = check_output(out)
    with matplotlib.rc_context(_RC):
        fig = _figure(topo, layout(topo))
        if fmt == ".png":
            fig.savefig(out, format="png", dpi=100, metadata={"Title": topo.name})
        elif fmt == ".svg":
            fig.savefig(out, format="svg", metadata={"Title": topo.name, "Date": None})
        else:
            out.write_text(_html(topo, _inline_svg(fig)), encoding="utf-8")
    return out


def _inline_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element for an HTML page: no XML prolog, DOCTYPE or
    metadata, and no namespace declarations (HTML parsing puts ``<svg>`` in the SVG
    namespace itself), so the page names no outside address at all."""
    buf = io.StringIO()
    fig.savefig(
        buf, format="svg", metadata={"Format": None, "Type": None, "Creator": None, "Date": None}
    )
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    head_end = text.index(">") + 1
    head = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text[:head_end])
    return head + text[head_end:]


_PAGE_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #1a1a1a; }
.drawing { overflow-x: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child, .text { text-align: left; }
th { background: #f2f2f2; }
"""


def layer_summary(topo: Topology) -> list[dict[str, object]]:
    """Bundles grouped by the roles they join (upper role first) and their style: count,
    member counts and speeds, total and per-bundle capacity. The HTML table; also handy to
    print."""
    names = {n.name: n for n in topo.nodes}
    groups: dict[tuple[Role, Role, str], list[Bundle]] = defaultdict(list)
    for b in topo.bundles:
        na, nb = names[b.a], names[b.b]
        upper, lower = sorted((na.role, nb.role), key=lambda r: (-r.tier, r.value))
        groups[(upper, lower, _style_of(b, na, nb))].append(b)
    rows = []
    for (upper, lower, style), bundles in sorted(
        groups.items(), key=lambda kv: (-kv[0][0].tier, -kv[0][1].tier, kv[0][0].value, kv[0][2])
    ):
        caps = [b.capacity_bps for b in bundles]
        rows.append(
            {
                "between": f"{upper.value} - {lower.value}",
                "style": next(s.label for s in _STYLES if s.key == style),
                "bundles": len(bundles),
                "members": sorted({b.members for b in bundles}),
                "member_speeds_bps": sorted({b.member_speed_bps for b in bundles}),
                "capacity_bps": sum(caps),
                "min_bundle_bps": min(caps),
                "max_bundle_bps": max(caps),
            }
        )
    return rows


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _html(topo: Topology, svg: str) -> str:
    esc = html.escape
    by_role = Counter(n.role for n in topo.nodes)
    node_rows = []
    for role in sorted(by_role, key=lambda r: (-r.tier, r.value)):
        members = [n for n in topo.nodes if n.role is role]
        planes = sorted({n.plane for n in members if n.plane is not None})
        node_rows.append(
            f"<tr><td>{esc(ROLE_STYLE[role][1])}</td><td>{role.tier}</td>"
            f"<td>{by_role[role]:,}</td><td>{len(planes) or '-'}</td>"
            f"<td>{len({n.fabric for n in members if n.fabric}) or '-'}</td></tr>"
        )
    bundle_rows = []
    for row in layer_summary(topo):
        members = ", ".join(str(m) for m in row["members"])  # type: ignore[attr-defined]
        speeds = ", ".join(format_bps(s) for s in row["member_speeds_bps"])  # type: ignore[attr-defined]
        lo, hi = format_bps(row["min_bundle_bps"]), format_bps(row["max_bundle_bps"])  # type: ignore[arg-type]
        bundle_rows.append(
            f'<tr><td>{esc(str(row["between"]))}</td><td class="text">{esc(str(row["style"]))}</td>'
            f"<td>{row['bundles']:,}</td><td>{esc(members)}</td><td>{esc(speeds)}</td>"
            f"<td>{esc(lo if lo == hi else f'{lo} - {hi}')}</td>"
            f"<td>{esc(format_bps(row['capacity_bps']))}</td></tr>"  # type: ignore[arg-type]
        )
    regions = sorted({n.region for n in topo.nodes}, key=_natural)
    total = sum(b.capacity_bps for b in topo.bundles)
    description = f"<p>{esc(topo.description)}</p>" if topo.description else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(topo.name)}: topology</title>
<style>{_PAGE_CSS}</style>
</head>
<body>
<h1>{esc(topo.name)}</h1>
{description}<p>{len(topo.nodes):,} nodes and {len(topo.bundles):,} bundles
({esc(format_bps(total))} in all) in {_plural(len(regions), "region")}:
{esc(", ".join(regions))}.</p>
<div class="drawing">
{svg}
</div>
<h2>Nodes by role</h2>
<table>
<tr><th>role</th><th>tier</th><th>nodes</th><th>planes</th><th>fabrics</th></tr>
{"".join(node_rows)}
</table>
<h2>Capacity by layer</h2>
<table>
<tr><th>between</th><th class="text">kind</th><th>bundles</th><th>members</th><th>member speed</th>
<th>per bundle</th><th>total</th></tr>
{"".join(bundle_rows)}
</table>
</body>
</html>
"""
