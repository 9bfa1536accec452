"""Which worker process runs which speaker of a sharded region.

Two aims pull apart: even work per worker (every core busy until the end) and few
sessions between workers (those run over TCP between processes; inside a worker, over
the in-memory network if the region's transport is ``memory``, and on the region's clock
a message between processes waits for the end of its step). Fabrics are the natural
units: a fabric's sessions stay inside it but for its uplinks to the BAG layer, and the
BAG layer is one more unit per region.

- **A DSF zone is never cut.** Its RDSWs and EDSWs peer all with all (the mesh over the
  scheduled fabric: 28,800 of ``prometheus``'s 42,048 sessions), so any cut through a
  zone puts a large share of its mesh between processes: halving ``region``'s 60 RDSWs
  or 16 EDSWs crosses 480 of 960 sessions, where a cut between whole fabrics crosses
  only BAG uplinks. A zone heavier than an even share has a worker to itself, and that worker
  is the slowest: the price of keeping the mesh whole, paid only when there are more
  workers than the region's fabrics can spread over. (Its FDSWs speak no BGP: they run
  nowhere.)
- An NSF fabric, the BAG layer or any other unit heavier than an even share is cut into
  consecutive runs of its nodes in breadth-first order from a leaf (a rack switch, then
  its fabric switches, then their other racks: pod by pod), so a cut keeps neighbors
  together where the fabric allows it.
- The pieces go, heaviest first, to the lightest worker (longest-processing-time first),
  then pieces move or swap between workers while that lowers the sessions between them
  and no worker goes above the larger of the heaviest worker so far and the even share
  plus ``BALANCE_SLACK`` (``_refine``).

A speaker's weight is its session count (its sockets, too, over TCP). Against the CPU
seconds each of two workers spent on a cold start (``bench/scale.py``'s
``cold_cpu_s``), the busier worker's share it predicts was 0.57 for a measured 0.59 to
0.60 on ``region``, and 0.70 for 0.62 to 0.65 on the z = 1 ladder region (its one zone
alone on a worker); the exact Adj-RIB-In paths each speaker receives and sends (from
the verifier's model) predicted 0.61 and 0.59: as far off, the other way (the work has
a part per session and a part per route), and counting them means building the model,
seconds and much memory on ``prometheus``. A session carries about as many routes as
the next in a region (41 to 158 on ``region``, by role), so its prefixes scale every
weight alike.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping, Sequence

from ..topology.model import Topology

# How far above an even share a worker may go to keep sessions inside it (_refine).
BALANCE_SLACK = 0.05


def partition(topo: Topology, workers: int) -> list[list[str]]:
    """The speakers of ``topo`` in ``workers`` groups (module docstring); none is empty
    unless there are fewer pieces (whole DSF zones, runs of other fabrics) than workers."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    weight = speaker_weights(topo)
    neighbors: dict[str, list[str]] = defaultdict(list)
    for b in topo.sessions():
        neighbors[b.a].append(b.b)
        neighbors[b.b].append(b.a)
    share = max(1, -(-sum(weight.values()) // workers))
    pieces: list[list[str]] = []
    for unit, whole in units(topo):
        if whole or sum(weight[n] for n in unit) <= share:
            pieces.append(unit)
            continue
        piece: list[str] = []
        load = 0
        for name in _breadth_first(topo, unit, neighbors):
            if piece and load + weight[name] > share:
                pieces.append(piece)
                piece, load = [], 0
            piece.append(name)
            load += weight[name]
        pieces.append(piece)
    pieces.sort(key=lambda p: (-sum(weight[n] for n in p), p[0]))
    piece_weight = [sum(weight[n] for n in p) for p in pieces]
    owner = [0] * len(pieces)
    loads = [0] * workers
    count = [0] * workers
    for i, w in enumerate(piece_weight):
        g = min(range(workers), key=lambda k: (loads[k], count[k], k))
        owner[i] = g
        loads[g] += w
        count[g] += 1
    cap = max(max(loads), int(share * (1 + BALANCE_SLACK)))
    _refine(owner, piece_weight, _links(pieces, neighbors), workers, cap)
    groups: list[list[str]] = [[] for _ in range(workers)]
    for piece, g in zip(pieces, owner, strict=True):
        groups[g].extend(piece)
    return groups


def speaker_weights(topo: Topology) -> dict[str, int]:
    """Each speaker's share of a cold start's work: its sessions (module docstring)."""
    weight: dict[str, int] = {n.name: 0 for n in topo.speakers()}
    for b in topo.sessions():
        weight[b.a] += 1
        weight[b.b] += 1
    return weight


def units(topo: Topology) -> list[tuple[list[str], bool]]:
    """The speakers by fabric (a region's BAG layer is one more), in file order, each
    with whether it must stay whole: a DSF zone (module docstring)."""
    members: dict[str, list[str]] = defaultdict(list)
    whole: dict[str, bool] = {}
    for n in topo.speakers():
        key = n.fabric or f"{n.region}-{n.role.value}"
        members[key].append(n.name)
        whole[key] = whole.get(key, False) or n.role.fabric_kind == "dsf"
    return [(names, whole[key]) for key, names in members.items()]


def _links(pieces: Sequence[list[str]], neighbors: Mapping[str, list[str]]) -> list[list[int]]:
    """Sessions between each two pieces (a piece's own: on the diagonal, twice)."""
    where = {name: i for i, piece in enumerate(pieces) for name in piece}
    links = [[0] * len(pieces) for _ in pieces]
    for i, piece in enumerate(pieces):
        for name in piece:
            for other in neighbors[name]:
                links[i][where[other]] += 1
    return links


def _refine(
    owner: list[int], weight: Sequence[int], links: Sequence[Sequence[int]], workers: int, cap: int
) -> None:
    """Move single pieces, or swap two, between workers while that lowers the sessions
    between workers, no worker's load going above ``cap`` (a local search in the manner
    of Kernighan and Lin, over whole pieces: none is ever cut here). Each step takes the
    best gain (ties: the lowest indices), and every gain is a whole session, so it ends."""
    n = len(owner)
    loads = [0] * workers
    count = [0] * workers  # a move that would leave a worker with nothing is not made
    for i, g in enumerate(owner):
        loads[g] += weight[i]
        count[g] += 1
    # toward[i][g]: sessions from piece i to the pieces on worker g
    toward = [[0] * workers for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j:
                toward[i][owner[j]] += links[i][j]
    while True:
        best: tuple[int, int, int, int] | None = None  # gain, piece, piece or -1, worker
        for i in range(n):
            a = owner[i]
            for g in range(workers) if count[a] > 1 else ():
                gain = toward[i][g] - toward[i][a]
                fits = g != a and loads[g] + weight[i] <= cap
                if fits and gain > 0 and (best is None or gain > best[0]):
                    best = (gain, i, -1, g)
            for j in range(i + 1, n):
                b = owner[j]
                if a == b:
                    continue
                gain = toward[i][b] - toward[i][a] + toward[j][a] - toward[j][b]
                gain -= 2 * links[i][j]
                delta = weight[i] - weight[j]
                fits = loads[b] + delta <= cap and loads[a] - delta <= cap
                if fits and gain > 0 and (best is None or gain > best[0]):
                    best = (gain, i, j, b)
        if best is None:
            return
        _, i, j, g = best
        moves = [(i, g)] if j < 0 else [(i, owner[j]), (j, owner[i])]
        for piece, to in moves:
            was = owner[piece]
            loads[was] -= weight[piece]
            loads[to] += weight[piece]
            count[was] -= 1
            count[to] += 1
            owner[piece] = to
            for k in range(n):
                if k != piece:
                    toward[k][was] -= links[k][piece]
                    toward[k][to] += links[k][piece]


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


__all__ = ["BALANCE_SLACK", "cross_sessions", "partition", "speaker_weights", "units"]
