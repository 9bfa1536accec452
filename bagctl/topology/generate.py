"""Generators: NSF fabrics, DSF zones, BAG layers in planes, two regions joined; presets.

Pure functions build ``Topology`` objects (``model.py``) from a few counts; ``PRESETS``
names the calibrated sets of them, and ``generate(preset, **params)`` builds one. Every
result passes ``parse_topology(dump_topology(t))`` (validation included) and comes back
equal; ``topologies/<preset>.yaml`` holds each preset as shipped.

Building blocks, each returning a ``Fabric`` (a ``Topology`` plus the nodes that attach to
BAG and the BAG plane each attaches to) or a ``Topology``:

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
- ``bag_layer``: ``planes`` x ``bags_per_plane`` BAG chassis; STSW j of every spine plane
  of every NSF fabric links each BAG of plane j; the EDSWs of each DSF zone are dealt to
  the BAG planes (``edsw_per_plane`` each) and link each BAG of their plane.
- ``join_regions``: two regions' BAG layers, ``planar`` (BAG (j, k) of one region to BAG
  (j, k) of the other, all members in one bundle) or ``spread`` (BAG (j, k) to BAGs
  ((j + t) mod planes, (k + t) mod bags_per_plane) for t < ``spread_width``: one in each
  of several planes, each at another switch index, the members split evenly).

AS numbering, in the style of RFC 7938 §5.2 and Meta's NSDI'21 BGP paper: private
4-octet ASNs (RFC 6996), one decimal field per level, ``42 R T ZZ IIII``:

    ASN = 4_200_000_000 + region * 10_000_000 + tier * 1_000_000 + zone * 10_000 + index

with tier 1 RTSW, 2 FTSW, 3 STSW, 4 BAG, 5 RDSW, 6 EDSW, 7 FDSW (FDSWs carry no BGP; the
format wants an ASN anyway), ``zone`` the fabric's number among its kind (``r1-nsf2`` is
NSF zone 2, ``r1-dsf1`` DSF zone 1; 0 for BAG) and ``index`` as follows. Reuse goes as far
as eBGP loop prevention allows (``validate.py`` checks every layout we emit):

- leaves (RTSW, RDSW): one ASN each (index = leaf number). Every leaf must hear every
  other leaf, in any fabric or region, so no two leaves may share one.
- FTSW: one ASN per pod, shared by its spine planes (index = pod). Pods must differ: a
  route from pod p climbs through pod p's FTSW and would be dropped by an FTSW of another
  pod sharing that ASN on its way down.
- STSW: one ASN per NSF fabric (index 0), like RFC 7938's shared Tier-1 ASN. A route never
  needs two STSWs of one fabric (pod to pod turns at one STSW; BAG paths back into the
  same fabric are valleys, and the shared ASN is what drops them).
- EDSW: one ASN per DSF zone (index 0), for the same reason.
- BAG: one ASN per region (zone 0, index 0): a route crosses at most one BAG of each
  region (up, across once, down).

Prefixes: each leaf originates ``prefixes_per_leaf`` GPU subnets, an IPv4 /24 and an IPv6
/64 each: subnet g of region r (counted over the region's leaves in file order) is
``10.(32(r - 1) + g // 256).(g % 256).0/24`` and ``2001:db8:r:g::/64`` (g in hex), so
regions 1-4 get 10.0.0.0/11, 10.32.0.0/11, ... inside 10.0.0.0/9, clear of the model's
default link pool 10.128.0.0/9.

Calibration: why an NSF's effective oversubscription exceeds its L2-to-BAG figure.
``info.py`` gives ``l2_to_bag`` = host capacity / BAG uplink and ``effective`` = host
capacity / max flow from the hosts to BAG. Meta publishes about 4.5:1 for the first and
4.98:1 for an NSF's second, so some cut inside the NSF is about 10% below its BAG uplink.
We put it where an NSF built before BAG has one: the spine. Pods are non-blocking (RTSW
uplinks >= host capacity); each pod's FTSWs reach the spine about 5:1 oversubscribed, as
sized for pod-to-pod traffic; and each STSW was given a few more BAG-facing ports than the
capacity its FTSW-facing ports bring in (BAG links come in whole 800G members per BAG
chassis, and BAG is built never to be the bottleneck), so those extra BAG ports are
stranded: max flow = the FTSW -> STSW cut, a little below the BAG uplink. Two
calibrations:

- 31:28 (``region``, ``prometheus``): for each BAG chassis of its plane an STSW has 31 x
  800G toward it and 28 x 800G coming in from FTSWs (``region``: a 64-port 800G STSW with
  28 down and 31 up). Leaves serve 14.4T and pods hold 31 racks, which makes the host
  capacity exactly 4.5 x BAG uplink, so effective = 4.5 x 31/28 = 4.982.
- 10:9 (``mini``, two-region presets): an STSW has 10 units toward BAG for every 9 coming
  in from FTSWs, and host capacity is 4.48 x BAG uplink, so effective = 4.48 x 10/9 =
  4.978.

With whole members and whole switches the two published figures cannot both be hit
exactly at every size: 4.98/4.5 = 83/75, so an exact pair needs a factor 83 (or 31 with
4.5 exactly, or 25 with 4.48) somewhere in the counts; these two calibrations are the
smallest we found that keep realistic switch sizes.

DSF zones are scheduled and non-blocking (the cell fabric carries each RDSW's full host
capacity), so their effective figure equals their L2-to-BAG one: RDSW count = 4.5 x BAG
uplink / host capacity per RDSW.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from speakers.wire import Prefix
from speakers.yamldoc import parse_bps

from .dump import _bps
from .model import Bundle, Defaults, Node, Role, Topology

ASN_BASE = 4_200_000_000
_TIER_DIGIT = {
    Role.RTSW: 1,
    Role.FTSW: 2,
    Role.STSW: 3,
    Role.BAG: 4,
    Role.RDSW: 5,
    Role.EDSW: 6,
    Role.FDSW: 7,
}
MAX_REGIONS = 4  # 10.0.0.0/9 split in four /11s, one per region
_SUBNETS_PER_REGION = 32 * 256


class ParamError(ValueError):
    """A bad ``--param``, or parameters that cannot build a topology; names the parameter."""


def asn(region: int, role: Role, zone: int = 0, index: int = 0) -> int:
    """The ASN of the module docstring's scheme: ``42 R T ZZ IIII``."""
    if not 1 <= region <= 9:
        raise ParamError(f"region {region}: the AS scheme has one digit for regions (1-9)")
    if not 0 <= zone <= 99:
        raise ParamError(f"zone {zone}: the AS scheme has two digits for zones (at most 99)")
    if not 0 <= index <= 9999:
        raise ParamError(f"index {index}: the AS scheme has four digits per zone (at most 9999)")
    return ASN_BASE + region * 10_000_000 + _TIER_DIGIT[role] * 1_000_000 + zone * 10_000 + index


