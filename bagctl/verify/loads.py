"""Fractional flow: a destination's demand pushed through per-switch splits.

The same push serves the three forwarding plans the report compares: the switches' FIB
weights (actual), the model's ideal split, and plain ECMP over the model's multipaths.
Traffic is fluid: a switch sends each next hop its share of everything it receives for
that destination. A switch with no route (and not owning the prefix) drops what reaches
it: a black hole. Switches that are never left once entered (a cycle in the next hops)
hold their traffic forever: a forwarding loop, reported with the cycle it follows.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Shares = Mapping[str, float]  # next hop -> fraction (sum 1)
NextHops = Callable[[str], Shares | None]  # None: no route at that switch
Switch = TypeVar("Switch", bound=Hashable)  # a switch's name, or its number


@dataclass
class PushResult:
    """Where one destination's traffic went."""

    loads: dict[tuple[str, str], float] = field(default_factory=dict)  # directed link -> bps
    delivered: float = 0.0
    black_holes: dict[str, float] = field(default_factory=dict)  # switch -> bps dropped
    looped: float = 0.0  # bps caught in a loop
    cycle: tuple[str, ...] = ()  # one forwarding cycle, when there is one


def push(demand: Mapping[str, float], owners: frozenset[str], next_hops: NextHops) -> PushResult:
    """Push ``demand`` (source switch -> bps) toward a prefix owned by ``owners``.

    A depth-first walk from the sources finds the switches the traffic reaches and the
    edges that close a cycle (back edges). Traffic sent over a back edge would circle
    until its TTL ran out: it is counted as looped, and the rest is a DAG that is pushed
    in topological order."""
    out = PushResult()
    hops: dict[str, Shares] = {}
    walk = reach(
        (s for s, d in demand.items() if d > 0), lambda v: _children(v, owners, next_hops, hops)
    )
    back, indegree, out.cycle = walk.back, walk.indegree, walk.cycle
    inflow: dict[str, float] = defaultdict(float)
    for s, d in demand.items():
        if d > 0:
            inflow[s] += d
    ready = deque(v for v in walk.reached if indegree[v] == 0)
    loads = out.loads
    while ready:
        v = ready.popleft()
        amount = inflow.pop(v, 0.0)
        if v in owners:
            out.delivered += amount
            continue
        shares = hops.get(v)
        if shares is None:
            if amount > 0:
                out.black_holes[v] = out.black_holes.get(v, 0.0) + amount
            continue
        for u, f in shares.items():
            if f <= 0:
                continue
            flow = amount * f
            if flow > 0:
                loads[(v, u)] = loads.get((v, u), 0.0) + flow
            if (v, u) in back:
                out.looped += flow
                continue
            inflow[u] += flow
            indegree[u] -= 1
            if indegree[u] == 0:
                ready.append(u)
    return out


@dataclass
class Reach(Generic[Switch]):
    """What a depth-first walk from some switches found: every switch reached (in the
    order first seen), each one's in-degree over the edges that are not back edges, the
    back edges (each closes a cycle), and the first cycle met."""

    reached: list[Switch]
    indegree: dict[Switch, int]
    back: set[tuple[Switch, Switch]]
    cycle: tuple[Switch, ...]


def reach(roots: Iterable[Switch], children: Callable[[Switch], list[Switch]]) -> Reach[Switch]:
    """Walk depth first from ``roots`` along ``children`` (asked once per switch). What is
    left after the back edges is a DAG, ready for Kahn's order (``push``, and
    ``bundles.push_bundles``)."""
    indegree: dict[Switch, int] = defaultdict(int)
    back: set[tuple[Switch, Switch]] = set()
    state: dict[Switch, int] = {}  # 1: on the DFS stack, 2: finished
    cycle: tuple[Switch, ...] = ()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[Switch, list[Switch]]] = [(root, children(root))]
        while stack:
            v, todo = stack[-1]
            if not todo:
                state[v] = 2
                stack.pop()
                continue
            u = todo.pop()
            mark = state.get(u)
            if mark == 1:  # u is on the stack: v -> u closes a cycle
                back.add((v, u))
                if not cycle:
                    names = [frame[0] for frame in stack]
                    cycle = tuple(names[names.index(u) :])
                continue
            indegree[u] += 1
            if mark is None:
                state[u] = 1
                stack.append((u, children(u)))
    return Reach(list(state), indegree, back, cycle)


def _children(
    v: str, owners: frozenset[str], next_hops: NextHops, hops: dict[str, Shares]
) -> list[str]:
    """The next hops traffic leaves ``v`` by (none where it is delivered or dropped)."""
    if v in owners:
        return []
    shares = next_hops(v)
    if not shares:
        return []
    hops[v] = shares
    return [u for u, f in shares.items() if f > 0]


def normalize(weights: Mapping[str, float]) -> dict[str, float]:
    """Integer (or any non-negative) weights as shares; all zero -> equal shares."""
    total = sum(w for w in weights.values() if w > 0)
    if total <= 0:
        return dict.fromkeys(weights, 1 / len(weights)) if weights else {}
    return {h: w / total for h, w in weights.items() if w > 0}
