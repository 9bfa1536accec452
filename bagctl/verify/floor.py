"""The least work a region's cold start can do, from its topology alone (issue 19: "know
the floor"), so that a benchmark shows how far a run is from it.

From the verifier's model of the converged region (``model.py``):

- **FIB entries**: one per switch and prefix it forwards (a route it originates, or an
  aggregate of its own, is not installed: it forwards by the more-specifics).
- **Adj-RIB-In paths**: one per switch, prefix and neighbor that sends it the prefix. In
  the presets' AS layouts a switch hears a prefix from exactly its multipath next hops
  (loop prevention and summary-only keep every other copy away); measured equal to what
  running speakers hold on ``mini`` and ``region``.
- **UPDATEs**: every path above crossed its session in some UPDATE, and two prefixes can
  share an UPDATE only when their attributes are the same, so at the least when their
  AS_PATHs end in the same origin ASes (those the route leads to, following the model's
  next hops down to where it is originated: an aggregate configured on a pod's FTSWs and
  on its fabric's STSWs alike travels as the STSWs' where they win). One UPDATE may
  carry IPv4 NLRI and an IPv6 MP_REACH_NLRI together (bagemu's speakers do). So per
  session and origin-AS set, the NLRI octets over what one 4,096-octet message holds,
  rounded up: a lower bound (grouping coarser than the real attributes only lowers it),
  reached when every prefix is announced once, in full, and never replaced. Plus, on
  every session both ways, an End-of-RIB marker per family after the first table (RFC
  4724 §2: bagemu's speakers always send them; IPv4 and IPv6 unicast).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from ..topology.model import Topology
from .model import Route, RoutingModel, build_model

__all__ = ["NLRI_OCTETS_PER_UPDATE", "ColdStartFloor", "cold_start_floor"]

# A 4,096-octet UPDATE less its 19-octet header and the 4 octets of its two length
# fields: more NLRI than any real UPDATE holds (its attributes take room), so the
# count stays a lower bound.
NLRI_OCTETS_PER_UPDATE = 4096 - 19 - 4
FAMILIES = 2  # End-of-RIB markers per session and direction (module docstring)


@dataclass(frozen=True, slots=True)
class ColdStartFloor:
    updates: int  # UPDATE messages, summed over every session and direction
    paths: int  # Adj-RIB-In paths held once converged
    fib_entries: int  # FIB entries held once converged
    sessions_used: int  # directed sessions that carry at least one UPDATE

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _origin_ases(
    per_node: Mapping[str, Route], asn: Mapping[str, int]
) -> dict[str, frozenset[int]]:
    """Per switch with a route: the ASes where its route is originated (module
    docstring), following next hops down; the routes form a DAG."""
    out: dict[str, frozenset[int]] = {}
    for start in per_node:
        stack = [start]
        while stack:
            node = stack[-1]
            if node in out:
                stack.pop()
                continue
            route = per_node[node]
            if route.local:
                out[node] = frozenset((asn[node],))
                stack.pop()
                continue
            todo = [h for h in route.next_hops if h not in out]
            if todo:
                stack.extend(todo)
                continue
            out[node] = frozenset().union(*(out[h] for h in route.next_hops))
            stack.pop()
    return out


def cold_start_floor(topo: Topology, model: RoutingModel | None = None) -> ColdStartFloor:
    """The floor of ``topo``'s cold start (module docstring)."""
    model = model or build_model(topo)
    asn = {n.name: n.asn for n in topo.nodes}
    octets: dict[tuple[str, str, frozenset[int]], int] = defaultdict(int)
    paths = fib = 0
    for prefix, per_node in model.routes.items():
        origins = _origin_ases(per_node, asn)
        nlri = 1 + (prefix.length + 7) // 8  # length octet, then the prefix's octets
        for node, route in per_node.items():
            if route.local:
                continue
            fib += 1
            paths += len(route.next_hops)
            for hop in route.next_hops:
                octets[(hop, node, origins[hop])] += nlri
    updates = sum(math.ceil(n / NLRI_OCTETS_PER_UPDATE) for n in octets.values())
    updates += FAMILIES * 2 * sum(1 for _ in topo.sessions())
    sessions = len({(hop, node) for hop, node, _ in octets})
    return ColdStartFloor(updates, paths, fib, sessions)
