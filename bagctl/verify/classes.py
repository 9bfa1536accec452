"""The model once per class of equivalent prefixes, not once per prefix.

Two kinds of sharing, both exact:

- **Same origins, same suppression** (``Solver``): the path vector (``pathvector.py``)
  depends only on which switches originate a prefix and who suppresses it, so a pod's
  aggregates (a /20 and the /21 beside it, their IPv6 twins) share one ``Dag``; their
  capacities differ and are weighed apart (``routes.weigh``), reusing every route that
  came out the same.
- **Twin leaves** (``Twins``): two leaves with the same neighbors over the same
  capacities, the same tier, drain and host capacity, and either one AS between them or
  each an AS of its own, see mirror images of one DAG. Swapping the two (names, ASes) maps
  the region onto itself except for BGP Identifiers, and those only break ties between
  senders of the same length: a leaf never sends its twin's prefix anywhere (every
  neighbor it has heard that prefix one AS hop sooner, straight from the twin), so no tie
  involves either. Hence leaf ``L``'s routes are the representative ``R``'s with ``R`` and
  ``L`` swapped: the same route at every other switch, except that the neighbors' next
  hop ``R`` becomes ``L``. A pod's leaves, a DSF zone's RDSWs: one path vector each.
  ``tests/bagctl/verify/test_model_classes.py`` holds this to the per-prefix computation
  on random fabrics with failures.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .arrays import unique
from .pathvector import Dag, Graph, path_vector
from .routes import RouteTable, Weighed, weigh

Suppressing = frozenset[int]  # switches hiding a prefix from their upper tier


@dataclass(frozen=True)
class PrefixRoutes:
    """One advertised prefix's routes: a weighed class, seen through the swap of two
    twins (``swap``: the representative's origin and this prefix's), with the routes
    that name the swapped switch replaced (``fixes``: position -> route number)."""

    weighed: Weighed
    swap: tuple[int, int] | None = None
    fixes: Mapping[int, int] = field(default_factory=dict)

    def _position(self, v: int) -> int | None:
        if self.swap is not None:
            a, b = self.swap
            v = b if v == a else a if v == b else v
        return self.weighed.dag.position.get(v)

    def rid(self, v: int) -> int | None:
        """Switch ``v``'s route number, None where it has no route."""
        pos = self._position(v)
        if pos is None:
            return None
        got = self.fixes.get(pos)
        return int(self.weighed.rids[pos]) if got is None else got

    def nodes(self) -> np.ndarray:
        """Every switch with a route, in the order they settled."""
        nodes = self.weighed.dag.nodes
        if self.swap is None:
            return nodes
        a, b = self.swap
        return np.where(nodes == a, b, np.where(nodes == b, a, nodes))

    def rids(self) -> np.ndarray:
        """Their route numbers (as ``nodes()``)."""
        rids = self.weighed.rids
        if not self.fixes:
            return rids
        rids = rids.copy()
        for pos, rid in self.fixes.items():
            rids[pos] = rid
        return rids

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """(switch, route number) pairs, in the order they settled."""
        return zip(self.nodes().tolist(), self.rids().tolist(), strict=True)


class Solver:
    """Dags by (origins, suppression); weighed dags by their origins' capacities too."""

    def __init__(self, g: Graph, table: RouteTable) -> None:
        self.g = g
        self.table = table
        self._dags: dict[object, Dag] = {}
        self._weighed: dict[object, Weighed] = {}
        self._last: dict[object, Weighed] = {}  # per dag: the last weighing, to reuse

    def solve(
        self, origins: Sequence[int], capacity: Sequence[float], suppressing: Suppressing
    ) -> Weighed:
        """``origins`` sorted, ``capacity`` in the same order."""
        dkey = (tuple(origins), suppressing)
        wkey = (dkey, tuple(capacity))
        got = self._weighed.get(wkey)
        if got is None:
            dag = self._dags.get(dkey)
            if dag is None:
                dag = self._dags[dkey] = path_vector(self.g, origins, suppressing)
            got = weigh(self.g, dag, capacity, self.table, self._last.get(dkey))
            self._weighed[wkey] = self._last[dkey] = got
        return got


@dataclass(frozen=True)
class _Representative:
    origin: int
    weighed: Weighed
    touching: tuple[int, ...]  # positions whose next hops include the origin


class Twins:
    """Leaf prefixes by twin class (module docstring): the first of a class is solved,
    the others derived from it."""

    def __init__(self, solver: Solver) -> None:
        self.solver = solver
        self._reps: dict[object, _Representative] = {}

    def routes(self, origin: int, suppressing: Suppressing) -> PrefixRoutes:
        """The routes of a prefix originated by ``origin`` alone."""
        g = self.solver.g
        if origin in suppressing:  # it summarizes its own prefix: no mirror argument here
            return PrefixRoutes(self.solver.solve((origin,), (g.host[origin],), suppressing))
        key = (twin_key(g, origin), suppressing)
        rep = self._reps.get(key)
        if rep is None:
            weighed = self.solver.solve((origin,), (g.host[origin],), suppressing)
            edges = np.flatnonzero(weighed.dag.hop_node == origin)
            touching = np.searchsorted(weighed.dag.hop_ptr, edges, side="right") - 1
            rep = self._reps[key] = _Representative(
                origin, weighed, tuple(unique(touching).tolist())
            )
        if rep.origin == origin:
            return PrefixRoutes(rep.weighed)
        table, rids = self.solver.table, rep.weighed.rids
        fixes = {p: table.renamed(int(rids[p]), rep.origin, origin) for p in rep.touching}
        return PrefixRoutes(rep.weighed, (rep.origin, origin), fixes)


def twin_key(g: Graph, v: int) -> object:
    """What two twins share (module docstring): the same key means twins."""
    own_as = g.asn[v] if g.shared[v] else None  # None: an AS no other switch has
    return (g.tier[v], g.drained[v], g.host[v], own_as, frozenset(g.adj[v].items()))
