"""The region drawing: ``render(topo, path)`` writes SVG, PNG or HTML (by the suffix).

Node colour is the plane (a qualitative palette; nodes without a plane in grey), marker
is the role (``artists.py``). A bundle's width is its capacity and its colour the plane
of its ends. Capacity-only bundles (to an FDSW: the scheduled cell fabric, no BGP) are
dashed, ``dsf_mesh`` sessions dotted, and BAG-to-BAG links between regions are arcs over
the top row. Bundles go into one ``LineCollection`` per style, so tens of thousands of
bundles draw in seconds. The HTML page adds tables of nodes by role and capacity by layer
(``layer_summary``).
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.typing import ColorType, LineStyleType

from speakers.wire import format_bps

from ..model import Bundle, Node, Role, Topology
from .artists import (
    ARC_HEIGHT,
    LABEL_NODES_MAX,
    NO_PLANE_COLOUR,
    ROLE_STYLE,
    bundle_path,
    bundle_width_pt,
    capacity_examples,
    density_scale,
    draw_labels,
    draw_nodes,
)
from .files import PAGE_CSS, check_output, write_picture
from .legend import Legend, capacity_entries, role_entries
from .placement import layout, natural_key, room_pt

INTER_REGION_COLOUR = "#222222"

PlaneColours = dict[int | None, tuple[float, float, float] | str]


class LayerSummary(TypedDict):
    """One row of ``layer_summary``: the bundles between two roles, of one style."""

    between: str
    style: str
    bundles: int
    members: list[int]
    member_speeds_bps: list[float]
    capacity_bps: float
    min_bundle_bps: float
    max_bundle_bps: float


def _palette(name: str, skip: tuple[int, ...]) -> list[tuple[float, float, float]]:
    """The RGB colours of a qualitative colormap, without those at ``skip``."""
    cmap = matplotlib.colormaps[name]
    if not isinstance(cmap, ListedColormap):
        raise TypeError(f"colormap {name!r} is not a list of colours")
    rgb = [(float(r), float(g), float(b)) for r, g, b in np.asarray(cmap.colors)]
    return [c for i, c in enumerate(rgb) if i not in skip]


def plane_colours(topo: Topology) -> PlaneColours:
    """Plane -> colour: tab10 without its grey (which means "no plane"), tab20 without its
    greys past nine planes, cycling past eighteen."""
    planes = sorted({n.plane for n in topo.nodes if n.plane is not None})
    palette = _palette("tab10", (7,)) if len(planes) <= 9 else _palette("tab20", (14, 15))
    out: PlaneColours = {None: NO_PLANE_COLOUR}
    for i, p in enumerate(planes):
        out[p] = palette[i % len(palette)]
    return out


@dataclass(frozen=True, slots=True)
class _Style:
    key: str
    label: str
    linestyle: LineStyleType
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


def _edge_colour(na: Node, nb: Node, colours: PlaneColours) -> ColorType:
    if na.plane is not None and nb.plane is not None and na.plane != nb.plane:
        return NO_PLANE_COLOUR
    plane = na.plane if na.plane is not None else nb.plane
    return colours.get(plane, NO_PLANE_COLOUR)


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
        + len(capacity_examples(topo.bundles))
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
    ax.set_ylim(0.2, 4.0 + ARC_HEIGHT + 0.25)

    # Bundles: one LineCollection per style.
    scale = density_scale(len(topo.bundles))
    segs: dict[str, list[np.ndarray]] = defaultdict(list)
    widths: dict[str, list[float]] = defaultdict(list)
    ecols: dict[str, list[ColorType]] = defaultdict(list)
    for b in sorted(topo.bundles, key=lambda b: -b.capacity_bps):
        na, nb = names[b.a], names[b.b]
        style = _style_of(b, na, nb)
        p, q = pos[b.a], pos[b.b]
        segs[style].append(bundle_path(p, q))
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
    room = room_pt(pos, plot_w * 72 / max(span, 1.0))
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
    _legend(topo, colours, scale, bundle_styles).draw(
        fig, anchor=(1 - (right_in - 0.15) / fig_w, 1)
    )
    return fig


def _legend(
    topo: Topology, colours: PlaneColours, scale: float, styles_present: Counter[str]
) -> Legend:
    leg = Legend()
    leg.header("roles")
    for handle, text in role_entries(topo, "white"):
        leg.add(handle, text)
    leg.header("planes (node and bundle colour)")
    planes = sorted(p for p in colours if p is not None)
    for p in planes[:12]:
        leg.add(Patch(facecolor=colours[p], edgecolor="#1a1a1a", linewidth=0.4), f"plane {p}")
    if len(planes) > 12:
        leg.blank(f"... {len(planes) - 12} more planes")
    if any(n.plane is None for n in topo.nodes):
        leg.add(Patch(facecolor=NO_PLANE_COLOUR, edgecolor="#1a1a1a", linewidth=0.4), "no plane")
    examples = capacity_examples(topo.bundles)
    if examples:
        leg.header("bundle capacity (line width)")
        for handle, text in capacity_entries(examples, scale, "#333333"):
            leg.add(handle, text)
        leg.header("bundle kinds")
        for st in _STYLES:
            if styles_present.get(st.key):
                colour = INTER_REGION_COLOUR if st.key == "inter" else "#555555"
                leg.add(
                    Line2D([], [], color=colour, linewidth=1.4, linestyle=st.linestyle),
                    f"{st.label} ({styles_present[st.key]:,})",
                )
    return leg


def render(topo: Topology, path: str | Path) -> Path:
    """Draw ``topo`` into ``path``: SVG, PNG or HTML (a page with the SVG inline and tables
    of nodes by role and capacity by layer) by the suffix. Returns the path written;
    ``ValueError`` for another suffix (nothing is written), ``OSError`` if it cannot write."""
    out = Path(path)
    fmt = check_output(out)
    write_picture(
        out, fmt, topo.name, lambda: _figure(topo, layout(topo)), lambda svg: _html(topo, svg)
    )
    return out


def layer_summary(topo: Topology) -> list[LayerSummary]:
    """Bundles grouped by the roles they join (upper role first) and their style: count,
    member counts and speeds, total and per-bundle capacity. The HTML table; also handy to
    print."""
    names = {n.name: n for n in topo.nodes}
    groups: dict[tuple[Role, Role, str], list[Bundle]] = defaultdict(list)
    for b in topo.bundles:
        na, nb = names[b.a], names[b.b]
        upper, lower = sorted((na.role, nb.role), key=lambda r: (-r.tier, r.value))
        groups[(upper, lower, _style_of(b, na, nb))].append(b)
    rows: list[LayerSummary] = []
    for (upper, lower, style), bundles in sorted(
        groups.items(), key=lambda kv: (-kv[0][0].tier, -kv[0][1].tier, kv[0][0].value, kv[0][2])
    ):
        caps = [b.capacity_bps for b in bundles]
        rows.append(
            LayerSummary(
                between=f"{upper.value} - {lower.value}",
                style=next(s.label for s in _STYLES if s.key == style),
                bundles=len(bundles),
                members=sorted({b.members for b in bundles}),
                member_speeds_bps=sorted({b.member_speed_bps for b in bundles}),
                capacity_bps=sum(caps),
                min_bundle_bps=min(caps),
                max_bundle_bps=max(caps),
            )
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
        member_counts = ", ".join(str(m) for m in row["members"])
        speeds = ", ".join(format_bps(s) for s in row["member_speeds_bps"])
        lo, hi = format_bps(row["min_bundle_bps"]), format_bps(row["max_bundle_bps"])
        bundle_rows.append(
            f'<tr><td>{esc(str(row["between"]))}</td><td class="text">{esc(str(row["style"]))}</td>'
            f"<td>{row['bundles']:,}</td><td>{esc(member_counts)}</td><td>{esc(speeds)}</td>"
            f"<td>{esc(lo if lo == hi else f'{lo} - {hi}')}</td>"
            f"<td>{esc(format_bps(row['capacity_bps']))}</td></tr>"
        )
    regions = sorted({n.region for n in topo.nodes}, key=natural_key)
    total = sum(b.capacity_bps for b in topo.bundles)
    description = f"<p>{esc(topo.description)}</p>" if topo.description else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(topo.name)}: topology</title>
<style>{PAGE_CSS}</style>
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
