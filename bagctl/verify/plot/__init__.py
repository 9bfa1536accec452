"""Draw where the traffic goes: ``render_utilization(topo, utilization, path)`` writes the
region as ``bagctl/topology/draw`` lays it out, each bundle coloured by its load;
``render_report(topo, report, path)`` does it for a verification's report.

Why a picture: a verifier's verdict ("UCMP delivers 100 % of demand, ECMP 87.5 %") says
*that* a weighting falls short, the drawing says *where*: the few bundles past their
capacity stand out in magenta while the rest of the region shows how evenly the load
spreads. The caller puts its verdict in the title. Nodes keep their role markers but are
grey: colour belongs to the bundles here. Line width is capacity, as in the topology
drawing.

One module per job: ``edges.py`` (each bundle's state from the caller's mappings),
``layers.py`` (the bundles drawn by load, their labels), ``legend.py`` (legend, colour
bar, summary line), ``picture.py`` (the figure and the files). Output is deterministic:
bundles are drawn in (utilization, key) order, and the SVG ids are stable through
``bagctl/topology/draw/files.py``'s rcParams.
"""

from .picture import render_report, render_utilization

__all__ = ["render_report", "render_utilization"]