def _canon(bps: float) -> float:
    """``bps`` as the file will read it back (``dump`` writes ``_bps``, ``load`` parses it)."""
    return parse_bps(_bps(bps))


def leaf_prefixes(region: int, first: int, count: int) -> tuple[Prefix, ...]:
    """GPU subnets ``first`` .. ``first + count - 1`` of ``region``: a /24 and a /64 each."""
    if not 1 <= region <= MAX_REGIONS:
        raise ParamError(
            f"region {region}: leaf subnets come from 10.0.0.0/9 split per region, "
            f"so regions 1-{MAX_REGIONS} only"
        )
    if first + count > _SUBNETS_PER_REGION:
        raise ParamError(
            f"region {region} needs {first + count} GPU subnets, its 10.x/11 holds "
            f"{_SUBNETS_PER_REGION}: fewer leaves or a lower prefixes_per_leaf"
        )
    out: list[Prefix] = []
    for g in range(first, first + count):
        v4 = ipaddress.IPv4Network(f"10.{32 * (region - 1) + g // 256}.{g % 256}.0/24")
        v6 = ipaddress.IPv6Network(f"2001:db8:{region:x}:{g:x}::/64")
        out += [Prefix.from_network(v4), Prefix.from_network(v6)]
    return tuple(out)


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
    host = _canon(rtsw_host_bps)
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
    link, spine = _canon(speed_bps), _canon(ftsw_stsw_speed_bps)
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
    host = _canon(rdsw_host_bps)
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
    speed = _canon(speed_bps)
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
    pair = _canon(math.floor(share / 1e9) * 1e9)
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
    speed = _canon(speed_bps)
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
    speed = _canon(speed_bps)
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


