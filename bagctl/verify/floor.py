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
  on its fabric's STSWs alike travels as the STSWs' where they win), and only when they
  are of one family (RFC 7606 §5.1: an UPDATE carries the body's IPv4 NLRI or an
  MP_REACH_NLRI, not both). So per session, origin-AS set and family, the NLRI octets
  over what one 4,096-octet message holds,
  rounded up: a lower bound (grouping coarser than the real attributes only lowers it),
  reached when every prefix is announced once, in full, and never replaced. Plus, on
  every session both ways, an End-of-RIB marker per family after the first table (RFC
  4724 §2: bagemu's speakers always send them; IPv4 and IPv6 unicast).

Read from the model's arrays (``classes.PrefixRoutes``): a prefix's switches with routes
are a class's positions seen through its twin swap, its paths the class's next-hop
edges, and the origin ASes follow the DAG once per class (a twin's are the
representative's with the swapped leaf's AS in place of the other's).

``failure_floor`` does the same for a change of failures (a bundle down): from the
models before and after it, the UPDATEs the change must send at the least and the
routes it changes (its docstring). On ``prometheus`` a bundle failure's floor is 82,142
UPDATEs on 41,071 of its 84,096 directed sessions, and a run sends 82,202.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from speakers.wire import Prefix

from ..topology.failures import Failures
from ..topology.model import Topology
from .arrays import row_keys, unique
from .classes import PrefixRoutes
from .model import RoutingModel, build_model
from .pathvector import Dag

__all__ = [
    "NLRI_OCTETS_PER_UPDATE",
    "ColdStartFloor",
    "FailureFloor",
    "cold_start_floor",
    "failure_floor",
]

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


class _OriginSets:
    """Origin-AS sets by number, and per class the set of each position."""

    def __init__(self, asn: tuple[int, ...]) -> None:
        self.asn = asn
        self.number: dict[frozenset[int], int] = {}
        self.sets: list[frozenset[int]] = []
        self._of_dag: dict[int, np.ndarray] = {}
        self._swapped: dict[tuple[int, int, int], np.ndarray] = {}

    def _id(self, s: frozenset[int]) -> int:
        got = self.number.get(s)
        if got is None:
            got = self.number[s] = len(self.sets)
            self.sets.append(s)
        return got

    def of(self, dag: Dag, swap: tuple[int, int] | None) -> np.ndarray:
        """Per position, the number of the ASes its route leads down to (an origin: its
        own); with ``swap``, the other twin's AS in place of the representative's."""
        got = self._of_dag.get(id(dag))
        if got is None:
            sets: list[frozenset[int]] = []
            nodes, ptr, hop = dag.nodes.tolist(), dag.hop_ptr.tolist(), dag.hop.tolist()
            for pos, v in enumerate(nodes):
                below = [sets[h] for h in hop[ptr[pos] : ptr[pos + 1]]]
                sets.append(frozenset().union(*below) if below else frozenset((self.asn[v],)))
            got = self._of_dag[id(dag)] = np.array([self._id(s) for s in sets], dtype=np.int64)
        if swap is None or self.asn[swap[0]] == self.asn[swap[1]]:
            return got
        key = (id(dag), *swap)
        swapped = self._swapped.get(key)
        if swapped is None:
            old, new = self.asn[swap[0]], self.asn[swap[1]]
            ids = unique(got)
            moved = [frozenset(new if a == old else a for a in self.sets[i]) for i in ids.tolist()]
            number = np.array([self._id(m) for m in moved], dtype=np.int64)
            swapped = self._swapped[key] = number[np.searchsorted(ids, got)]
        return swapped


def cold_start_floor(topo: Topology, model: RoutingModel | None = None) -> ColdStartFloor:
    """The floor of ``topo``'s cold start (module docstring)."""
    model = model or build_model(topo)
    n = len(model.graph.names)
    origin = _OriginSets(model.graph.asn)
    octets = _Octets()
    paths = fib = 0
    for prefix, routes in model.prefixes.items():
        dag = routes.weighed.dag
        label = routes.nodes()
        at = np.repeat(np.arange(len(dag)), np.diff(dag.hop_ptr))  # each path's switch
        fib += len(dag) - (dag.levels[0][1] - dag.levels[0][0])  # origins install none
        paths += len(dag.hop)
        nlri = 1 + (prefix.length + 7) // 8  # length octet, then the prefix's octets
        family = int(prefix.network.version == 6)  # (one family per UPDATE: docstring)
        sets = origin.of(dag, routes.swap)[dag.hop] * 2 + family
        octets.add(label[dag.hop] * n + label[at], sets, nlri)
    session, total = octets.summed()
    updates = int(((total + NLRI_OCTETS_PER_UPDATE - 1) // NLRI_OCTETS_PER_UPDATE).sum())
    updates += FAMILIES * 2 * sum(1 for _ in topo.sessions())
    return ColdStartFloor(updates, paths, fib, len(unique(session)))


class _Octets:
    """NLRI octets per (session, origin-AS set), summed a few million paths at a time so
    that prometheus's 15 million never sit in memory at once."""

    CHUNK = 2_000_000

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._size = 0
        self._sets = 1
        self._done = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))

    def add(self, session: np.ndarray, sets: np.ndarray, nlri: int) -> None:
        self._parts.append((session, sets, np.full(len(session), nlri, dtype=np.int64)))
        self._size += len(session)
        self._sets = max(self._sets, int(sets.max(initial=0)) + 1)
        if self._size > self.CHUNK:
            self._reduce()

    def _reduce(self) -> None:
        session, sets, octets = (
            np.concatenate(x) for x in zip(self._done, *self._parts, strict=True)
        )
        key, at = np.unique(session * self._sets + sets, return_inverse=True)
        total = np.bincount(at.ravel(), weights=octets).astype(np.int64)
        self._done = (key // self._sets, key % self._sets, total)
        self._parts, self._size = [], 0

    def summed(self) -> tuple[np.ndarray, np.ndarray]:
        """Per (session, origin-AS set): the session, and the octets summed."""
        self._reduce()
        return self._done[0], self._done[2]


@dataclass(frozen=True, slots=True)
class FailureFloor:
    """The least a change of failures (a bundle down, say) makes the region do, from the
    models before and after it (``failure_floor``)."""

    updates: int  # UPDATE messages, summed over every session and direction
    sessions_used: int  # directed sessions, up after the change, that carry at least one
    routes_changed: int  # (switch, prefix) whose modelled route changes

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def failure_floor(
    topo: Topology,
    before: Failures,
    after: Failures,
    models: tuple[RoutingModel, RoutingModel] | None = None,
) -> FailureFloor:
    """The floor of going from ``before`` to ``after`` in ``topo``.

    What a switch ``u`` sends a neighbor ``v`` for a prefix is, in the model, the edge
    ``v -> u`` of the prefix's DAG: its link bandwidth is ``min(bundle, F(u))``, the
    edge's branch (the presets re-advertise cumulatively), and its AS_PATH and
    AGGREGATOR are those of ``u``'s best path (``_Advertised``) with ``u``'s AS in front.
    Where that (presence, branch, best path) differs between the models on a session
    that is up after the change, the session must carry an UPDATE for the prefix; where
    the session went down, nothing crosses it. Announcements share an UPDATE only with
    the same attributes, so at the least with the same branch and best path, and one
    family (RFC 7606 §5.1: one NLRI carrier per UPDATE, as the cold start's floor and
    bagemu's speakers pack them); likewise per session one UPDATE per family withdrawn.
    A lower bound: more paths than ``max_paths`` keeps, attributes the model does not
    know and the 4,096-octet limit (a failure's few prefixes per session fit) only add
    to it.

    ``routes_changed``: the switches whose modelled route to a prefix (next hops and
    ideal split) changes, where a FIB holds one before or after; about the FIB changes
    a run makes (quantizing the split into weights may hide a small change)."""
    old, new = models or (build_model(topo, before), build_model(topo, after))
    n = len(new.graph.names)
    up = np.fromiter(
        (u * n + v for u, nbrs in enumerate(new.graph.adj) for v in nbrs), dtype=np.int64
    )
    advertised = _Advertised()
    announced: list[np.ndarray] = []  # rows (session, branch, what is advertised)
    withdrawn: list[np.ndarray] = []  # session * 2 + family (0: IPv4, 1: IPv6)
    routes_changed = 0
    empty = np.zeros((0, 3), dtype=np.float64)
    for prefix in old.prefixes.keys() | new.prefixes.keys():
        was, now = old.prefixes.get(prefix), new.prefixes.get(prefix)
        a = empty if was is None else _sent(was, n)
        b = empty if now is None else _sent(now, n)
        if a.shape == b.shape and np.array_equal(a, b):
            continue  # the same DAG and branches: the same best paths too
        family = int(prefix.network.version == 6)  # (one family per UPDATE: docstring)
        if was is not None:
            a[:, 2] = advertised.of(old, was, prefix) * 2 + family
        if now is not None:
            b[:, 2] = advertised.of(new, now, prefix) * 2 + family
        gone, came = _changed(a, b)
        announced.append(came)
        withdrawn.append(np.setdiff1d(gone[:, 0], b[:, 0]).astype(np.int64) * 2 + family)
        routes_changed += _routes_changed(old, was, new, now)
    rows = np.unique(np.concatenate([empty, *announced]), axis=0)
    withdrawals = unique(np.concatenate([np.zeros(0, np.int64), *withdrawn]))
    withdrawals = withdrawals[np.isin(withdrawals // 2, up)]
    sessions = np.concatenate((rows[:, 0].astype(np.int64), withdrawals // 2))
    return FailureFloor(
        updates=len(rows) + len(withdrawals),
        sessions_used=len(unique(sessions)),
        routes_changed=routes_changed,
    )


def _sent(routes: PrefixRoutes, n: int) -> np.ndarray:
    """One prefix's paths as rows (session ``u * n + v``, branch, ``u``'s length), in
    the DAG's order of paths (``failure_floor``)."""
    dag = routes.weighed.dag
    label = routes.nodes()
    at = np.repeat(np.arange(len(dag)), np.diff(dag.hop_ptr))
    session = label[dag.hop] * n + label[at]
    return np.column_stack((session, routes.weighed.branch, dag.length[dag.hop])).astype(np.float64)


class _Advertised:
    """What a switch's advertisement of a prefix carries besides its link bandwidth, as a
    number (equal numbers: equal AS_PATH and AGGREGATOR), the same in both models: its
    own AS (and drain prepends) in front of its best path's, which is the best path of
    the next hop with the lowest BGP Identifier (the RIB's tie-break); where it
    originates the prefix, its AS, and for an aggregate the AGGREGATOR (itself)."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[int, ...], int] = {}

    def of(self, model: RoutingModel, routes: PrefixRoutes, prefix: Prefix) -> np.ndarray:
        """Per path of ``routes`` (as ``_sent``), its sender's number."""
        g, dag = model.graph, routes.weighed.dag
        label, rank = routes.nodes().tolist(), g.arrays.rank.tolist()
        prepend = g.arrays.prepend.tolist()
        ptr, hop = dag.hop_ptr.tolist(), dag.hop.tolist()
        aggregate = prefix in model.aggregates
        numbers = self._numbers
        sig: list[int] = []
        for pos, v in enumerate(label):
            hops = hop[ptr[pos] : ptr[pos + 1]]
            if hops:
                best = min(hops, key=lambda h: rank[label[h]])
                key: tuple[int, ...] = (g.asn[v], prepend[v], sig[best])
            else:
                key = (g.asn[v], prepend[v], -1, v if aggregate else -1)
            sig.append(numbers.setdefault(key, len(numbers)))
        per_path: np.ndarray = np.asarray(sig, dtype=np.float64)[dag.hop]
        return per_path


def _changed(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``a`` not in ``b``, and of ``b`` not in ``a`` (neither repeats a row:
    one per session)."""
    both = np.concatenate((a, b))
    _, first, counts = np.unique(row_keys(both), return_index=True, return_counts=True)
    single = np.zeros(len(both), dtype=bool)
    single[first[counts == 1]] = True
    return a[single[: len(a)]], b[single[len(a) :]]


def _routes_changed(
    old: RoutingModel, was: PrefixRoutes | None, new: RoutingModel, now: PrefixRoutes | None
) -> int:
    """How many switches' routes to one prefix change (``failure_floor``)."""

    def fib(model: RoutingModel, routes: PrefixRoutes | None) -> dict[int, object]:
        if routes is None:
            return {}
        table = model.table.routes
        held = ((v, table[rid]) for v, rid in routes)
        return {v: (r.next_hops, r.split()) for v, r in held if not r.local}

    before, after = fib(old, was), fib(new, now)
    return sum(1 for v in before.keys() | after.keys() if before.get(v) != after.get(v))
