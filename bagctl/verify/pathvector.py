"""Step 1 of the model (``model.py``): which next hops eBGP permits toward one set of
origins, as the region's path-vector routing converges to it.

Switches are numbered in name order (``Graph.names``), so sorting numbers sorts names.
The AS-loop check keeps only the ASes that matter: a switch whose AS no other switch has
can only find its AS on a path through itself, and a path reaches a switch only through
switches already settled, which a settled switch never takes again. So a path's ASes are
held as bits over the *shared* ASes alone (a BAG plane's, a spine group's), and the check
is one bit test.

The computation goes one AS_PATH length at a time, as arrays: the switches settled at a
length offer the next lengths to their neighbors (``1 + prepend`` more), and a switch is
settled when its shortest offer's length comes up, from every neighbor that offered it
(its multipaths; the best path's tie to the lowest BGP Identifier, the set cut to
``max_paths`` in that order).

The result, a ``Dag``, depends only on the origins and on who suppresses the prefix
(summary-only aggregates), never on capacities: the model computes it once per such class
and reuses it for every prefix and every aggregate of the class (``routes.py`` weighs it).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..topology.addresses import loopbacks
from ..topology.failures import Failures
from ..topology.model import Topology
from .arrays import ranges, unique

DRAIN_PREPEND = 3  # extra AS copies a drained switch prepends (speakers.Speaker.drain)
LB_ZERO = "link-bandwidth-zero"
AS_PATH_PREPEND = "as-path-prepend"


@dataclass(frozen=True)
class Graph:
    """The sessions that are up, with capacities, over switches numbered by name; the
    per-switch facts as tuples (for Python) and arrays (for the path vector)."""

    names: tuple[str, ...]
    index: Mapping[str, int]
    adj: tuple[Mapping[int, float], ...]  # per switch: neighbor -> capacity of the bundle
    asn: tuple[int, ...]
    shared: tuple[bool, ...]  # per switch: another switch has its AS
    tier: tuple[int, ...]
    drained: tuple[str | None, ...]  # the drain method, if any
    host: tuple[float, ...]  # what an originating switch delivers (inf: no host figure)
    max_paths: int
    arrays: _Arrays = field(repr=False)

    @classmethod
    def of(cls, topo: Topology, failures: Failures) -> Graph:
        speakers = sorted(topo.speakers(), key=lambda n: n.name)
        names = tuple(n.name for n in speakers)
        index = {name: i for i, name in enumerate(names)}
        adj: list[dict[int, float]] = [{} for _ in names]
        for b in topo.bundles:
            if b.a not in index or b.b not in index:
                continue  # capacity only (an FDSW): no session, no route
            cap = failures.capacity_bps(b)
            if cap <= 0:
                continue
            adj[index[b.a]][index[b.b]] = cap
            adj[index[b.b]][index[b.a]] = cap
        counts = Counter(n.asn for n in speakers)
        drained = tuple(failures.drained.get(name) for name in names)
        lo = loopbacks(topo)
        return cls(
            names=names,
            index=index,
            adj=tuple(adj),
            asn=tuple(n.asn for n in speakers),
            shared=tuple(counts[n.asn] > 1 for n in speakers),
            tier=tuple(n.role.tier for n in speakers),
            drained=drained,
            host=tuple(h if (h := n.host_capacity_bps) > 0 else math.inf for n in speakers),
            max_paths=topo.defaults.max_paths,
            arrays=_Arrays.of(
                adj,
                rank=[int(lo[name]) for name in names],
                asn=[n.asn if counts[n.asn] > 1 else None for n in speakers],
                tier=[n.role.tier for n in speakers],
                drained=drained,
            ),
        )


@dataclass(frozen=True)
class _Arrays:
    """The graph as arrays: adjacency (CSR), BGP Identifier order, tiers, prepends,
    drains, and each switch's shared AS as (word, bit) of a path's AS bits."""

    adj_ptr: np.ndarray
    adj_node: np.ndarray
    adj_cap: np.ndarray
    rank: np.ndarray
    tier: np.ndarray
    prepend: np.ndarray  # extra AS copies the switch's advertisements carry
    lb_zero: np.ndarray  # drained by link-bandwidth-zero
    word: np.ndarray  # -1: an AS of its own
    bit: np.ndarray  # as uint64
    own: np.ndarray  # (switch, word): its own AS bit

    @classmethod
    def of(
        cls,
        adj: list[dict[int, float]],
        rank: list[int],
        asn: list[int | None],
        tier: list[int],
        drained: tuple[str | None, ...],
    ) -> _Arrays:
        ptr = np.zeros(len(adj) + 1, dtype=np.int64)
        np.cumsum([len(a) for a in adj], out=ptr[1:])
        number = {a: i for i, a in enumerate(sorted({a for a in asn if a is not None}))}
        words = max(1, -(-len(number) // 64))
        word = np.array([-1 if a is None else number[a] // 64 for a in asn], dtype=np.int64)
        bit = np.array([0 if a is None else 1 << (number[a] % 64) for a in asn], dtype=np.uint64)
        own = np.zeros((len(adj), words), dtype=np.uint64)
        has = np.flatnonzero(word >= 0)
        own[has, word[has]] = bit[has]
        return cls(
            adj_ptr=ptr,
            adj_node=np.array([u for a in adj for u in a], dtype=np.int64),
            adj_cap=np.array([c for a in adj for c in a.values()], dtype=np.float64),
            rank=np.array(rank, dtype=np.int64),
            tier=np.array(tier, dtype=np.int64),
            prepend=np.array([DRAIN_PREPEND if d == AS_PATH_PREPEND else 0 for d in drained]),
            lb_zero=np.array([d == LB_ZERO for d in drained], dtype=bool),
            word=word,
            bit=bit,
            own=own,
        )


@dataclass(frozen=True)
class Dag:
    """One class's routes before capacities: per *position* (switches in the order they
    settled, by AS_PATH length) the switch, its length and its next hops, as arrays a
    capacity computation walks level by level (every next hop settled earlier)."""

    nodes: np.ndarray  # position -> switch
    length: np.ndarray  # position -> AS_PATH length (0: an origin)
    hop_ptr: np.ndarray  # position -> its next hops' slice of ``hop``
    hop: np.ndarray  # next hops, as positions (sorted by name within a switch)
    hop_node: np.ndarray  # next hops, as switches
    link: np.ndarray  # per next hop: the bundle's capacity
    levels: tuple[tuple[int, int], ...]  # position ranges of equal length, shortest first

    def __len__(self) -> int:
        return len(self.nodes)

    @cached_property
    def position(self) -> Mapping[int, int]:
        """switch -> its position."""
        return dict(zip(self.nodes.tolist(), range(len(self.nodes)), strict=True))


def path_vector(g: Graph, origins: Collection[int], suppressing: Collection[int]) -> Dag:
    """The routes toward ``origins``, where the switches ``suppressing`` do not advertise
    the prefix to their upper tier (module docstring; ``model.py`` step 1)."""
    a = g.arrays
    n = len(g.names)
    length = np.full(n, -1, dtype=np.int64)
    mask = np.zeros_like(a.own)  # per switch: the shared ASes on its best path, itself out
    hiding = np.zeros(n, dtype=bool)
    hiding[list(suppressing)] = True
    offers: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = defaultdict(list)
    settled = np.array(sorted(origins), dtype=np.int64)
    counts = np.zeros(len(settled), dtype=np.int64)
    senders, links = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    parts = []
    level = 0
    while True:
        length[settled] = level
        parts.append((settled, counts, senders, links))
        _offer(a, settled, level, length, mask, hiding, offers)
        if not offers:
            break
        level = min(offers)
        settled, counts, senders, links, via = _settle(g, offers.pop(level), length)
        mask[settled] = mask[via] | a.own[via]
    return _dag(parts, length)


def _settle(
    g: Graph, offered: list[tuple[np.ndarray, np.ndarray, np.ndarray]], length: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The switches whose shortest offer is this length, each with every neighbor that
    offered it: by BGP Identifier, at most ``max_paths``, the first giving the best path.
    Returns (switches ascending, how many senders each, the senders in name order per
    switch, their links, each switch's best sender)."""
    a = g.arrays
    to, by, link = (np.concatenate(x) for x in zip(*offered, strict=True))
    fresh = length[to] < 0  # a shorter offer settled the others already
    to, by, link = to[fresh], by[fresh], link[fresh]
    order = np.lexsort((a.rank[by], to))
    to, by, link = to[order], by[order], link[order]
    first = np.flatnonzero(np.diff(to, prepend=-1))
    settled, via = to[first], by[first]
    within = np.arange(len(to)) - np.repeat(first, np.diff(np.append(first, len(to))))
    keep = within < g.max_paths
    to, by, link = to[keep], by[keep], link[keep]
    order = np.lexsort((by, to))
    to, by, link = to[order], by[order], link[order]
    counts = np.bincount(np.searchsorted(settled, to), minlength=len(settled))
    return settled, counts, by, link, via


