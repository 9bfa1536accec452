"""Drawing a region: ``layout(topo)`` places the nodes, ``render(topo, path)`` writes SVG,
PNG or HTML (chosen by the suffix).

One module per job, so the utilization picture (``bagctl/verify/plot``) draws with the
same pieces and reads like this one:

- ``placement.py``: where each node goes (``layout``), pure geometry;
- ``artists.py``: node markers, bundle widths and paths, labels;
- ``legend.py``: legends with bold section headers, role and capacity entries;
- ``files.py``: the format by suffix, fixed rcParams, PNG, SVG and the HTML page;
- ``topology_picture.py``: the region drawing itself (``render``, ``plane_colours``).

Matplotlib is used without pyplot: a ``Figure`` on an explicit Agg canvas, and the few
rcParams the output needs set in an ``rc_context`` that is undone on return, so nothing
leaks between calls and the same topology gives the same bytes.
"""

from .artists import bundle_width_pt
from .files import FORMATS, check_output
from .placement import layout
from .topology_picture import LayerSummary, layer_summary, plane_colours, render

__all__ = [
    "FORMATS",
    "LayerSummary",
    "bundle_width_pt",
    "check_output",
    "layer_summary",
    "layout",
    "plane_colours",
    "render",
]
