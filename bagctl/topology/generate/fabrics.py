"""The L2 fabrics under BAG, each returned as a ``Fabric``: its ``Topology`` plus the
nodes that attach to BAG and the BAG plane each attaches to (``bags.py`` links them).

- ``nsf_fabric``: RTSW -> FTSW -> STSW. ``pods`` pods of ``rtsw_per_pod`` RTSWs; each pod
  has one FTSW per spine plane and every RTSW links every FTSW of its pod; spine plane s
  has one STSW per BAG plane, and every FTSW of plane s links every STSW of plane s.
- ``dsf_zone``: RDSW and EDSW (interface nodes, they speak BGP) and FDSWs (the cell
  fabric: scheduled, no BGP). RDSW-FDSW and FDSW-EDSW bundles are capacity only (their
  FDSW end speaks no BGP, so ``Topology.sessions()`` skips them); the BGP sessions run on
  ``dsf_mesh`` bundles, one per (RDSW, EDSW) pair, whose capacity is that pair's fair
  share of the cell fabric: min(RDSW fabric capacity / EDSWs, EDSW fabric capacity /
  RDSWs), rounded down to a whole Gb/s and carried as one member (a path across the
  fabric, not a port). ``info.py`` computes the DSF's flow through the FDSW bundles.

Node names, ASNs and subnets follow ``numbering.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

from ..model import Bundle, Node, Role, Topology
from .numbering import asn, leaf_prefixes
from .params import ParamError, canon_bps


@dataclass(frozen=True)
class Fabric:
    """An L2 fabric as built, and how it attaches to BAG: ``uplinks`` maps each STSW or
    EDSW to the BAG plane (0-based) whose chassis it links."""

    topology: Topology
    kind: str  # "nsf" or "dsf"
    uplinks: tuple[tuple[str, int], ...]
    subnets: int  # GPU subnets its leaves originate (the next fabric's first subnet)


def nsf_fabric(
    *,
    region: int,
    zone: int,
    spine_planes: int,
    stsw_per_plane: int,
    pods: int,
    rtsw_per_pod: int,
    rtsw_host_bps: float,
    rtsw_ftsw_members: int,
    ftsw_stsw_members: int,
    ftsw_stsw_speed_bps: float,
    speed_bps: float,
    prefixes_per_leaf: int = 1,
    first_subnet: int = 0,
    building: str = "",
) -> Fabric:
    """An NSF: ``pods`` x ``rtsw_per_pod`` RTSWs, ``pods`` x ``spine_planes`` FTSWs,
    ``spine_planes`` x ``stsw_per_plane`` STSWs (STSW j of each spine plane attaches to
    BAG plane j). See the module docstring for the wiring and ASNs."""
    r = f"r{region}"
    fab = f"{r}-nsf{zone}"
    nodes: list[Node] = []
    bundles: list[Bundle] = []
    host = canon_bps(rtsw_host_bps)
    # Every node of the fabric shares its region, building and fabric.
    make = partial(Node, region=r, building=building, fabric=fab)
    subnet = first_subnet
    for p in range(1, pods + 1):
        for i in range(1, rtsw_per_pod + 1):
            leaf = (p - 1) * rtsw_per_pod + i
            nodes.append(
                make(
                    name=f"{fab}-rtsw{p}-{i}",
                    role=Role.RTSW,
                    asn=asn(region, Role.RTSW, zone, leaf),
                    host_capacity_bps=host,
                    prefixes=leaf_prefixes(region, subnet, prefixes_per_leaf),
                )
            )
            subnet += prefixes_per_leaf
    for p in range(1, pods + 1):
        for s in range(1, spine_planes + 1):
            nodes.append(
                make(
                    name=f"{fab}-ftsw{p}-{s}",
                    role=Role.FTSW,
                    asn=asn(region, Role.FTSW, zone, p),
                    plane=s,
                )
            )
    uplinks = []
    for s in range(1, spine_planes + 1):
        for j in range(1, stsw_per_plane + 1):
            name = f"{fab}-stsw{s}-{j}"
            nodes.append(
                make(
                    name=name,
                    role=Role.STSW,
                    asn=asn(region, Role.STSW, zone),
                    plane=s,
                )
            )
            uplinks.append((name, j - 1))
    link, spine = canon_bps(speed_bps), canon_bps(ftsw_stsw_speed_bps)
    for p in range(1, pods + 1):
        for i in range(1, rtsw_per_pod + 1):
            for s in range(1, spine_planes + 1):
                bundles.append(
                    Bundle(f"{fab}-rtsw{p}-{i}", f"{fab}-ftsw{p}-{s}", rtsw_ftsw_members, link)
                )
    for p in range(1, pods + 1):
        for s in range(1, spine_planes + 1):
            for j in range(1, stsw_per_plane + 1):
                bundles.append(
                    Bundle(f"{fab}-ftsw{p}-{s}", f"{fab}-stsw{s}-{j}", ftsw_stsw_members, spine)
                )
    topo = Topology(name=fab, nodes=tuple(nodes), bundles=tuple(bundles))
    return Fabric(topo, "nsf", tuple(uplinks), subnet - first_subnet)


def dsf_zone(
    *,
    region: int,
    zone: int,
    rdsw: int,
    fdsw: int,
    edsw_per_plane: int,
    bag_planes: int,
    rdsw_host_bps: float,
    rdsw_fdsw_members: int,
    fdsw_edsw_members: int,
    speed_bps: float,
    prefixes_per_leaf: int = 1,
    first_subnet: int = 0,
    building: str = "",
) -> Fabric:
    """A DSF zone: ``rdsw`` RDSWs, ``fdsw`` FDSWs, ``edsw_per_plane`` EDSWs per BAG plane.
    Capacity-only RDSW-FDSW and FDSW-EDSW bundles, and one ``dsf_mesh`` bundle per
    (RDSW, EDSW) pair carrying their BGP session (module docstring)."""
    r = f"r{region}"
    fab = f"{r}-dsf{zone}"
    nodes: list[Node] = []
    bundles: list[Bundle] = []
    host = canon_bps(rdsw_host_bps)
    make = partial(Node, region=r, building=building, fabric=fab)
    subnet = first_subnet
    for i in range(1, rdsw + 1):
        nodes.append(
            make(
                name=f"{fab}-rdsw{i}",
                role=Role.RDSW,
                asn=asn(region, Role.RDSW, zone, i),
                host_capacity_bps=host,
                prefixes=leaf_prefixes(region, subnet, prefixes_per_leaf),
            )
        )
        subnet += prefixes_per_leaf
    for f in range(1, fdsw + 1):
        nodes.append(
            make(
                name=f"{fab}-fdsw{f}",
                role=Role.FDSW,
                asn=asn(region, Role.FDSW, zone, f),
            )
        )
    edsws = []
    for j in range(1, bag_planes + 1):
        for e in range(1, edsw_per_plane + 1):
            name = f"{fab}-edsw{j}-{e}"
            edsws.append((name, j - 1))
            nodes.append(
                make(
                    name=name,
                    role=Role.EDSW,
                    asn=asn(region, Role.EDSW, zone),
                    plane=j,
                )
            )
    speed = canon_bps(speed_bps)
    for i in range(1, rdsw + 1):
        for f in range(1, fdsw + 1):
            bundles.append(Bundle(f"{fab}-rdsw{i}", f"{fab}-fdsw{f}", rdsw_fdsw_members, speed))
    for f in range(1, fdsw + 1):
        for name, _ in edsws:
            bundles.append(Bundle(f"{fab}-fdsw{f}", name, fdsw_edsw_members, speed))
    # The scheduled fabric's fair share for one (RDSW, EDSW) pair when every pair is busy.
    rdsw_fabric = fdsw * rdsw_fdsw_members * speed
    edsw_fabric = fdsw * fdsw_edsw_members * speed
    share = min(rdsw_fabric / len(edsws), edsw_fabric / rdsw) if edsws and rdsw else 0.0
    pair = canon_bps(math.floor(share / 1e9) * 1e9)
    if edsws and rdsw and pair <= 0:
        raise ParamError(
            f"{fab}: the cell fabric gives each RDSW-EDSW pair under 1 Gb/s: "
            "more fdsw or rdsw_fdsw_members / fdsw_edsw_members"
        )
    for i in range(1, rdsw + 1):
        for name, _ in edsws:
            bundles.append(Bundle(f"{fab}-rdsw{i}", name, 1, pair, kind="dsf_mesh"))
    topo = Topology(name=fab, nodes=tuple(nodes), bundles=tuple(bundles))
    return Fabric(topo, "dsf", tuple(edsws), subnet - first_subnet)
