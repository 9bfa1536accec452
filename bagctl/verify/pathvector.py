"""Step 1 of the model (``model.py``): which next hops eBGP permits toward one set of
origins, as the region's path-vector routing converges to it.

Switches are numbered in name order (``Graph.names``), so sorting numbers sorts names.
The AS-loop check keeps only the ASes that matter: a switch whose AS no other switch has
can only find its AS on a path through itself, and a path reaches a switch only through
switches already settled, which a settled switch never takes again. So a path's ASes are
held as a bit mask over the *shared* ASes alone (a BAG plane's, a spine group's), and the
check is one ``&``.

The result, a ``Dag``, depends only on the origins and on who suppresses what (summary-only
aggregates), never on capacities: the model computes it once per such class and reuses it
for every prefix and every aggregate of the class (``capacity.py`` weighs it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..topology.addresses import loopbacks
from ..topology.failures import Failures
from ..topology.model import Topology

DRAIN_PREPEND = 3  # extra AS copies a drained switch prepends (speakers.Speaker.drain)
LB_ZERO = "link-bandwidth-zero"
AS_PATH_PREPEND = "as-path-prepend"


@dataclass(frozen=True)
class Graph:
    """The sessions that are up, with capacities, over switches numbered by name."""

    names: tuple[str, ...]
    index: Mapping[str, int]
    adj: tuple[Mapping[int, float], ...]  # per switch: neighbor -> capacity of the bundle
    rank: tuple[int, ...]  # BGP Identifier order (the topology's loopback order)
    shared: tuple[int, ...]  # per switch: the bit of its AS when another switch has it
    asn: tuple[int, ...]
    tier: tuple[int, ...]
    prepend: tuple[int, ...]  # extra AS copies the switch's advertisements carry
    drained: tuple[str | None, ...]  # the drain method, if any
    host: tuple[float, ...]  # what an originating switch delivers (inf: no host figure)
    max_paths: int
    lb_zero: np.ndarray = field(repr=False)  # per switch: drained by link-bandwidth-zero
    upper: tuple[frozenset[int], ...] = field(repr=False)

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
        lo = loopbacks(topo)
        rank = tuple(int(lo[name]) for name in names)
        counts = Counter(n.asn for n in speakers)
        bits = {a: 1 << i for i, a in enumerate(sorted(a for a, c in counts.items() if c > 1))}
        tier = tuple(n.role.tier for n in speakers)
        drained = tuple(failures.drained.get(name) for name in names)
        return cls(
            names=names,
            index=index,
            adj=tuple(adj),
            rank=rank,
            shared=tuple(bits.get(n.asn, 0) for n in speakers),
            asn=tuple(n.asn for n in speakers),
            tier=tier,
            prepend=tuple(DRAIN_PREPEND if d == AS_PATH_PREPEND else 0 for d in drained),
            drained=drained,
            host=tuple(h if (h := n.host_capacity_bps) > 0 else math.inf for n in speakers),
            max_paths=topo.defaults.max_paths,
            lb_zero=np.array([d == LB_ZERO for d in drained], dtype=bool),
            upper=tuple(
                frozenset(u for u in nbrs if tier[u] > tier[v]) for v, nbrs in enumerate(adj)
            ),
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
    position: Mapping[int, int] = field(repr=False)  # switch -> position

    def __len__(self) -> int:
        return len(self.nodes)


def path_vector(g: Graph, origins: Sequence[int], suppress: Mapping[int, frozenset[int]]) -> Dag:
    """The routes toward ``origins`` (module docstring; ``model.py`` step 1).

    ``suppress``: switch -> neighbors it does not advertise this prefix to. Lengths are
    small integers, so a bucket per length replaces a heap: a switch is settled when its
    bucket comes up, from every sender that offered that (shortest) length; the best
    path's tie goes to the lowest BGP Identifier, and the multipath set is cut to
    ``max_paths`` in that order."""
    settled: dict[int, int] = {}  # switch -> its AS_PATH length
    path_bits: dict[int, int] = {}  # switch -> shared ASes on its best path, itself excluded
    hops: dict[int, tuple[int, ...]] = {}
    order: list[int] = []
    offered: dict[int, int] = {}  # switch -> shortest length offered so far
    senders: dict[int, list[int]] = {}  # switch -> who offered that length
    buckets: dict[int, list[int]] = {0: list(origins)}
    adj, shared, prepend, rank = g.adj, g.shared, g.prepend, g.rank
    for o in origins:
        settled[o] = 0
        path_bits[o] = 0
        hops[o] = ()
    length = 0
    while buckets:
        nodes = buckets.pop(length, None)
        if nodes is None:
            length += 1
            continue
        for v in nodes:
            if length:  # not an origin
                if v in settled or offered[v] != length:
                    continue
                tied = senders[v]
                if len(tied) > 1:
                    tied = sorted(tied, key=rank.__getitem__)[: g.max_paths]
                via = tied[0]
                settled[v] = length
                path_bits[v] = path_bits[via] | shared[via]
                hops[v] = tuple(sorted(tied))
            order.append(v)
            mask = path_bits[v] | shared[v]
            advertised = length + 1 + prepend[v]
            blocked = suppress.get(v, ())
            for w in adj[v]:
                if w in settled or shared[w] & mask or w in blocked:
                    continue
                have = offered.get(w)
                if have is None or advertised < have:
                    offered[w] = advertised
                    senders[w] = [v]
                    buckets.setdefault(advertised, []).append(w)
                elif advertised == have:
                    senders[w].append(v)
        length += 1
    return _dag(g, order, settled, hops)


def _dag(
    g: Graph, order: list[int], lengths: Mapping[int, int], hops: Mapping[int, tuple[int, ...]]
) -> Dag:
    position = {v: i for i, v in enumerate(order)}
    counts = [len(hops[v]) for v in order]
    hop_ptr = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=hop_ptr[1:])
    flat = [u for v in order for u in hops[v]]
    links = [g.adj[v][u] for v in order for u in hops[v]]
    length = np.fromiter((lengths[v] for v in order), dtype=np.int64, count=len(order))
    levels = []
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or length[i] != length[start]:
            levels.append((start, i))
            start = i
    return Dag(
        nodes=np.array(order, dtype=np.int64),
        length=length,
        hop_ptr=hop_ptr,
        hop=np.fromiter((position[u] for u in flat), dtype=np.int64, count=len(flat)),
        hop_node=np.array(flat, dtype=np.int64),
        link=np.array(links, dtype=np.float64),
        levels=tuple(levels),
        position=position,
    )