# --- summarization ----------------------------------------------------------------------

SUMMARIZE = ("none", "fabric", "pod")


def _collapse(prefixes: Sequence[Prefix]) -> tuple[Prefix, ...]:
    """The fewest CIDR blocks covering exactly ``prefixes`` (IPv4 and IPv6 apart)."""
    out: list[Prefix] = []
    for version in (4, 6):
        nets = [p.network for p in prefixes if p.network.version == version]
        out += [Prefix.from_network(n) for n in ipaddress.collapse_addresses(nets)]  # type: ignore[arg-type]
    return tuple(out)


def summarize(topo: Topology, level: str) -> Topology:
    """Give summarizing nodes their ``aggregates``: at ``fabric`` level every STSW (NSF)
    and EDSW (DSF) announces its fabric's leaf subnets, collapsed, to the BAG layer; at
    ``pod`` level each FTSW also announces its pod's (the RTSWs it links). The leaf
    subnets of a fabric are consecutive, so a fabric costs the BAG layer a few prefixes
    instead of one per leaf; a failure inside a fabric is then invisible above it (the
    usual price of summarization)."""
    if level == "none":
        return topo
    if level not in SUMMARIZE:
        raise ParamError(f"summarize: expected one of {', '.join(SUMMARIZE)}, got {level!r}")
    leaves: dict[str, list[Prefix]] = {}
    for n in topo.nodes:
        if n.role in (Role.RTSW, Role.RDSW):
            leaves.setdefault(n.fabric, []).extend(n.prefixes)
    fabric_aggs = {f: _collapse(ps) for f, ps in leaves.items()}
    pod_aggs: dict[str, tuple[Prefix, ...]] = {}
    if level == "pod":
        below: dict[str, list[Prefix]] = {}
        for b in topo.bundles:
            for up, down in ((b.a, b.b), (b.b, b.a)):
                nu, nd = topo.node(up), topo.node(down)
                if nu.role is Role.FTSW and nd.role is Role.RTSW:
                    below.setdefault(up, []).extend(nd.prefixes)
        pod_aggs = {name: _collapse(ps) for name, ps in below.items()}
    nodes = []
    for n in topo.nodes:
        if n.role in (Role.STSW, Role.EDSW):
            n = replace(n, aggregates=fabric_aggs.get(n.fabric, ()))
        elif n.name in pod_aggs:
            n = replace(n, aggregates=pod_aggs[n.name])
        nodes.append(n)
    return Topology(
        topo.name, tuple(nodes), topo.bundles, topo.defaults, topo.addressing, topo.description
    )


