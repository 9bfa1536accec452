"""Step 2 of the model (``model.py``): branch capacities over a ``Dag``, and every
distinct route once.

A region of thousands of switches holds millions of (prefix, switch) routes but only
thousands of distinct ones (prometheus: 2.4 million and 6,895): a leaf's uplink group
looks the same toward every remote fabric. So a route is a number into one
``RouteTable``, and a prefix's routes are an array of those numbers.

Capacities go bottom-up over the DAG, one level (AS_PATH length) at a time, as arrays:
a next hop's branch is ``min(bundle, F(next hop))`` (0 for a next hop drained by
``link-bandwidth-zero``), and ``F`` of a switch is the sum of its branches, added in the
order of its next hops as a plain loop would (so a result does not depend on how numpy
groups a sum).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .arrays import row_keys, unique
from .pathvector import Dag, Graph

RouteKey = tuple[int, tuple[int, ...], tuple[float, ...], float]


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


class RouteTable:
    """Every distinct route of one model, numbered; ``routes[i]`` is route ``i``."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = names
        self.routes: list[Route] = []
        self.keys: list[RouteKey] = []  # per route: (length, next hops as switches, ...)
        self._ids: dict[RouteKey, int] = {}
        self._renamed: dict[tuple[int, int, int], int] = {}

    def intern(self, key: RouteKey) -> int:
        rid = self._ids.get(key)
        if rid is None:
            length, hops, branch, capacity = key
            rid = self._ids[key] = len(self.routes)
            names = self.names
            self.routes.append(Route(length, tuple(names[h] for h in hops), branch, capacity))
            self.keys.append(key)
        return rid

    def renamed(self, rid: int, old: int, new: int) -> int:
        """Route ``rid`` with next hop ``old`` replaced by ``new`` (next hops stay in name
        order, each with its branch)."""
        memo = (rid, old, new)
        got = self._renamed.get(memo)
        if got is None:
            length, hops, branch, capacity = self.keys[rid]
            pairs = sorted((new if h == old else h, b) for h, b in zip(hops, branch, strict=True))
            key = (length, tuple(h for h, _ in pairs), tuple(b for _, b in pairs), capacity)
            got = self._renamed[memo] = self.intern(key)
        return got


@dataclass(frozen=True)
class Weighed:
    """A ``Dag`` with capacities: per position its branch capacities and route number."""

    dag: Dag
    branch: np.ndarray  # per next hop (as ``dag.hop``)
    capacity: np.ndarray  # per position
    rids: np.ndarray  # per position: the route's number in the ``RouteTable``


def weigh(
    g: Graph, dag: Dag, origin_capacity: Sequence[float], table: RouteTable, like: Weighed | None
) -> Weighed:
    """Capacities over ``dag`` with its origins delivering ``origin_capacity`` (in the
    dag's order of origins), and each position's route interned in ``table``. ``like``:
    the same dag weighed before, whose routes are reused where nothing changed."""
    n = len(dag)
    capacity = np.empty(n, dtype=np.float64)
    branch = np.empty(len(dag.hop), dtype=np.float64)
    zero = g.arrays.lb_zero[dag.nodes]
    s0, e0 = dag.levels[0]
    capacity[s0:e0] = origin_capacity
    for s, e in dag.levels[1:]:
        a, b = int(dag.hop_ptr[s]), int(dag.hop_ptr[e])
        target = dag.hop[a:b]
        delivered = np.where(zero[target], 0.0, capacity[target])
        branch[a:b] = np.minimum(dag.link[a:b], delivered)
        capacity[s:e] = _sums(branch, dag.hop_ptr[s : e + 1])
    if like is None:
        changed = np.ones(n, dtype=bool)
    else:
        changed = np.zeros(n, dtype=bool)
        changed[s0:e0] = capacity[s0:e0] != like.capacity[s0:e0]
        edges = np.flatnonzero(branch != like.branch)
        changed[np.searchsorted(dag.hop_ptr, edges, side="right") - 1] = True
    rids = np.empty(n, dtype=np.int64) if like is None else like.rids.copy()
    _intern(dag, branch, capacity, np.flatnonzero(changed), table, rids)
    return Weighed(dag, branch, capacity, rids)


def _sums(values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Per slice ``values[ptr[i]:ptr[i+1]]`` (none empty), its sum added left to right."""
    starts = ptr[:-1]
    counts = ptr[1:] - starts
    total: np.ndarray = values[starts].copy()
    for j in range(1, int(counts.max(initial=1))):
        more = counts > j
        total[more] += values[starts[more] + j]
    return total


def _intern(
    dag: Dag,
    branch: np.ndarray,
    capacity: np.ndarray,
    positions: np.ndarray,
    table: RouteTable,
    rids: np.ndarray,
) -> None:
    """Route numbers for ``positions``: positions with the same route (the same length,
    next hops and branches) are found together as equal rows, so the table is asked once
    per distinct route, not once per switch."""
    if not len(positions):
        return
    degree = (dag.hop_ptr[positions + 1] - dag.hop_ptr[positions]).astype(np.int64)
    for k in unique(degree).tolist():
        at = positions[degree == k]
        edges = dag.hop_ptr[at][:, None] + np.arange(k)[None, :]
        rows = np.column_stack(
            (dag.length[at], dag.hop_node[edges], branch[edges], capacity[at])
        ).astype(np.float64)
        _, first, inverse = np.unique(row_keys(rows), return_index=True, return_inverse=True)
        ids = []
        for row in rows[first].tolist():
            hops = tuple(int(h) for h in row[1 : 1 + k])
            ids.append(table.intern((int(row[0]), hops, tuple(row[1 + k : 1 + 2 * k]), row[-1])))
        rids[at] = np.asarray(ids, dtype=np.int64)[inverse.ravel()]
