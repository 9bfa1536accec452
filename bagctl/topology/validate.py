"""Checks on a whole topology: does its AS layout let eBGP do what the fabric needs?

Routes in a BAG region travel valley-free: up from the originating leaf to some tier, at
most one step across the top (BAG to BAG between regions), then down. eBGP drops a route
whose AS_PATH holds the receiver's own AS (RFC 4271 §9.1.2), which is how RFC 7938-style
fabrics reuse ASNs per tier to stop valley paths. A layout breaks when that rule also drops
the routes the fabric needs:

- two ends of a bundle in the same AS: that session would be iBGP (bagemu is eBGP on
  every link, so it is refused);
- a speaker that cannot receive some originator's routes over any shortest valley-free
  path, because every such path repeats an AS or holds the receiver's own: loop prevention
  cuts it off;
- a speaker that hears an originator's routes over fewer of its parallel next hops than
  it has in that direction, because on the others the path holds a repeated AS: its
  multipath (as-path relax needs equal-length paths from each) loses members.

The path search keeps up to a few AS paths per (node, direction) state, which is exact
for the layouts generators produce. It runs from one originator per (fabric, role,
plane) group, and from every originator that shares its AS, so it stays linear in the
region's size where ASNs are unique.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

import networkx as nx

from .model import Topology

_MAX_PATHS_PER_STATE = 4


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    node: str | None = None
    bundle: tuple[str, str] | None = None


def validate(topo: Topology) -> list[Problem]:
    problems: list[Problem] = []
    g = topo.graph()
    for b in topo.sessions():
        na, nb = topo.node(b.a), topo.node(b.b)
        if na.asn == nb.asn:
            problems.append(
                Problem(
                    f"{b.a} and {b.b} share AS {na.asn}: their session would be iBGP, and "
                    "bagemu regions are eBGP on every link",
                    bundle=b.key,
                )
            )
    if problems:
        return problems
    bgp = nx.Graph(g.subgraph(n.name for n in topo.speakers()))
    for origin in _origins(topo):
        problems += _reach(topo, bgp, origin)
        if len(problems) > 20:
            break
    return problems


def _origins(topo: Topology) -> list[str]:
    """One originator per (fabric, role, plane) group, where the layout repeats, and every
    originator whose AS another speaker shares: there the group's first tells nothing of
    the others (two leaves in one AS never hear each other, wherever they sit)."""
    seen: set[tuple[str, str, int | None]] = set()
    speakers_by_asn: dict[int, int] = defaultdict(int)
    for n in topo.speakers():
        speakers_by_asn[n.asn] += 1
    out = []
    for n in topo.speakers():
        if not n.prefixes:
            continue
        key = (n.fabric or n.name, n.role.value, n.plane)
        if key not in seen or speakers_by_asn[n.asn] > 1:
            seen.add(key)
            out.append(n.name)
    return out


def _reach(topo: Topology, g: nx.Graph, origin: str) -> list[Problem]:
    """Valley-free breadth-first search from ``origin``; see the module docstring."""
    asn = {n: g.nodes[n]["node"].asn for n in g}
    tier = {n: g.nodes[n]["tier"] for n in g}
    # state: (node, phase); phase 0 = still going up, 1 = went across the top, 2 = down
    paths: dict[tuple[str, int], list[tuple[int, ...]]] = {(origin, 0): [(asn[origin],)]}
    depth = {(origin, 0): 0}
    # node -> (depth of the attempt, sender, whether a loop-free path got through)
    attempts: dict[str, list[tuple[int, str, bool, tuple[int, ...]]]] = defaultdict(list)
    queue = deque([(origin, 0)])
    while queue:
        node, phase = queue.popleft()
        d = depth[(node, phase)] + 1
        for nxt in g.neighbors(node):
            t, u = tier[nxt], tier[node]
            if t > u and phase == 0:
                nphase = 0
            elif t == u == 4 and phase == 0:
                nphase = 1  # BAG to BAG, once, at the top
            elif t < u:
                nphase = 2
            else:
                continue
            state = (nxt, nphase)
            if depth.get(state, d) < d:
                continue
            ok_paths = [p for p in paths[(node, phase)] if asn[nxt] not in p]
            attempts[nxt].append((d, node, bool(ok_paths), paths[(node, phase)][0]))
            if not ok_paths:
                continue
            bucket = paths.setdefault(state, [])
            for p in ok_paths:
                if len(bucket) < _MAX_PATHS_PER_STATE and (asn[nxt], *p) not in bucket:
                    bucket.append((asn[nxt], *p))
            if state not in depth:
                depth[state] = d
                queue.append(state)
    problems = []
    for node in g:
        if node == origin:
            continue
        tries = attempts.get(node, [])
        good = [t for t in tries if t[2]]
        if not good:
            path = tries[0][3] if tries else ()
            why = (
                f" (AS path {' '.join(map(str, path))} already holds AS {asn[node]})"
                if path
                else ""
            )
            problems.append(
                Problem(
                    f"{node} (AS {asn[node]}) never receives the routes of {origin}: "
                    f"eBGP loop prevention drops them on every shortest valley-free path{why}",
                    node=node,
                )
            )
            continue
        best = min(t[0] for t in good)
        senders = {t[1] for t in good if t[0] == best}
        lost = sorted({t[1] for t in tries if t[0] == best and not t[2]} - senders)
        if lost:
            problems.append(
                Problem(
                    f"{node} hears {origin}'s routes from {len(senders)} of "
                    f"{len(senders) + len(lost)} next hops; through {', '.join(lost[:3])} the "
                    "AS path repeats an AS, so multipath-relax loses those members",
                    node=node,
                )
            )
    return problems
