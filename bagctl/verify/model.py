"""The expected side of the verifier: routes and ideal UCMP splits from the topology and
its current failures alone, never from BGP state.

Two steps per advertised prefix (every prefix a leaf originates, every aggregate):

1. **Which next hops eBGP permits.** A path-vector computation over the sessions that are
   up, as the region's eBGP converges to it: shortest AS_PATH first, a route is refused by
   a switch whose AS is already in it (this is what keeps traffic valley-free: the BAG
   planes share an AS, so do the spine switches of a fabric), and every neighbor whose
   path is as short as the best is a multipath (``as-path multipath-relax``). A switch
   advertises its best path, the tie broken as the RIB does (lowest BGP Identifier, here
   the topology's loopback order). A drained switch (``as-path-prepend``) advertises a
   longer path; aggregates (``summary_only``) hide their more-specifics from the upper
   tier and are originated while one contributor is reachable (with the topology's
   ``aggregate_complete_only``: while the reachable contributors cover every address of
   the aggregate, checked here with ``ipaddress.collapse_addresses``, apart from the
   speaker's own arithmetic). The result is a DAG per prefix: ``Route.next_hops``.
2. **The ideal split.** At a switch, each next hop's *branch capacity*: the bundle to it,
   capped by what that next hop can deliver onward, ``min(bundle, F(next hop))``, where
   ``F(u)`` sums u's own branches (``min(bundle, F)`` again) and an originating leaf
   delivers its GPU-facing capacity. This is the max-flow from u to the prefix over the
   routing DAG wherever branches below u do not meet again (every tier of a Clos or DSF
   toward one leaf); where they do it is the bottleneck-capped upper bound. The load
   check (``loads.py``) does not rely on it: it pushes traffic through real capacities.
   The ideal weights are the branch capacities, normalized. A next hop drained by
   ``link-bandwidth-zero`` has no branch capacity unless every next hop is drained (then
   all are equal, as UCMP falls back to ECMP).

Aggregates deliver what their contributors' branches can: per next hop toward the
contributors the largest branch, summed over those next hops (``speakers/aggregate.py``
documents the same rule for the advertised value; here it is computed on the graph).
"""

from __future__ import annotations

import ipaddress
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from speakers.wire import Prefix

from ..topology.addresses import loopbacks
from ..topology.failures import Failures
from ..topology.model import Topology
from .fibview import PrefixIndex

DRAIN_PREPEND = 3  # extra AS copies a drained switch prepends (speakers.Speaker.drain)
LB_ZERO = "link-bandwidth-zero"
AS_PATH_PREPEND = "as-path-prepend"


@dataclass(frozen=True, slots=True)
class Route:
    """A switch's route to one advertised prefix in the model."""

    length: int  # AS_PATH length of the best path (0: originated here)
    next_hops: tuple[str, ...]  # the multipath set (empty: originated here)
    branch: tuple[float, ...]  # branch capacity per next hop, bits/s
    capacity: float  # what this switch can deliver toward the prefix, bits/s

    @property
    def local(self) -> bool:
        return not self.next_hops

    def split(self) -> dict[str, float]:
        """The ideal shares per next hop (sum 1)."""
        if not self.next_hops:
            return {}
        total = sum(self.branch)
        if total <= 0 or math.isinf(total):
            if math.isinf(total):
                inf = [h for h, b in zip(self.next_hops, self.branch, strict=True) if math.isinf(b)]
                return {h: (1 / len(inf) if h in inf else 0.0) for h in self.next_hops}
            return dict.fromkeys(self.next_hops, 1 / len(self.next_hops))
        return {h: b / total for h, b in zip(self.next_hops, self.branch, strict=True)}

    def ecmp(self) -> dict[str, float]:
        """Equal shares over the multipaths (a drained one only when all are drained: an
        ECMP network drains a switch by taking its paths away, which is the fair match)."""
        live = [h for h, b in zip(self.next_hops, self.branch, strict=True) if b > 0]
        live = live or list(self.next_hops)
        return dict.fromkeys(live, 1 / len(live)) if live else {}


