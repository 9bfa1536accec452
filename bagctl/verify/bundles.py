"""Pushing many destinations at once: destination bundles.

Pushing each destination prefix through the region on its own costs prefixes x links,
which is hours of Python for a 10,000-switch region. But most switches forward a whole
set of destinations the same way: a BAG sends every leaf of a remote fabric by that
fabric's aggregate, a leaf sends everything remote by one uplink group. A *bundle* is
such a set, carried as one amount: it is split only at a switch that treats its members
differently (a more-specific FIB entry for some, or owning some), into sub-bundles
that go on from there.

This is exact when, inside a bundle, every source sends the destinations in the same
proportions (``weights``): then splitting an amount by those weights at any switch gives
each destination its true share. The default gravity matrix has that form per fabric and
address family (``bundles_of``); any other matrix is pushed one destination per bundle,
which is always exact.

Bundles of one size go together, as arrays over (bundle, switch) pairs (a sub-bundle is
smaller than the bundle it came from, so by then every bundle of that size has all its
inflow): the pairs are found level by level from the sources (what each does:
``classify.py``), put in Kahn's order, and their amounts pushed one level at a time. Where
a bundle's switches form a cycle, a depth-first walk from its sources (``loads.reach``)
names the edges that close it; traffic sent over one would circle until its TTL ran out,
so it is counted as looped and the rest is pushed as above.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from speakers.wire import Prefix

from .arrays import ranges, unique
from .classify import DELIVER, DROP, FORWARD, Members, classify
from .loads import reach
from .space import PrefixSpace
from .tables import Nodes, Table
from .traffic import TrafficMatrix


@dataclass
class Totals:
    """What a set of bundles did: link loads and, per destination, what was lost."""

    loads: dict[tuple[str, str], float] = field(default_factory=dict)
    delivered: float = 0.0
    # (prefix, switch) -> bps dropped there for lack of a route
    black_holes: dict[tuple[Prefix, str], float] = field(default_factory=dict)
    # prefix -> (bps looped, one cycle)
    loops: dict[Prefix, tuple[float, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Bundle:
    """Destinations pushed together: ``sources`` (switch -> bps for the whole bundle)
    split over ``members`` in proportion to ``weights``."""

    members: frozenset[Prefix]
    sources: Mapping[str, float]


def bundles_of(matrix: TrafficMatrix) -> list[Bundle]:
    """The matrix as bundles: its known groups (``TrafficMatrix.bundled``), else one
    destination per bundle (always exact)."""
    if matrix.explicit is None:
        return [Bundle(members, sources) for members, sources in matrix.bundled]
    return [Bundle(frozenset([p]), d) for p, d in matrix.demands.items()]


_Add = Callable[[tuple[int, ...], int, float], None]  # (members, switch, bps): a sub-bundle


@dataclass
class _Found:
    """``Totals`` by numbers, named when the push is done."""

    links: list[np.ndarray] = field(default_factory=list)  # switch * N + next hop
    flows: list[np.ndarray] = field(default_factory=list)
    delivered: float = 0.0
    black_holes: dict[tuple[int, int], float] = field(default_factory=dict)
    loops: dict[int, tuple[float, tuple[int, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Demand:
    """The matrix's bundles as every push reads them, by numbers: made once for the
    three plans (``demand_of``)."""

    space: PrefixSpace
    nodes: Nodes
    inflows: Mapping[tuple[int, ...], Mapping[int, float]]  # members -> switch -> bps
    weight: Mapping[int, float]  # per destination rank (1 where not given)
    owner_of: Mapping[int, list[int]]  # destination rank -> switches owning it
    owned: np.ndarray  # sorted ``switch * R + rank`` for each owned destination


def demand_of(
    space: PrefixSpace,
    nodes: Nodes,
    owners: Mapping[Prefix, Iterable[str]],
    bundles: Iterable[Bundle],
    weights: Mapping[Prefix, float],
) -> Demand:
    """``bundles`` (with the destinations' ``weights`` and ``owners``) as ``Demand``."""
    owner_of: dict[int, list[int]] = defaultdict(list)
    for p, owning in owners.items():
        owner_of[space.rank[p]].extend(nodes.id(name) for name in owning)
    inflows: dict[tuple[int, ...], dict[int, float]] = {}
    for b in bundles:
        sources = [(nodes.id(s), bps) for s, bps in b.sources.items() if bps > 0]
        if sources:  # one lookup per bundle: a tuple does not keep its hash
            inflow = inflows.setdefault(tuple(sorted(space.rank[p] for p in b.members)), {})
            for v, bps in sources:
                inflow[v] = inflow.get(v, 0.0) + bps
    owned = sorted(v * len(space) + r for r, vs in owner_of.items() for v in vs)
    return Demand(
        space=space,
        nodes=nodes,
        inflows=inflows,
        weight={space.rank[p]: w for p, w in weights.items() if p in space.rank},
        owner_of=owner_of,
        owned=np.array(owned, dtype=np.int64),
    )


def push_bundles(table: Table, demand: Demand) -> Totals:
    """Push every bundle of ``demand`` through ``table`` (module docstring)."""
    pending = {members: dict(inflow) for members, inflow in demand.inflows.items()}

    def add(members: tuple[int, ...], node: int, amount: float) -> None:
        if amount > 0:
            inflow = pending.get(members)
            if inflow is None:
                inflow = pending[members] = {}
            inflow[node] = inflow.get(node, 0.0) + amount

    n = len(demand.nodes)
    found = _Found()
    while pending:
        size = max(map(len, pending))
        sets = [s for s in pending if len(s) == size]
        inflows = [pending.pop(s) for s in sets]
        batch = Members.of(sets, table, n, demand.weight, demand.owner_of)
        _Batch(table, demand.owned, batch, n, inflows).push(found, add)
    return _named(found, demand.nodes.names, n, demand.space.prefixes)


def _named(found: _Found, names: Sequence[str], n: int, prefixes: Sequence[Prefix]) -> Totals:
    """``found`` by names (links were numbered ``switch * n + next hop``)."""
    totals = Totals(delivered=found.delivered)
    if found.links:
        links, at = np.unique(np.concatenate(found.links), return_inverse=True)
        flows = np.bincount(at.ravel(), weights=np.concatenate(found.flows))
        for key, bps in zip(links.tolist(), flows.tolist(), strict=True):
            v, u = divmod(key, n)
            totals.loads[(names[v], names[u])] = bps
    for (r, v), bps in found.black_holes.items():
        totals.black_holes[(prefixes[r], names[v])] = bps
    for r, (bps, cycle) in found.loops.items():
        totals.loops[prefixes[r]] = (bps, tuple(names[v] for v in cycle))
    return totals


class _Batch:
    """Bundles of one size through the table: pairs (bundle ``pb``, switch ``pv``)
    numbered as found, edges between them, then amounts (module docstring)."""

    def __init__(
        self,
        table: Table,
        owned: np.ndarray,
        members: Members,
        nodes: int,
        inflows: list[dict[int, float]],
    ) -> None:
        self.table, self.owned, self.m, self.n = table, owned, members, nodes
        self.inflows = inflows
        self.pb = np.array([b for b, f in enumerate(inflows) for _ in f], dtype=np.int64)
        self.pv = np.array([v for f in inflows for v in f], dtype=np.int64)
        self.amount = np.array([x for f in inflows for x in f.values()], dtype=np.float64)
        self.what = np.zeros(0, dtype=np.int8)
        self.group = np.zeros(0, dtype=np.int64)
        self.classes: dict[int, list[tuple[tuple[int, ...], float]]] = {}
        self.src = self.dst = np.zeros(0, dtype=np.int64)
        self.share = np.zeros(0, dtype=np.float64)
        keys = self.pb * nodes + self.pv
        order = np.argsort(keys)
        self._known, self._id = keys[order], order

    def push(self, found: _Found, add: _Add) -> None:
        self._discover()
        back = np.zeros(len(self.src), dtype=bool)
        levels = _levels(len(self.pb), self.src, self.dst, back)
        cycles: dict[int, tuple[int, ...]] = {}
        peeled = sum(map(len, levels))
        if peeled < len(self.pb):
            done = np.zeros(len(self.pb), dtype=bool)
            for level in levels:
                done[level] = True
            cycles = self._back_edges(unique(self.pb[~done]).tolist(), back)
            levels = _levels(len(self.pb), self.src, self.dst, back)
        self._propagate(levels, back, cycles, found, add)

    def _discover(self) -> None:
        """Every pair the sources reach, and what each does (``classify``). Pairs are
        numbered as found and a level's edges come from its pairs in order, so the edges'
        sources come out sorted."""
        t = self.table
        frontier = np.arange(len(self.pb), dtype=np.int64)
        src, dst, share = [], [], []
        while len(frontier):
            kinds = classify(t, self.owned, self.m, self.n, self.pb[frontier], self.pv[frontier])
            self.what = np.concatenate((self.what, kinds.what))
            self.group = np.concatenate((self.group, kinds.group))
            for i, classes in kinds.classes.items():
                self.classes[int(frontier[i])] = classes
            fwd = frontier[kinds.what == FORWARD]
            g = self.group[fwd]
            edge, which = ranges(t.hop_ptr[g], t.hop_ptr[g + 1])
            s = fwd[which]
            keys = self.pb[s] * self.n + t.hop_node[edge]
            frontier = self._learn(keys)
            src.append(s)
            dst.append(self._id[np.searchsorted(self._known, keys)])
            share.append(t.hop_share[edge])
        self.src, self.dst, self.share = (np.concatenate(x) for x in (src, dst, share))

    def _learn(self, keys: np.ndarray) -> np.ndarray:
        """Numbers for the pairs in ``keys`` not seen before; returns them."""
        at = np.minimum(np.searchsorted(self._known, keys), len(self._known) - 1)
        new = unique(keys[self._known[at] != keys])
        ids = np.arange(len(self.pb), len(self.pb) + len(new), dtype=np.int64)
        self.pb = np.concatenate((self.pb, new // self.n))
        self.pv = np.concatenate((self.pv, new % self.n))
        at = np.searchsorted(self._known, new)  # both sorted: a merge, not a sort
        self._known, self._id = np.insert(self._known, at, new), np.insert(self._id, at, ids)
        return ids

    def _back_edges(self, bundles: list[int], back: np.ndarray) -> dict[int, tuple[int, ...]]:
        """For each of ``bundles`` (whose pairs hold a cycle): the edges a depth-first
        walk from its sources finds closing one (marked in ``back``), and the first
        cycle met."""
        hops, cycles = self.table.hops, {}
        for b in bundles:
            mine = np.flatnonzero(self.pb == b)
            pair_of = dict(zip(self.pv[mine].tolist(), mine.tolist(), strict=True))
            out = np.flatnonzero(self.pb[self.src] == b).tolist()
            edge_of = {(int(self.src[e]), int(self.pv[self.dst[e]])): e for e in out}

            def children(v: int, pair_of: dict[int, int] = pair_of) -> list[int]:
                p = pair_of[v]
                return list(hops[self.group[p]]) if self.what[p] == FORWARD else []

            walk = reach(self.inflows[b], children)
            for v, u in walk.back:
                back[edge_of[(pair_of[v], u)]] = True
            cycles[b] = walk.cycle
        return cycles

    def _propagate(
        self,
        levels: list[np.ndarray],
        back: np.ndarray,
        cycles: dict[int, tuple[int, ...]],
        found: _Found,
        add: _Add,
    ) -> None:
        """Amounts level by level (each pair's inflow complete when its level comes),
        then what the pairs that do not forward do with theirs."""
        x = np.zeros(len(self.pb), dtype=np.float64)
        x[: len(self.amount)] = self.amount
        ptr = np.searchsorted(self.src, np.arange(len(self.pb) + 1))  # ``src`` is sorted
        looped = np.zeros(len(self.inflows), dtype=np.float64)
        for level in levels:
            fwd = level[self.what[level] == FORWARD]
            edges = ranges(ptr[fwd], ptr[fwd + 1])[0]
            src, dst = self.src[edges], self.dst[edges]
            flow = x[src] * self.share[edges]
            on = flow > 0
            found.links.append(self.pv[src[on]] * self.n + self.pv[dst[on]])
            found.flows.append(flow[on])
            ahead = ~back[edges]
            np.add.at(x, dst[ahead], flow[ahead])
            np.add.at(looped, self.pb[src[~ahead]], flow[~ahead])
        m = self.m
        for p in np.flatnonzero((self.what != FORWARD) & (x > 0)).tolist():
            amount, b, v = float(x[p]), int(self.pb[p]), int(self.pv[p])
            if self.what[p] == DELIVER:
                found.delivered += amount
            elif self.what[p] == DROP:
                for r, share in self._shares(m.sets[b], amount):
                    key = (r, v)
                    found.black_holes[key] = found.black_holes.get(key, 0.0) + share
            else:  # split: each class goes on from here as its own bundle
                total = float(m.total[b])
                for sub, weight in self.classes[p]:
                    add(sub, v, amount * weight / total)
        for b in np.flatnonzero(looped > 0).tolist():
            cycle = cycles.get(b, ())
            for r, share in self._shares(m.sets[b], float(looped[b])):
                old = found.loops.get(r, (0.0, cycle))
                found.loops[r] = (old[0] + share, old[1] or cycle)

    def _shares(self, members: tuple[int, ...], amount: float) -> Iterator[tuple[int, float]]:
        """``amount`` over ``members`` by their weights (those that get some)."""
        m = self.m
        total = sum(m.weight_of(r) for r in members) or 1.0
        for r in members:
            share = amount * m.weight_of(r) / total
            if share > 0:
                yield r, share


def _levels(n: int, src: np.ndarray, dst: np.ndarray, back: np.ndarray) -> list[np.ndarray]:
    """Kahn's order of ``n`` pairs over the edges not in ``back``, a level at a time (a
    pair's level comes after all its predecessors'). Pairs on a cycle are left out."""
    live = ~back
    s, d = src[live], dst[live]  # ``src`` is sorted: edges are found source by source
    ptr = np.searchsorted(s, np.arange(n + 1))
    indegree = np.bincount(d, minlength=n)
    level = np.flatnonzero(indegree == 0)
    out = []
    while len(level):
        out.append(level)
        nxt = d[ranges(ptr[level], ptr[level + 1])[0]]
        np.subtract.at(indegree, nxt, 1)
        level = unique(nxt[indegree[nxt] == 0])
    return out
