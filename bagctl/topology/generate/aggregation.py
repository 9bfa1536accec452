"""Prefix summarization at tier boundaries: which nodes announce aggregates, and which.

At ``fabric`` level every STSW (NSF) and EDSW (DSF) announces its fabric's leaf subnets,
collapsed, to the BAG layer; at ``pod`` level each FTSW also announces its pod's. The
leaf subnets of a fabric are consecutive (``numbering.py``), so a fabric costs the BAG
layer a few prefixes instead of one per leaf.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import replace

from speakers.wire import Prefix

from ..model import Role, Topology
from .params import SUMMARIZE, ParamError


def _collapse(prefixes: Sequence[Prefix]) -> tuple[Prefix, ...]:
    """The fewest CIDR blocks covering exactly ``prefixes`` (IPv4 and IPv6 apart)."""
    nets = [p.network for p in prefixes]
    v4 = [n for n in nets if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in nets if isinstance(n, ipaddress.IPv6Network)]
    out = [Prefix.from_network(n) for n in ipaddress.collapse_addresses(v4)]
    out += [Prefix.from_network(n) for n in ipaddress.collapse_addresses(v6)]
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