# --- parameters -------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One ``--param``: its default, what it means, and how a string is read."""

    default: int | float | str
    help: str
    kind: str = "int"  # "int", "bps" (800G, 14.4T or bits/s) or "choice"
    minimum: int = 1
    choices: tuple[str, ...] = ()

    def convert(self, name: str, value: Any) -> int | float | str:
        if self.kind == "int":
            v = value
            if isinstance(v, str) and v.strip().lstrip("+-").isdigit():
                v = int(v.strip())
            if isinstance(v, bool) or not isinstance(v, int) or v < self.minimum:
                raise ParamError(
                    f"parameter {name!r}: expected an integer >= {self.minimum}, got {value!r}"
                )
            return v
        if self.kind == "bps":
            try:
                v = parse_bps(value) if isinstance(value, str) else value
            except ValueError:
                v = None
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
                raise ParamError(
                    f"parameter {name!r}: expected a bandwidth like 800G or 14.4T, got {value!r}"
                )
            return _canon(float(v))
        if value not in self.choices:
            raise ParamError(
                f"parameter {name!r}: expected one of {', '.join(self.choices)}, got {value!r}"
            )
        return value

    def show(self, value: int | float | str | None = None) -> str:
        """``value`` (default: the default) as it would be typed after ``--param k=``."""
        v = self.default if value is None else value
        return _bps(float(v)) if self.kind == "bps" else str(v)


@dataclass(frozen=True)
class Preset:
    name: str
    build: Callable[..., Topology]
    params: Mapping[str, Param]
    description: str


def _region_params(**defaults: int | str) -> dict[str, Param]:
    """The parameters of one region (every preset), with this preset's defaults."""
    spec = {
        "planes": (
            "BAG planes; each NSF spine plane has one STSW per BAG plane (STSW j links the "
            "BAGs of plane j), and each DSF zone edsw_per_plane EDSWs per BAG plane",
            "int",
            1,
        ),
        "bags_per_plane": ("BAG chassis per plane; each STSW/EDSW of a plane links all", "int", 1),
        "bag_ports": ("ports of one BAG chassis (Jericho3-AI: up to 432 x 800G)", "int", 1),
        "bag_speed": ("member speed of every BAG link (to STSW, EDSW, other BAGs)", "bps", 1),
        "nsf_zones": ("NSF fabrics in the region (one building each)", "int", 0),
        "spine_planes": ("NSF spine planes (= FTSWs per pod)", "int", 1),
        "pods": ("pods per NSF fabric", "int", 1),
        "rtsw_per_pod": ("RTSWs (racks) per pod", "int", 1),
        "rtsw_host": ("GPU-facing capacity of each RTSW", "bps", 1),
        "rtsw_ftsw_members": ("members from each RTSW to each FTSW of its pod", "int", 1),
        "nsf_speed": ("member speed of RTSW-FTSW links", "bps", 1),
        "ftsw_stsw_members": ("members from each FTSW to each STSW of its plane", "int", 1),
        "ftsw_stsw_speed": ("member speed of FTSW-STSW links", "bps", 1),
        "stsw_bag_members": ("members from each STSW to each BAG of its BAG plane", "int", 1),
        "dsf_zones": ("DSF zones in the region (one building each)", "int", 0),
        "rdsw": ("RDSWs per DSF zone", "int", 1),
        "fdsw": ("FDSWs per DSF zone (the cell fabric: capacity only, no BGP)", "int", 1),
        "edsw_per_plane": ("EDSWs per DSF zone and BAG plane", "int", 1),
        "rdsw_host": ("GPU-facing capacity of each RDSW", "bps", 1),
        "rdsw_fdsw_members": ("members from each RDSW to each FDSW", "int", 1),
        "fdsw_edsw_members": ("members from each FDSW to each EDSW", "int", 1),
        "dsf_speed": ("member speed of the cell fabric links", "bps", 1),
        "edsw_bag_members": ("members from each EDSW to each BAG of its plane", "int", 1),
        "prefixes_per_leaf": ("GPU subnets (a /24 and a /64 each) per RTSW and RDSW", "int", 1),
    }
    out = {}
    for name, (help_, kind, minimum) in spec.items():
        default = defaults.pop(name)
        if kind == "bps":
            default = parse_bps(str(default))
        out[name] = Param(default, help_, kind, minimum)
    out["hold_time_s"] = Param(
        defaults.pop("hold_time_s", 9),
        "BGP hold time of every speaker (keepalive a third of it; 0: none)",
        "int",
        0,
    )
    out["summarize"] = Param(
        defaults.pop("summarize", "none"),
        "prefix summarization at tier boundaries: none; fabric (STSWs and EDSWs announce "
        "their fabric's aggregates to BAG instead of every leaf subnet); pod (FTSWs also "
        "announce their pod's aggregates to the STSWs)",
        "choice",
        0,
        SUMMARIZE,
    )
    if defaults:
        raise TypeError(f"unknown region parameters {sorted(defaults)}")
    return out


