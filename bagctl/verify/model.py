"""The expected side of the verifier: routes and ideal UCMP splits from the topology and
its current failures alone, never from BGP state.

Two steps per advertised prefix (every prefix a leaf originates, every aggregate):

1. **Which next hops eBGP permits** (``pathvector.py``). A path-vector computation over
   the sessions that are up, as the region's eBGP converges to it: shortest AS_PATH
   first, a route is refused by a switch whose AS is already in it (this is what keeps
   traffic valley-free: the BAG planes share an AS, so do the spine switches of a
   fabric), and every neighbor whose path is as short as the best is a multipath
   (``as-path multipath-relax``). A switch advertises its best path, the tie broken as
   the RIB does (lowest BGP Identifier, here the topology's loopback order). A drained
   switch (``as-path-prepend``) advertises a longer path; aggregates (``summary_only``)
   hide their more-specifics from the upper tier and are originated while one
   contributor is reachable (with the topology's ``aggregate_complete_only``: while the
   reachable contributors cover every address of the aggregate, checked here by merging
   address intervals, apart from the speaker's own arithmetic). The result is a DAG per
   prefix: ``Route.next_hops``.
2. **The ideal split** (``routes.py``). At a switch, each next hop's *branch capacity*:
   the bundle to it, capped by what that next hop can deliver onward,
   ``min(bundle, F(next hop))``, where ``F(u)`` sums u's own branches (``min(bundle, F)``
   again) and an originating leaf delivers its GPU-facing capacity. This is the max-flow
   from u to the prefix over the routing DAG wherever branches below u do not meet again
   (every tier of a Clos or DSF toward one leaf); where they do it is the
   bottleneck-capped upper bound. The load check (``loads.py``) does not rely on it: it
   pushes traffic through real capacities. The ideal weights are the branch capacities,
   normalized. A next hop drained by ``link-bandwidth-zero`` has no branch capacity
   unless every next hop is drained (then all are equal, as UCMP falls back to ECMP).

Aggregates deliver what their contributors' branches can: per next hop toward the
contributors the largest branch, summed over those next hops (``speakers/aggregate.py``
documents the same rule for the advertised value; here it is computed on the graph).

Both steps run once per class of equivalent prefixes (``classes.py``): a pod's leaves
share one path vector, a pod's aggregates one DAG. A prefix's routes are numbers into one
``RouteTable`` of the distinct routes; ``RoutingModel.routes`` reads them as
``{prefix: {switch: Route}}``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from speakers.wire import Prefix

from ..topology.failures import Failures
from ..topology.model import Topology
from .classes import PrefixRoutes, Solver, Suppressing, Twins
from .fibview import PrefixIndex
from .pathvector import Graph
from .routes import Route, RouteTable

__all__ = ["Route", "RoutingModel", "build_model"]


@dataclass(frozen=True)
class RoutingModel:
    """Every switch's modelled route to every advertised prefix."""

    topo: Topology
    failures: Failures
    graph: Graph  # the switches by number
    table: RouteTable  # every distinct route
    prefixes: Mapping[Prefix, PrefixRoutes]  # leaf prefixes, then aggregates
    owners: Mapping[Prefix, tuple[str, ...]]  # leaf prefix -> the nodes originating it
    aggregates: Mapping[Prefix, tuple[str, ...]]  # aggregate -> nodes announcing it

    def route(self, node: str, prefix: Prefix) -> Route | None:
        routes = self.prefixes.get(prefix)
        v = self.graph.index.get(node)
        rid = None if routes is None or v is None else routes.rid(v)
        return None if rid is None else self.table.routes[rid]

    @cached_property
    def routes(self) -> Mapping[Prefix, Mapping[str, Route]]:
        """prefix -> switch -> route, read from the arrays as asked."""
        return _Routes(self)


class _Routes(Mapping[Prefix, Mapping[str, Route]]):
    def __init__(self, model: RoutingModel) -> None:
        self._model = model

    def __getitem__(self, p: Prefix) -> Mapping[str, Route]:
        return _NodeRoutes(self._model, self._model.prefixes[p])

    def __iter__(self) -> Iterator[Prefix]:
        return iter(self._model.prefixes)

    def __len__(self) -> int:
        return len(self._model.prefixes)


