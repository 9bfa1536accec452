"""The verifier's model computed the straightforward way, for tests only: every prefix on
its own, by name, a heap of (length, switch), each path's ASes as a set, sums in plain
loops, coverage by ``ipaddress.collapse_addresses``. No classes of prefixes, no twins,
no arrays: ``bagctl/verify/model.py`` must give the same routes."""

from __future__ import annotations

import heapq
import ipaddress
import math
from collections.abc import Iterable

from bagctl.topology.addresses import loopbacks
from bagctl.topology.failures import Failures
from bagctl.topology.model import Topology
from speakers.wire import Prefix

PREPEND = 3
RouteValue = tuple[int, tuple[str, ...], tuple[float, ...], float]  # length, hops, branch, F


def reference_model(topo: Topology, failures: Failures) -> dict[Prefix, dict[str, RouteValue]]:
    speakers = [n for n in topo.nodes if n.role.speaks_bgp]
    names = {n.name for n in speakers}
    asn = {n.name: n.asn for n in speakers}
    tier = {n.name: n.role.tier for n in speakers}
    rank = {name: int(a) for name, a in loopbacks(topo).items()}
    adj: dict[str, dict[str, float]] = {n: {} for n in names}
    for b in topo.bundles:
        if b.a in names and b.b in names and failures.capacity_bps(b) > 0:
            adj[b.a][b.b] = adj[b.b][b.a] = failures.capacity_bps(b)
    drained = failures.drained
    owners: dict[Prefix, list[str]] = {}
    announcers: dict[Prefix, list[str]] = {}
    for n in speakers:
        for p in n.prefixes:
            owners.setdefault(p, []).append(n.name)
        for a in n.aggregates:
            announcers.setdefault(a, []).append(n.name)

    def inside(p: Prefix, a: Prefix) -> bool:
        same = p.network.version == a.network.version
        return same and p != a and p.network.subnet_of(a.network)  # type: ignore[arg-type]

    def vector(origins: dict[str, float], hiding: set[str]) -> dict[str, RouteValue]:
        best: dict[str, tuple[int, list[str], frozenset[int]]] = {}
        offers: dict[str, tuple[int, list[str]]] = {}
        heap = [(0, o) for o in origins]
        for o in origins:
            offers[o] = (0, [])
        while heap:
            length, v = heapq.heappop(heap)
            if v in best or offers[v][0] != length:
                continue
            senders = sorted(offers[v][1], key=lambda s: rank[s])[: topo.defaults.max_paths]
            path = frozenset() if v in origins else best[senders[0]][2] | {asn[senders[0]]}
            best[v] = (length, sorted(senders), path)
            if v in origins:
                best[v] = (0, [], frozenset())
            seen = best[v][2] | {asn[v]}
            out = length + 1 + (PREPEND if drained.get(v) == "as-path-prepend" else 0)
            for w in adj[v]:
                if w in best or asn[w] in seen or (v in hiding and tier[w] > tier[v]):
                    continue
                have = offers.get(w)
                if have is None or out < have[0]:
                    offers[w] = (out, [v])
                    heapq.heappush(heap, (out, w))
                elif out == have[0]:
                    have[1].append(v)
        routes: dict[str, RouteValue] = {}
        for v, (length, hops, _) in sorted(best.items(), key=lambda kv: kv[1][0]):
            if v in origins:
                routes[v] = (0, (), (), origins[v])
                continue
            branch = []
            for u in hops:
                onward = 0.0 if drained.get(u) == "link-bandwidth-zero" else routes[u][3]
                branch.append(min(adj[v][u], onward))
            total = 0.0
            for b in branch:
                total += b
            routes[v] = (length, tuple(hops), tuple(branch), total)
        return routes

    def hiding_for(p: Prefix) -> set[str]:
        return {v for a, vs in announcers.items() if inside(p, a) for v in vs}

    model: dict[Prefix, dict[str, RouteValue]] = {}
    for p, nodes in owners.items():
        host = {v: topo.node(v).host_capacity_bps for v in nodes}
        model[p] = vector({v: h if h > 0 else math.inf for v, h in host.items()}, hiding_for(p))
    routed = set(model)
    for a in sorted(announcers, key=lambda q: -q.length):
        origins = {}
        for v in announcers[a]:
            present = [p for p in routed if inside(p, a) and v in model[p]]
            if not present:
                continue
            if topo.defaults.aggregate_complete_only and not _covers(a, present):
                continue
            origins[v] = _capacity(model[p][v] for p in present)
        if origins:
            model[a] = vector(origins, hiding_for(a))
            routed.add(a)
    return model


def _covers(a: Prefix, present: Iterable[Prefix]) -> bool:
    nets = ipaddress.collapse_addresses(p.network for p in present)  # type: ignore[type-var]
    return [Prefix.from_network(n) for n in nets] == [a]


def _capacity(routes: Iterable[RouteValue]) -> float:
    local, per_hop = 0.0, {}
    for _length, hops, branch, capacity in routes:
        if not hops:
            local = max(local, capacity)
        for h, b in zip(hops, branch, strict=True):
            per_hop[h] = max(per_hop.get(h, 0.0), b)
    return local + sum(per_hop.values())  # as bagctl/verify/model.py adds it
