"""Which worker process runs which speaker of a sharded region.

Two aims pull apart: even work per worker (both cores busy until the end) and few
sessions between workers (those run over TCP between processes, the rest in memory).
Fabrics are the natural units: a fabric's sessions stay inside it except its uplinks to
the BAG layer, and the BAG layer is one more unit per region. A unit heavier than an
even share is cut into consecutive runs of its nodes in breadth-first order from a leaf
(a rack switch, then its fabric switches, then their other racks: pod by pod), so a cut
keeps neighbors together where the fabric allows it. Units then go, heaviest first, to
the lightest worker (longest-processing-time first). A speaker's weight is its session
count: the work of a cold start grows with sessions times routes, and every speaker of a
region holds about the same routes.
"""

from __future__ import annotations

from collections import defaultdict, deque

from ..topology.model import Topology


def partition(topo: Topology, workers: int) -> list[list[str]]:
    """The speakers of ``topo`` in ``workers`` groups (module docstring); none is empty
    unless there are fewer speakers than workers."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    weight: dict[str, int] = {n.name: 0 for n in topo.speakers()}
    for b in topo.sessions():
        weight[b.a] += 1
        weight[b.b] += 1
    units: dict[str, list[str]] = defaultdict(list)
    for n in topo.speakers():
        units[n.fabric or f"{n.region}-{n.role.value}"].append(n.name)
    total = sum(weight.values()) or 1
    share = max(1, -(-total // workers))
    pieces: list[list[str]] = []
    neighbors: dict[str, list[str]] = defaultdict(list)
    for b in topo.sessions():
        neighbors[b.a].append(b.b)
        neighbors[b.b].append(b.a)
    for unit in units.values():
        names = _breadth_first(topo, unit, neighbors)
        piece: list[str] = []
        load = 0
        for name in names:
            if piece and load + weight[name] > share:
                pieces.append(piece)
                piece, load = [], 0
            piece.append(name)
            load += weight[name]
        pieces.append(piece)
    pieces.sort(key=lambda p: (-sum(weight[n] for n in p), p[0]))
    groups: list[list[str]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for piece in pieces:
        i = min(range(workers), key=lambda k: (loads[k], len(groups[k]), k))
        groups[i].extend(piece)
        loads[i] += sum(weight[n] for n in piece)
    return groups


def _breadth_first(topo: Topology, unit: list[str], neighbors: dict[str, list[str]]) -> list[str]:
    members = set(unit)

    def key(name: str) -> tuple[int, str]:
        return (topo.node(name).role.tier, name)

    order: list[str] = []
    seen: set[str] = set()
    for start in sorted(unit, key=key):
        if start in seen:
            continue
        seen.add(start)
        queue = deque([start])
        while queue:
            name = queue.popleft()
            order.append(name)
            for other in sorted(neighbors[name], key=key):
                if other in members and other not in seen:
                    seen.add(other)
                    queue.append(other)
    return order


def cross_sessions(topo: Topology, groups: list[list[str]]) -> int:
    """How many sessions join speakers of different groups."""
    where = {name: i for i, names in enumerate(groups) for name in names}
    return sum(1 for b in topo.sessions() if where[b.a] != where[b.b])


__all__ = ["cross_sessions", "partition"]