_JOIN_PARAMS = {
    "inter_bag_members": Param(
        376, "members from each BAG to the other region (split over spread_width peers)"
    ),
    "spread_width": Param(
        8, "spread: BAGs of the other region each BAG links (one per plane offset)"
    ),
}


def _bag_fabric_ports(p: Mapping[str, Any]) -> int:
    """Ports each BAG chassis gives its region's fabrics: an STSW per NSF spine plane and
    ``edsw_per_plane`` EDSWs per DSF zone, each with its bundle's members."""
    return (
        p["nsf_zones"] * p["spine_planes"] * p["stsw_bag_members"]
        + p["dsf_zones"] * p["edsw_per_plane"] * p["edsw_bag_members"]
    )


def build_region(region: int, p: Mapping[str, Any], name: str = "") -> Topology:
    """One region from the parameters of ``_region_params``: its NSF fabrics, then its DSF
    zones, each in its own building, under one BAG layer."""
    if p["nsf_zones"] + p["dsf_zones"] < 1:
        raise ParamError("nsf_zones + dsf_zones: a region needs at least one L2 fabric")
    fabrics: list[Fabric] = []
    subnet = 0
    for zone in range(1, p["nsf_zones"] + 1):
        fab = nsf_fabric(
            region=region,
            zone=zone,
            spine_planes=p["spine_planes"],
            stsw_per_plane=p["planes"],
            pods=p["pods"],
            rtsw_per_pod=p["rtsw_per_pod"],
            rtsw_host_bps=p["rtsw_host"],
            rtsw_ftsw_members=p["rtsw_ftsw_members"],
            ftsw_stsw_members=p["ftsw_stsw_members"],
            ftsw_stsw_speed_bps=p["ftsw_stsw_speed"],
            speed_bps=p["nsf_speed"],
            prefixes_per_leaf=p["prefixes_per_leaf"],
            first_subnet=subnet,
            building=f"r{region}-dc{zone}",
        )
        fabrics.append(fab)
        subnet += fab.subnets
    for i in range(1, p["dsf_zones"] + 1):
        zone = p["nsf_zones"] + i
        fab = dsf_zone(
            region=region,
            zone=i,
            rdsw=p["rdsw"],
            fdsw=p["fdsw"],
            edsw_per_plane=p["edsw_per_plane"],
            bag_planes=p["planes"],
            rdsw_host_bps=p["rdsw_host"],
            rdsw_fdsw_members=p["rdsw_fdsw_members"],
            fdsw_edsw_members=p["fdsw_edsw_members"],
            speed_bps=p["dsf_speed"],
            prefixes_per_leaf=p["prefixes_per_leaf"],
            first_subnet=subnet,
            building=f"r{region}-dc{zone}",
        )
        fabrics.append(fab)
        subnet += fab.subnets
    used = _bag_fabric_ports(p)
    if used > p["bag_ports"]:
        raise ParamError(
            f"bag_ports: each BAG would need {used} ports for its fabrics (nsf_zones x "
            f"spine_planes x stsw_bag_members + dsf_zones x edsw_per_plane x "
            f"edsw_bag_members), its chassis has {p['bag_ports']}"
        )
    return bag_layer(
        fabrics,
        region=region,
        planes=p["planes"],
        bags_per_plane=p["bags_per_plane"],
        chassis_ports=p["bag_ports"],
        stsw_bag_members=p["stsw_bag_members"],
        edsw_bag_members=p["edsw_bag_members"],
        speed_bps=p["bag_speed"],
        name=name,
    )