@dataclass(frozen=True)
class RoutingModel:
    """Every switch's modelled route to every advertised prefix."""

    topo: Topology
    failures: Failures
    routes: Mapping[Prefix, Mapping[str, Route]]  # prefix -> node -> route
    owners: Mapping[Prefix, tuple[str, ...]]  # leaf prefix -> the nodes originating it
    aggregates: Mapping[Prefix, tuple[str, ...]]  # aggregate -> nodes announcing it

    def route(self, node: str, prefix: Prefix) -> Route | None:
        return self.routes.get(prefix, {}).get(node)


class _Graph:
    """The sessions that are up, with capacities; ASNs and BGP identifiers per switch."""

    def __init__(self, topo: Topology, failures: Failures) -> None:
        names = {n.name: n for n in topo.nodes}
        self.asn = {n.name: n.asn for n in topo.nodes}
        lo = loopbacks(topo)
        self.rank = {name: int(a) for name, a in lo.items()}
        self.adj: dict[str, dict[str, float]] = {n.name: {} for n in topo.speakers()}
        for b in topo.bundles:
            if not (names[b.a].role.speaks_bgp and names[b.b].role.speaks_bgp):
                continue  # capacity only (an FDSW): no session, no route
            cap = failures.capacity_bps(b)
            if cap <= 0:
                continue
            self.adj[b.a][b.b] = cap
            self.adj[b.b][b.a] = cap
        self.tier = {n.name: n.role.tier for n in topo.nodes}
        self.max_paths = topo.defaults.max_paths
        self.drained = dict(failures.drained)
        self.upper = {
            v: frozenset(u for u in nbrs if self.tier[u] > self.tier[v])
            for v, nbrs in self.adj.items()
        }


def _path_vector(
    g: _Graph,
    origins: Mapping[str, float],
    suppress: Mapping[str, frozenset[str]],
) -> dict[str, tuple[int, tuple[str, ...], frozenset[int]]]:
    """node -> (AS_PATH length, multipath next hops, ASNs in its best path), in the order
    the nodes were settled (by length).

    ``origins``: node -> delivered capacity (originated there, length 0). ``suppress``:
    node -> neighbors it does not advertise this prefix to (summary-only aggregates).
    Lengths are small integers, so a bucket per length replaces a heap: a node is settled
    when its bucket comes up, from every sender that offered that (shortest) length."""
    best: dict[str, tuple[int, tuple[str, ...], frozenset[int]]] = {}
    offered: dict[str, int] = {}  # node -> shortest length offered so far
    senders: dict[str, list[str]] = {}  # node -> who offered that length
    buckets: dict[int, list[str]] = {0: list(origins)}
    asn, rank, adj, drained = g.asn, g.rank, g.adj, g.drained
    for o in origins:
        best[o] = (0, (), frozenset())
    length = 0
    while buckets:
        nodes = buckets.pop(length, None)
        if nodes is None:
            length += 1
            continue
        for v in nodes:
            if length:  # not an origin
                if v in best or offered[v] != length:
                    continue
                tied = senders[v]
                if len(tied) > 1:
                    tied = sorted(tied, key=rank.__getitem__)[: g.max_paths]
                via = tied[0]
                # the best path as received: the sender's path with the sender's AS on it
                best[v] = (length, tuple(sorted(tied)), best[via][2] | {asn[via]})
            path_asns = best[v][2] | {asn[v]}
            advertised = length + 1 + (DRAIN_PREPEND if drained.get(v) == AS_PATH_PREPEND else 0)
            blocked = suppress.get(v, ())
            for w in adj[v]:
                if w in best or w in blocked or asn[w] in path_asns:
                    continue
                have = offered.get(w)
                if have is None or advertised < have:
                    offered[w] = advertised
                    senders[w] = [v]
                    buckets.setdefault(advertised, []).append(w)
                elif advertised == have:
                    senders[w].append(v)
        length += 1
    return best


