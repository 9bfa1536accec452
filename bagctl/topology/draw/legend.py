"""Legends with bold section headers, and the entries both region pictures share.

``Legend`` collects handles and labels section by section (``header``, ``add``,
``blank``) and draws them as one figure legend whose headers are bold; the topology
drawing and the utilization picture (``bagctl/verify/plot``) build theirs with it, so they
read alike. ``role_entries`` and ``capacity_entries`` are the roles' markers and the line
widths by capacity, which both show.
"""

from __future__ import annotations

from collections.abc import Iterable

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from speakers.wire import format_bps

from ..model import Bundle, Topology
from .artists import ROLE_STYLE, bundle_width_pt


class Legend:
    """Handles and labels in order; ``headers`` are the indexes of the bold ones."""

    def __init__(self) -> None:
        self.handles: list[Artist] = []
        self.labels: list[str] = []
        self.headers: list[int] = []

    def header(self, text: str) -> None:
        self.headers.append(len(self.labels))
        self.blank(text)

    def blank(self, text: str) -> None:
        """A line of text with no symbol."""
        self.add(Line2D([], [], linestyle="", marker=""), text)

    def add(self, handle: Artist, text: str) -> None:
        self.handles.append(handle)
        self.labels.append(text)

    def draw(self, fig: Figure, anchor: tuple[float, float]) -> None:
        """Upper left corner at ``anchor`` (figure fraction), no frame."""
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


def role_entries(topo: Topology, facecolor: str) -> list[tuple[Line2D, str]]:
    """Legend entries for the roles present: each role's marker, filled ``facecolor``
    (shared with ``bagctl/verify/plot``)."""
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
    """Legend entries for line width: one example bundle per width (``capacity_examples``)."""
    return [
        (
            Line2D([], [], color=colour, linewidth=bundle_width_pt(b.capacity_bps, scale)),
            f"{b.members} x {format_bps(b.member_speed_bps)} = {format_bps(b.capacity_bps)}",
        )
        for b in examples
    ]
