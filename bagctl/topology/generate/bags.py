"""A region's BAG layer over its fabrics, and two regions' BAG layers joined.

- ``bag_layer``: ``planes`` x ``bags_per_plane`` BAG chassis; STSW j of every spine plane
  of every NSF fabric links each BAG of plane j; the EDSWs of each DSF zone are dealt to
  the BAG planes (``edsw_per_plane`` each) and link each BAG of their plane.
- ``join_regions``: two regions' BAG layers, ``planar`` (BAG (j, k) of one region to BAG
  (j, k) of the other, all members in one bundle) or ``spread`` (BAG (j, k) to BAGs
  ((j + t) mod planes, (k + t) mod bags_per_plane) for t < ``spread_width``: one in each
  of several planes, each at another switch index, the members split evenly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..model import Bundle, Node, Role, Topology
from .fabrics import Fabric
from .numbering import asn
from .params import ParamError, canon_bps


def bag_name(region: int, plane: int, switch: int) -> str:
    """BAG chassis ``switch`` (0-based) of ``plane`` (0-based) in ``region``."""
    return f"r{region}-bag{plane + 1}-{switch + 1}"


def bag_layer(
    fabrics: Sequence[Fabric],
    *,
    region: int,
    planes: int,
    bags_per_plane: int,
    chassis_ports: int,
    stsw_bag_members: int,
    edsw_bag_members: int,
    speed_bps: float,
    name: str = "",
) -> Topology:
    """One region: the fabrics plus ``planes`` x ``bags_per_plane`` BAG chassis, each
    fabric's uplink nodes linking every BAG of their plane."""
    r = f"r{region}"
    bags = [
        Node(
            name=bag_name(region, j, k),
            role=Role.BAG,
            asn=asn(region, Role.BAG),
            region=r,
            plane=j + 1,
            chassis_ports=chassis_ports,
        )
        for j in range(planes)
        for k in range(bags_per_plane)
    ]
    speed = canon_bps(speed_bps)
    nodes: list[Node] = []
    bundles: list[Bundle] = []
    for fab in fabrics:
        nodes += fab.topology.nodes
        bundles += fab.topology.bundles
    for fab in fabrics:
        members = stsw_bag_members if fab.kind == "nsf" else edsw_bag_members
        for node, j in fab.uplinks:
            if not 0 <= j < planes:
                raise ParamError(f"{node} attaches to BAG plane {j + 1}, there are {planes}")
            for k in range(bags_per_plane):
                bundles.append(Bundle(node, bag_name(region, j, k), members, speed))
    return Topology(name=name or r, nodes=(*nodes, *bags), bundles=tuple(bundles))


def join_regions(
    a: Topology,
    b: Topology,
    *,
    join: str,
    planes: int,
    bags_per_plane: int,
    members: int,
    spread_width: int = 1,
    speed_bps: float,
    name: str = "",
) -> Topology:
    """Two regions built by ``bag_layer`` with the same BAG layout, their BAGs joined
    ``planar`` or ``spread`` (module docstring). ``members`` is each BAG's total toward the
    other region."""
    ra, rb = _region_number(a), _region_number(b)
    speed = canon_bps(speed_bps)
    bundles: list[Bundle] = []
    if join == "planar":
        for j in range(planes):
            for k in range(bags_per_plane):
                bundles.append(Bundle(bag_name(ra, j, k), bag_name(rb, j, k), members, speed))
    elif join == "spread":
        limit = math.lcm(planes, bags_per_plane)
        if not 1 <= spread_width <= limit:
            raise ParamError(
                f"spread_width {spread_width}: with {planes} planes of {bags_per_plane} "
                f"BAGs each the stripes repeat after {limit}; use 1..{limit}"
            )
        if members % spread_width:
            raise ParamError(
                f"inter_bag_members {members} does not split evenly over spread_width "
                f"{spread_width} peers"
            )
        per_peer = members // spread_width
        for j in range(planes):
            for k in range(bags_per_plane):
                for t in range(spread_width):
                    peer = bag_name(rb, (j + t) % planes, (k + t) % bags_per_plane)
                    bundles.append(Bundle(bag_name(ra, j, k), peer, per_peer, speed))
    else:
        raise ParamError(f"join {join!r}: expected planar or spread")
    return Topology(
        name=name or f"{a.name}+{b.name}",
        nodes=(*a.nodes, *b.nodes),
        bundles=(*a.bundles, *b.bundles, *bundles),
    )


def _region_number(topo: Topology) -> int:
    regions = {n.region for n in topo.nodes}
    if len(regions) != 1:
        raise ParamError(f"{topo.name}: expected one region, found {sorted(regions)}")
    return int(regions.pop().removeprefix("r"))