def _defaults(p: Mapping[str, Any]) -> Defaults:
    if p["hold_time_s"] in (1, 2):
        raise ParamError("hold_time_s: 0 or at least 3 (RFC 4271 §4.2)")
    return Defaults(hold_time_s=p["hold_time_s"])


def _one_region(name: str, description: str) -> Callable[..., Topology]:
    def build(**p: Any) -> Topology:
        topo = summarize(build_region(1, p, name), p["summarize"])
        return Topology(
            topo.name,
            topo.nodes,
            topo.bundles,
            defaults=_defaults(p),
            description=f"bagctl topo gen --preset {name}: {description}",
        )

    return build


def _two_regions(name: str, description: str) -> Callable[..., Topology]:
    def build(**p: Any) -> Topology:
        used = _bag_fabric_ports(p)
        if used + p["inter_bag_members"] > p["bag_ports"]:
            raise ParamError(
                f"bag_ports: each BAG would need {used} ports for its fabrics plus "
                f"inter_bag_members {p['inter_bag_members']}, its chassis has {p['bag_ports']}"
            )
        a, b = build_region(1, p), build_region(2, p)
        topo = join_regions(
            a,
            b,
            join=p["join"],
            planes=p["planes"],
            bags_per_plane=p["bags_per_plane"],
            members=p["inter_bag_members"],
            spread_width=p["spread_width"],
            speed_bps=p["bag_speed"],
            name=name,
        )
        topo = summarize(topo, p["summarize"])
        return Topology(
            topo.name,
            topo.nodes,
            topo.bundles,
            defaults=_defaults(p),
            description=f"bagctl topo gen --preset {name}: {description}",
        )

    return build


# 31:28 (module docstring): per BAG of its plane, an STSW has 31 x 800G up and 28 x 800G
# coming in from FTSWs; RTSW and RDSW serve 14.4T each; 31 racks per pod make the host
# capacity exactly 4.5 x BAG uplink.
_CALIBRATED_31_28 = {
    "bag_ports": 432,
    "bag_speed": "800G",
    "rtsw_per_pod": 31,
    "rtsw_host": "14.4T",
    "nsf_speed": "800G",
    "ftsw_stsw_speed": "800G",
    "stsw_bag_members": 31,
    "fdsw": 9,
    "rdsw_host": "14.4T",
    "rdsw_fdsw_members": 2,
    "fdsw_edsw_members": 2,
    "dsf_speed": "800G",
    "prefixes_per_leaf": 1,
}
# 10:9 (module docstring): RTSWs serve 51.2T, host = 4.48 x BAG uplink.
_CALIBRATED_10_9 = {
    "bag_ports": 432,
    "bag_speed": "800G",
    "rtsw_host": "51.2T",
    "nsf_speed": "800G",
    "ftsw_stsw_speed": "400G",
    "rdsw_host": "14.4T",
    "dsf_speed": "800G",
    "prefixes_per_leaf": 1,
}

_MINI = "one region: 2 BAG planes x 2 chassis, one NSF fabric (2 pods), one DSF zone"
_REGION = "one region: 4 BAG planes x 1 chassis, 3 NSF fabrics (4 pods each), 1 DSF zone"
_TWO = "two regions, each 8 BAG planes x 8 chassis with one NSF fabric and one DSF zone"
_PROMETHEUS = "one region: 8 BAG planes x 6 chassis, 6 NSF fabrics, 6 DSF zones"

_TWO_REGION_DEFAULTS = {
    **_CALIBRATED_10_9,
    "planes": 8,
    "bags_per_plane": 8,
    "nsf_zones": 1,
    "spine_planes": 5,
    "pods": 16,
    "rtsw_per_pod": 14,
    "rtsw_ftsw_members": 13,
    "ftsw_stsw_members": 9,
    "stsw_bag_members": 10,
    "dsf_zones": 1,
    "rdsw": 96,
    "fdsw": 9,
    "edsw_per_plane": 3,
    "rdsw_fdsw_members": 2,
    "fdsw_edsw_members": 2,
    "edsw_bag_members": 2,
    "summarize": "pod",
    "hold_time_s": 90,
}


