"""The utilization picture as a file: ``render_utilization`` and ``render_report``.

The figure is laid out as the topology drawing is (``bagctl/topology/draw``): the plot
grows with the widest row; a right column holds the colour bar and the legend; the title
is the caller's verdict, with a summary line under it. The HTML page adds tables of the
most loaded, failed and degraded bundles.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bagctl.topology.draw.artists import (
    ARC_HEIGHT,
    LABEL_NODES_MAX,
    density_scale,
    draw_labels,
    draw_nodes,
)
from bagctl.topology.draw.files import PAGE_CSS, check_output, write_picture
from bagctl.topology.draw.placement import layout, room_pt
from bagctl.topology.model import Topology
from bagctl.verify.report import VerifyReport
from speakers.wire import format_bps

from .edges import Edge, Key, edge_states
from .layers import NODE_COLOUR, WRONG_COLOUR, annotate, draw_bundles, most_loaded, pct
from .legend import Counts, colorbar, utilization_legend

PAGE_ROWS_MAX = 200  # rows per table in the HTML page


def _figure(
    topo: Topology,
    pos: dict[str, tuple[float, float]],
    edges: Sequence[Edge],
    title: str,
    marked: Sequence[str] = (),
) -> Figure:
    nodes = topo.nodes
    label_nodes = len(nodes) <= LABEL_NODES_MAX
    xs = [p[0] for p in pos.values()] or [0.0]
    span = max(xs) - min(xs) + 2.0
    counts = Counts.of(edges)
    scale = density_scale(len(edges))
    legend = utilization_legend(topo, edges, counts, scale)

    # Inches, as in the topology drawing: the plot grows with the widest row; the right column holds
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

    mappable = draw_bundles(ax, edges, dense=len(edges) > 2000)
    room = room_pt(pos, plot_w * 72 / max(span, 1.0))
    wrong = set(marked)
    size = draw_nodes(
        ax, nodes, pos, room, lambda n: WRONG_COLOUR if n.name in wrong else NODE_COLOUR
    )
    draw_labels(ax, nodes, pos, room, size, plot_w)
    annotate(ax, edges)

    fig.text(
        left_in / fig_w,
        1 - 0.15 / fig_h,
        title or f"{topo.name}: bundle utilization",
        ha="left",
        va="top",
        fontsize=13,
        fontweight="bold",
    )
    summary = counts.summary(topo)
    if marked:
        summary += f"; in red, {len(marked)} switches whose FIB is off the ideal split"
    fig.text(
        left_in / fig_w,
        1 - 0.47 / fig_h,
        summary,
        ha="left",
        va="top",
        fontsize=9,
        color="#333333",
    )
    col_x = 1 - (right_in - 0.15) / fig_w
    bar_top = top_in + 0.3
    colorbar(
        fig,
        mappable,
        (col_x + 0.05 / fig_w, 1 - (bar_top + 0.14) / fig_h, 2.9 / fig_w, 0.14 / fig_h),
        over=counts.over > 0,
    )
    legend.draw(fig, anchor=(col_x, 1 - (top_in + bar_in) / fig_h))
    return fig


def render_utilization(
    topo: Topology,
    utilization: Mapping[Key, float],
    path: str | Path,
    *,
    failed: Iterable[Key] = (),
    degraded: Mapping[Key, tuple[int, int]] | None = None,
    title: str = "",
    marked: Iterable[str] = (),
) -> Path:
    """Draw ``topo`` with each bundle coloured by ``utilization`` (bundle key -> load as a
    fraction of its current capacity; absent: no traffic) into ``path``: PNG, SVG or HTML
    (a page with the SVG inline and tables of the most loaded, failed and degraded
    bundles) by the suffix. ``failed``: bundle keys that are down; ``degraded``: key ->
    (members up, members). Keys may name their ends in either order. ``marked``: nodes
    drawn in red and listed, those whose FIB is wrong (``render_report``).

    Returns the path written. ``ValueError`` for another suffix, for keys that name no
    bundle and for utilizations that are negative or not finite (nothing is written);
    ``OSError`` if it cannot write."""
    out = Path(path)
    fmt = check_output(out)
    pos = layout(topo)
    edges = edge_states(topo, pos, utilization, failed, degraded or {})
    heading = title or f"{topo.name}: bundle utilization"
    wrong = sorted(set(marked))
    unknown = [n for n in wrong if n not in pos]
    if unknown:
        raise ValueError(f"marked nodes not in {topo.name}: {', '.join(unknown)}")
    write_picture(
        out,
        fmt,
        heading,
        lambda: _figure(topo, pos, edges, title, wrong),
        lambda svg: _page(topo, heading, edges, svg, wrong),
    )
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
        marked=report.wrong_nodes(),
    )


def _rows(edges: Sequence[Edge], cells: Callable[[Edge], Sequence[str]]) -> str:
    esc = html.escape
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells(e)) + "</tr>"
        for e in edges[:PAGE_ROWS_MAX]
    )
    if len(edges) > PAGE_ROWS_MAX:
        body += f"<tr><td>… and {len(edges) - PAGE_ROWS_MAX:,} more</td></tr>"
    return body


def _page(
    topo: Topology, heading: str, edges: Sequence[Edge], svg: str, marked: Sequence[str] = ()
) -> str:
    """A self-contained page: the drawing inline, then the bundles worth a closer look."""
    esc = html.escape
    counts = Counts.of(edges)
    top = most_loaded(edges, len(edges))
    failed = sorted((e for e in edges if e.failed), key=lambda e: e.bundle.key)
    degraded = sorted((e for e in edges if e.degraded), key=lambda e: e.bundle.key)
    sections = []
    if marked:
        items = "".join(f"<li>{esc(n)}</li>" for n in marked)
        sections.append(
            f"<h2>Switches whose FIB is off the ideal split (red)</h2>\n<ul>{items}</ul>"
        )
    if top:
        sections.append(
            "<h2>Most loaded bundles</h2>\n<table>\n<tr><th>bundle</th><th>capacity now</th>"
            "<th>utilization</th></tr>\n"
            + _rows(top, lambda e: (e.name, format_bps(e.capacity_now_bps), pct(e.util or 0)))
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
