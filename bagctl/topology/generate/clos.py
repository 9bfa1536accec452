"""The ``clos`` preset: a standard 3-tier Clos, for users without a BAG and for holding
bagemu against other routing stacks on the same fabric.

L leaves, one pod of S spines (every leaf to every spine), P super-spines (every spine to
every super-spine); single-hop eBGP on every link. The numbering is the usual data-centre
one (RFC 7938 §5.2): every super-spine in AS 65000, every spine in AS 65001 (the shared
AS keeps a route learnt from one spine from coming back down through another), leaf i in
AS 4200000000 + i. Leaf i originates 172.(16 + i // 256).(i % 256).0/24 and
fd01:0:0:<i in hex>::/64. Every switch advertises the link bandwidth of the link it
advertises over (``link_bandwidth: link-capacity``), from which each derives its UCMP
weights.

Bundle sizes (``bandwidth``): ``pattern`` gives leaf i - spine j 1 + (i + j) % 4 members
and spine j - super-spine p 1 + (j + 2p) % 4 (so weights differ from link to link and
UCMP has something to do); ``uniform`` gives every bundle ``members`` members. The
roles are the NSF's (RTSW leaf, FTSW spine, STSW super-spine), so every command reads it
as one fabric of one region.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from speakers.wire import Prefix

from ..model import Bundle, Defaults, Node, Role, Topology
from .params import Param, ParamError

SUPER_ASN = 65000
SPINE_ASN = 65001
LEAF_ASN_BASE = 4_200_000_000
MAX_LEAVES = 16 * 256  # 172.16.0.0/12 holds 4,096 leaf /24s
BANDWIDTHS = ("pattern", "uniform")

CLOS_PARAMS: dict[str, Param] = {
    "leaves": Param(32, f"leaf switches (at most {MAX_LEAVES})", "int", 1),
    "spines": Param(4, "spine switches, each linked to every leaf", "int", 1),
    "supers": Param(4, "super-spine switches, each linked to every spine", "int", 1),
    "bandwidth": Param(
        "pattern",
        "bundle sizes: pattern (leaf i - spine j 1+(i+j)%4 members, spine j - super p "
        "1+(j+2p)%4) or uniform (every bundle `members` members)",
        "choice",
        0,
        BANDWIDTHS,
    ),
    "members": Param(1, "members of every bundle with bandwidth=uniform", "int", 1),
    "speed": Param(1e9, "speed of every member link", "bps", 1),
    "hold_time_s": Param(
        9, "BGP hold time of every speaker (keepalive a third of it; 0: none)", "int", 0
    ),
    "mrai_s": Param(0, "minimum route advertisement interval, seconds", "int", 0),
    "max_paths": Param(64, "most next hops of one route (ECMP/UCMP width)", "int", 1),
}


def leaf_prefixes(i: int) -> tuple[Prefix, ...]:
    """Leaf ``i``'s subnets (module docstring)."""
    v4 = ipaddress.IPv4Network(f"172.{16 + (i >> 8)}.{i & 255}.0/24")
    v6 = ipaddress.IPv6Network(f"fd01:0:0:{i:x}::/64")
    return (Prefix.from_network(v4), Prefix.from_network(v6))


def build_clos(**p: Any) -> Topology:
    """The Clos of the module docstring from ``CLOS_PARAMS`` values."""
    leaves, spines, supers = p["leaves"], p["spines"], p["supers"]
    if leaves > MAX_LEAVES:
        raise ParamError(f"leaves: at most {MAX_LEAVES} (172.16.0.0/12 in /24s), not {leaves}")
    if p["hold_time_s"] in (1, 2):
        raise ParamError("hold_time_s: 0 or at least 3 (RFC 4271 §4.2)")
    uniform = p["bandwidth"] == "uniform"

    def members(pattern: int) -> int:
        return int(p["members"]) if uniform else 1 + pattern % 4

    def node(name: str, role: Role, asn: int, prefixes: tuple[Prefix, ...] = ()) -> Node:
        return Node(name, role, asn, region="clos", fabric="clos", prefixes=prefixes)

    nodes = [node(f"super{k}", Role.STSW, SUPER_ASN) for k in range(supers)]
    nodes += [node(f"spine{j}", Role.FTSW, SPINE_ASN) for j in range(spines)]
    nodes += [
        node(f"leaf{i}", Role.RTSW, LEAF_ASN_BASE + i, leaf_prefixes(i)) for i in range(leaves)
    ]
    speed = float(p["speed"])
    bundles = [
        Bundle(f"leaf{i}", f"spine{j}", members(i + j), speed)
        for i in range(leaves)
        for j in range(spines)
    ]
    bundles += [
        Bundle(f"spine{j}", f"super{k}", members(j + 2 * k), speed)
        for j in range(spines)
        for k in range(supers)
    ]
    defaults = Defaults(
        hold_time_s=p["hold_time_s"],
        mrai_s=float(p["mrai_s"]),
        link_bandwidth="link-capacity",
        max_paths=p["max_paths"],
    )
    return Topology(
        "clos",
        tuple(nodes),
        tuple(bundles),
        defaults=defaults,
        description=(
            f"bagctl topo gen --preset clos: a 3-tier Clos, {leaves} leaves, {spines} "
            f"spines, {supers} super-spines"
        ),
    )


__all__ = ["CLOS_PARAMS", "build_clos", "leaf_prefixes"]