class _NodeRoutes(Mapping[str, Route]):
    def __init__(self, model: RoutingModel, routes: PrefixRoutes) -> None:
        self._graph, self._table, self._routes = model.graph, model.table, routes

    def __getitem__(self, node: str) -> Route:
        v = self._graph.index.get(node)
        rid = None if v is None else self._routes.rid(v)
        if rid is None:
            raise KeyError(node)
        return self._table.routes[rid]

    def __iter__(self) -> Iterator[str]:
        names = self._graph.names
        return (names[v] for v in self._routes.nodes().tolist())

    def __len__(self) -> int:
        return len(self._routes.nodes())

    def items(self) -> Iterator[tuple[str, Route]]:  # type: ignore[override]
        names, routes = self._graph.names, self._table.routes
        return ((names[v], routes[rid]) for v, rid in self._routes)


def build_model(topo: Topology, failures: Failures | None = None) -> RoutingModel:
    """Every switch's route to every advertised prefix (module docstring)."""
    failures = failures or Failures()
    g = Graph.of(topo, failures)
    table = RouteTable(g.names)
    solver = Solver(g, table)
    twins = Twins(solver)
    owners: dict[Prefix, list[str]] = {}
    for n in topo.speakers():
        for p in n.prefixes:
            owners.setdefault(p, []).append(n.name)
    announcers: dict[Prefix, list[str]] = {}
    for n in topo.speakers():
        for a in n.aggregates:
            announcers.setdefault(a, []).append(n.name)

    aggregates = PrefixIndex(announcers)
    inside: dict[Prefix, list[Prefix]] = defaultdict(list)  # aggregate -> prefixes in it

    def suppressors(p: Prefix) -> Suppressing:
        """Who hides ``p`` from its upper tier: the announcers of the aggregates strictly
        containing it (and ``p`` filed under each of those aggregates)."""
        out: set[int] = set()
        for a in aggregates.covering(p.packed, p.length - 1):
            inside[a].append(p)
            out.update(i for v in announcers[a] if (i := g.index.get(v)) is not None)
        return frozenset(out)

    routes: dict[Prefix, PrefixRoutes] = {}
    for p, nodes in owners.items():
        ids = sorted(g.index[v] for v in nodes)
        supp = suppressors(p)
        if len(ids) == 1:
            routes[p] = twins.routes(ids[0], supp)
        else:
            routes[p] = PrefixRoutes(solver.solve(ids, [g.host[v] for v in ids], supp))
    # Aggregates: announced by a node while it reaches a contributor; innermost first so
    # a nested aggregate's routes exist before an outer one asks for contributors.
    complete_only = topo.defaults.aggregate_complete_only
    covered: dict[tuple[Prefix, tuple[Prefix, ...]], bool] = {}
    for a in sorted(announcers, key=lambda q: -q.length):
        origins: dict[int, float] = {}
        for name in announcers[a]:
            v = g.index.get(name)
            if v is None:
                continue
            found = [(p, rid) for p in inside[a] if (rid := routes[p].rid(v)) is not None]
            if not found:
                continue
            present = tuple(p for p, _ in found)
            if complete_only:
                key = (a, present)
                if key not in covered:
                    covered[key] = _covers(a, present)
                if not covered[key]:
                    continue
            origins[v] = _aggregate_capacity(table.routes[rid] for _, rid in found)
        if not origins:
            continue
        supp = suppressors(a)  # also files ``a`` under the aggregates around it
        ids = sorted(origins)
        routes[a] = PrefixRoutes(solver.solve(ids, [origins[v] for v in ids], supp))
    return RoutingModel(
        topo=topo,
        failures=failures,
        graph=g,
        table=table,
        prefixes=routes,
        owners={p: tuple(v) for p, v in owners.items()},
        aggregates={a: tuple(v) for a, v in announcers.items() if a in routes},
    )


def _span(p: Prefix) -> tuple[int, int]:
    first = int.from_bytes(p.packed, "big")
    return first, first + (1 << (len(p.packed) * 8 - p.length)) - 1


def _covers(aggregate: Prefix, present: Iterable[Prefix]) -> bool:
    """Whether the ``present`` prefixes, all inside ``aggregate``, cover all of it: their
    address intervals, in order, leave no gap from its first address to its last."""
    first, last = _span(aggregate)
    reach = first - 1
    for start, end in sorted(_span(p) for p in present):
        if start > reach + 1:
            return False
        reach = max(reach, end)
    return reach >= last


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