def _capacities(
    g: _Graph,
    paths: Mapping[str, tuple[int, tuple[str, ...], frozenset[int]]],
    origins: Mapping[str, float],
) -> dict[str, Route]:
    """Branch capacities bottom-up over the DAG (module docstring, step 2); ``paths`` is
    in settling order, so every next hop comes before the nodes using it."""
    routes: dict[str, Route] = {}
    adj, drained = g.adj, g.drained
    for v, (length, hops, _) in paths.items():
        if v in origins:
            routes[v] = Route(0, (), (), origins[v])
            continue
        links = adj[v]
        branch = tuple(
            min(links[u], 0.0 if drained.get(u) == LB_ZERO else routes[u].capacity) for u in hops
        )
        routes[v] = Route(length, hops, branch, sum(branch))
    return routes


def build_model(topo: Topology, failures: Failures | None = None) -> RoutingModel:
    """Every switch's route to every advertised prefix (module docstring)."""
    failures = failures or Failures()
    g = _Graph(topo, failures)
    owners: dict[Prefix, list[str]] = {}
    for n in topo.speakers():
        for p in n.prefixes:
            owners.setdefault(p, []).append(n.name)
    announcers: dict[Prefix, list[str]] = {}
    for n in topo.speakers():
        for a in n.aggregates:
            announcers.setdefault(a, []).append(n.name)

    aggregates = PrefixIndex(announcers)

    def covering(p: Prefix) -> list[Prefix]:
        """The aggregates strictly containing ``p``."""
        return aggregates.covering(p.packed, p.length - 1)

    inside: dict[Prefix, list[Prefix]] = defaultdict(list)  # aggregate -> prefixes in it

    def suppressors(p: Prefix) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}
        for a in covering(p):
            inside[a].append(p)
            for v in announcers[a]:
                if v in g.adj:
                    out[v] = g.upper[v]
        return out

    complete_only = topo.defaults.aggregate_complete_only
    routes: dict[Prefix, dict[str, Route]] = {}
    cache: dict[tuple[object, ...], dict[str, Route]] = {}
    for p, nodes in owners.items():
        origins = {}
        for v in nodes:
            host = topo.node(v).host_capacity_bps
            origins[v] = host if host > 0 else math.inf
        supp = suppressors(p)
        key = (tuple(sorted(origins.items())), tuple(sorted(supp.items())))
        if key not in cache:
            cache[key] = _capacities(g, _path_vector(g, origins, supp), origins)
        routes[p] = cache[key]
    # Aggregates: announced by a node while it reaches a contributor; innermost first so
    # a nested aggregate's routes exist before an outer one asks for contributors.
    for a in sorted(announcers, key=lambda q: -q.length):
        origins = {}
        for v in announcers[a]:
            present = [p for p in inside[a] if v in routes[p]]
            if not present or (complete_only and not _covers(a, present)):
                continue
            origins[v] = _aggregate_capacity(routes[p][v] for p in present)
        if not origins:
            continue
        supp = suppressors(a)  # also files ``a`` under the aggregates around it
        routes[a] = _capacities(g, _path_vector(g, origins, supp), origins)
    return RoutingModel(
        topo=topo,
        failures=failures,
        routes=routes,
        owners={p: tuple(v) for p, v in owners.items()},
        aggregates={a: tuple(v) for a, v in announcers.items() if a in routes},
    )


def _covers(aggregate: Prefix, present: Iterable[Prefix]) -> bool:
    """Whether the ``present`` prefixes, all inside ``aggregate``, cover all of it."""
    nets = ipaddress.collapse_addresses(p.network for p in present)  # type: ignore[type-var]
    return [Prefix.from_network(n) for n in nets] == [aggregate]


def _aggregate_capacity(contributors: Iterable[Route]) -> float:
    """Per next hop toward the contributors, the largest branch; summed over next hops."""
    per_hop: dict[str, float] = {}
    local = 0.0
    for r in contributors:
        if r.local:
            local = max(local, r.capacity)
        for h, b in zip(r.next_hops, r.branch, strict=True):
            per_hop[h] = max(per_hop.get(h, 0.0), b)
    return local + sum(per_hop.values())
