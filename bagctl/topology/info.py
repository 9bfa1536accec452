"""A region's figures: counts, capacities and oversubscription, each computed as stated.

- ``speakers``: nodes that speak BGP (all roles but ``fdsw``). ``sessions``: bundles whose
  two ends speak BGP (one eBGP session per bundle). ``member_links``: the sum of bundle
  members (physical links).
- ``host_capacity`` of a fabric: the sum of its nodes' GPU-facing capacity (the leaves').
- ``bag_uplink`` of a fabric: the capacity of the bundles between its nodes and BAG nodes.
- ``l2_to_bag_oversubscription`` = host_capacity / bag_uplink: how much more the GPUs can
  send than the fabric can hand to BAG.
- ``effective_oversubscription`` = host_capacity / max_flow, where max_flow is the maximum
  flow from the fabric's hosts (each leaf a source of its host capacity) to the BAG layer
  through the fabric's own bundles (networkx maximum flow): it also counts bottlenecks
  inside the fabric. For a DSF, the flow crosses the cell fabric (the FDSW bundles) when
  the file has them, else the RDSW-EDSW ``dsf_mesh`` bundles. ``nsf_effective_
  oversubscription`` is that figure over all NSF fabrics together.
- ``inter_bag_pbps``: per pair of regions, the capacity of the bundles between their BAG
  nodes, in Pbps (10^15 b/s).
- ``max_chassis_ports``: the most member links ending on any one node.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from .model import Role, Topology


def _fabric_flow(topo: Topology, fabric: str) -> tuple[float, float, float]:
    """(host capacity, BAG uplink capacity, max flow hosts -> BAG) of one fabric."""
    members = {n.name: n for n in topo.nodes if n.fabric == fabric}
    has_fdsw = any(n.role is Role.FDSW for n in members.values())
    g = nx.DiGraph()
    host = uplink = 0.0
    for n in members.values():
        if n.host_capacity_bps:
            g.add_edge("_hosts", n.name, capacity=n.host_capacity_bps)
            host += n.host_capacity_bps
    for b in topo.bundles:
        a_in, b_in = b.a in members, b.b in members
        if a_in and b_in:
            if b.kind == "dsf_mesh" and has_fdsw:
                continue  # the same capacity is modelled through the FDSWs
            g.add_edge(b.a, b.b, capacity=b.capacity_bps)
            g.add_edge(b.b, b.a, capacity=b.capacity_bps)
        elif a_in or b_in:
            inside, outside = (b.a, b.b) if a_in else (b.b, b.a)
            if topo.node(outside).role is Role.BAG:
                uplink += b.capacity_bps
                # one edge per node to the sink: add up its bundles to every BAG
                cap = g.get_edge_data(inside, "_bag", {}).get("capacity", 0.0)
                g.add_edge(inside, "_bag", capacity=cap + b.capacity_bps)
    flow = 0.0
    if "_hosts" in g and "_bag" in g:
        flow = nx.maximum_flow_value(g, "_hosts", "_bag")
    return host, uplink, flow


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 3) if den else None


def topology_info(topo: Topology) -> dict[str, object]:
    """The figures above as one JSON-friendly object."""
    by_role: dict[str, int] = defaultdict(int)
    for n in topo.nodes:
        by_role[n.role.value] += 1
    ports: dict[str, int] = defaultdict(int)
    for b in topo.bundles:
        ports[b.a] += b.members
        ports[b.b] += b.members
    capacity_by_tiers: dict[str, float] = defaultdict(float)
    for b in topo.bundles:
        ra, rb = sorted((topo.node(b.a).role.value, topo.node(b.b).role.value))
        capacity_by_tiers[f"{ra}-{rb}"] += b.capacity_bps
    fabrics = {}
    nsf_host = nsf_flow = 0.0
    kinds = {n.fabric: n.role.fabric_kind for n in topo.nodes if n.fabric}
    for fabric in sorted(kinds):
        host, uplink, flow = _fabric_flow(topo, fabric)
        nodes = [n for n in topo.nodes if n.fabric == fabric]
        fabrics[fabric] = {
            "kind": kinds[fabric],
            "region": nodes[0].region,
            "nodes": len(nodes),
            "host_capacity_pbps": round(host / 1e15, 6),
            "bag_uplink_pbps": round(uplink / 1e15, 6),
            "max_flow_to_bag_pbps": round(flow / 1e15, 6),
            "l2_to_bag_oversubscription": _ratio(host, uplink),
            "effective_oversubscription": _ratio(host, flow),
        }
        if kinds[fabric] == "nsf":
            nsf_host += host
            nsf_flow += flow
    inter: dict[str, float] = defaultdict(float)
    for b in topo.bundles:
        na, nb = topo.node(b.a), topo.node(b.b)
        if na.role is Role.BAG and nb.role is Role.BAG and na.region != nb.region:
            pair = "-".join(sorted((na.region, nb.region)))
            inter[pair] += b.capacity_bps
    sessions = list(topo.sessions())
    return {
        "name": topo.name,
        "speakers": sum(1 for _ in topo.speakers()),
        "sessions": len(sessions),
        "bundles": len(topo.bundles),
        "member_links": sum(b.members for b in topo.bundles),
        "nodes_by_role": dict(sorted(by_role.items())),
        "regions": sorted({n.region for n in topo.nodes}),
        "prefixes": sum(len(n.prefixes) for n in topo.nodes),
        "capacity_pbps_by_tiers": {
            k: round(v / 1e15, 6) for k, v in sorted(capacity_by_tiers.items())
        },
        "fabrics": fabrics,
        "nsf_effective_oversubscription": _ratio(nsf_host, nsf_flow),
        "inter_bag_pbps": {k: round(v / 1e15, 3) for k, v in sorted(inter.items())},
        "max_chassis_ports": max(ports.values(), default=0),
    }