def _offer(
    a: _Arrays,
    settled: np.ndarray,
    level: int,
    length: np.ndarray,
    mask: np.ndarray,
    hiding: np.ndarray,
    offers: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]],
) -> None:
    """What the switches just settled advertise: to each neighbor not yet settled, not
    hidden from (an upper-tier neighbor of a switch summarizing the prefix), and whose
    shared AS is not on the path; the length ``level + 1 + prepend``."""
    edge, which = ranges(a.adj_ptr[settled], a.adj_ptr[settled + 1])
    v, w = settled[which], a.adj_node[edge]
    ok = length[w] < 0
    ok &= ~(hiding[v] & (a.tier[w] > a.tier[v]))
    word = a.word[w]
    has = word >= 0
    path = mask[v[has], word[has]] | a.own[v[has], word[has]]
    ok[np.flatnonzero(has)[(path & a.bit[w[has]]) != 0]] = False
    v, w, cap = v[ok], w[ok], a.adj_cap[edge[ok]]
    advertised = level + 1 + a.prepend[v]
    for adv in unique(advertised).tolist():
        at = advertised == adv
        offers[adv].append((w[at], v[at], cap[at]))


def _dag(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], length: np.ndarray
) -> Dag:
    nodes = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts])
    hop_node = np.concatenate([p[2] for p in parts])
    link = np.concatenate([p[3] for p in parts])
    hop_ptr = np.zeros(len(nodes) + 1, dtype=np.int64)
    np.cumsum(counts, out=hop_ptr[1:])
    position = np.full(len(length), -1, dtype=np.int64)
    position[nodes] = np.arange(len(nodes))
    bounds = np.cumsum([0, *(len(p[0]) for p in parts)]).tolist()
    return Dag(
        nodes=nodes,
        length=length[nodes],
        hop_ptr=hop_ptr,
        hop=position[hop_node],
        hop_node=hop_node,
        link=link,
        levels=tuple((s, e) for s, e in itertools.pairwise(bounds) if e > s),
    )