def _two_region_params(join: str) -> dict[str, Param]:
    return {
        **_region_params(**_TWO_REGION_DEFAULTS),
        "join": Param(join, "how the BAG layers meet: planar or spread", "choice", 0, JOINS),
        **_JOIN_PARAMS,
    }


JOINS = ("planar", "spread")

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "mini",
            _one_region("mini", _MINI),
            _region_params(
                **_CALIBRATED_10_9,
                planes=2,
                bags_per_plane=2,
                nsf_zones=1,
                spine_planes=2,
                pods=2,
                rtsw_per_pod=7,
                rtsw_ftsw_members=32,
                ftsw_stsw_members=45,
                stsw_bag_members=25,
                dsf_zones=1,
                rdsw=8,
                fdsw=2,
                edsw_per_plane=1,
                rdsw_fdsw_members=9,
                fdsw_edsw_members=9,
                edsw_bag_members=8,
            ),
            _MINI + "; demos and tests (at most 40 speakers), published ratios at small size",
        ),
        Preset(
            "region",
            _one_region("region", _REGION),
            _region_params(
                **_CALIBRATED_31_28,
                planes=4,
                bags_per_plane=1,
                nsf_zones=3,
                spine_planes=4,
                pods=4,
                rtsw_ftsw_members=5,
                ftsw_stsw_members=7,
                dsf_zones=1,
                rdsw=60,
                edsw_per_plane=4,
                edsw_bag_members=15,
                summarize="pod",
                hold_time_s=90,
            ),
            _REGION + "; every BAG port used (432)",
        ),
        Preset(
            "two-region-planar",
            _two_regions("two-region-planar", _TWO + "; joined planar"),
            _two_region_params("planar"),
            _TWO + "; BAG (j, k) to BAG (j, k) of the other region",
        ),
        Preset(
            "two-region-spread",
            _two_regions("two-region-spread", _TWO + "; joined spread"),
            _two_region_params("spread"),
            _TWO + "; each BAG striped over 8 BAGs of the other region, one per plane",
        ),
        Preset(
            "prometheus",
            _one_region("prometheus", _PROMETHEUS),
            _region_params(
                **_CALIBRATED_31_28,
                planes=8,
                bags_per_plane=6,
                nsf_zones=6,
                spine_planes=2,
                pods=24,
                rtsw_ftsw_members=9,
                ftsw_stsw_members=7,
                dsf_zones=6,
                rdsw=120,
                edsw_per_plane=5,
                edsw_bag_members=2,
                summarize="pod",
                hold_time_s=90,
            ),
            _PROMETHEUS + "; the largest region (thousands of speakers)",
        ),
    )
}


def preset_params(preset: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The preset's parameters with ``overrides`` applied and converted (strings from the
    command line are fine); unknown names and bad values raise ``ParamError``."""
    if preset not in PRESETS:
        raise ParamError(f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
    spec = PRESETS[preset].params
    values = {name: p.default for name, p in spec.items()}
    for name, value in (overrides or {}).items():
        if name not in spec:
            raise ParamError(
                f"unknown parameter {name!r} for preset {preset!r} (accepted: {', '.join(spec)})"
            )
        values[name] = spec[name].convert(name, value)
    return values


def generate(preset: str, **params: Any) -> Topology:
    """Build ``preset`` with ``params`` overriding its defaults (``PRESETS[preset].params``)."""
    values = preset_params(preset, params)
    topo = PRESETS[preset].build(**values)
    spec = PRESETS[preset].params
    changed = [k for k, v in values.items() if v != spec[k].default]
    if changed:
        extra = ", ".join(f"{k}={spec[k].show(values[k])}" for k in changed)
        topo = replace(topo, description=f"{topo.description} ({extra})")
    return topo
