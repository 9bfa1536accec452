"""Routing flows hop by hop through the FIBs, as the switches would.

At each switch: delivered if the destination is inside a prefix the switch owns; else
longest-prefix match in its FIB, then the hash (``hashing.py``) picks a member of the
matched group. No route, or a group with no member of positive weight, is a black hole; a
member already on the path closes a loop. ``walk_flows`` counts, per group, the flows each
member got (what ``chisquare.py`` tests) and, per directed link, the flows that crossed it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from speakers.wire import Prefix

from .fibview import FibSnapshot, Weights
from .flowgen import Flow
from .hashing import HashFn, SeedFn, flow_hash, member_table, select_member, switch_seed


class Hop(NamedTuple):
    node: str
    prefix: Prefix  # the FIB entry the node matched
    next_hop: str


@dataclass(frozen=True)
class Trace:
    """One flow's path: ``outcome`` is "delivered" (at ``path[-1]``), "black-hole" (at
    ``path[-1]``, ``reason`` "no-route" or "empty-group") or "loop" (``cycle``)."""

    flow: Flow
    path: tuple[str, ...]
    hops: tuple[Hop, ...]
    outcome: str
    reason: str = ""
    prefix: Prefix | None = None  # black hole: the FIB entry, or the flow's prefix
    cycle: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlackHole:
    node: str
    prefix: Prefix  # the matched FIB entry (empty group) or the flow's prefix (no route)
    reason: str  # "no-route" or "empty-group"
    flows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "prefix": str(self.prefix),
            "reason": self.reason,
            "flows": self.flows,
        }


@dataclass(frozen=True)
class Loop:
    cycle: tuple[str, ...]  # the nodes of the cycle in order, from the smallest name
    prefix: Prefix  # the flows' destination prefix
    flows: int

    def as_dict(self) -> dict[str, Any]:
        return {"cycle": list(self.cycle), "prefix": str(self.prefix), "flows": self.flows}


@dataclass(frozen=True)
class GroupCount:
    """How many flows a node's group for ``prefix`` sent to each member."""

    node: str
    prefix: Prefix
    weights: Mapping[str, int]
    counts: Mapping[str, int]

    @property
    def flows(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "prefix": str(self.prefix),
            "weights": dict(sorted(self.weights.items())),
            "counts": dict(sorted(self.counts.items())),
        }


@dataclass(frozen=True)
class FlowResult:
    """What ``walk_flows`` saw: outcomes, per-group member counts, per-link flow counts."""

    flows: int
    delivered: int
    delivered_at: Mapping[str, int]
    black_holes: tuple[BlackHole, ...]
    loops: tuple[Loop, ...]
    groups: Mapping[tuple[str, Prefix], GroupCount]
    links: Mapping[tuple[str, str], int]  # directed (node, next hop) -> flows

    def as_dict(self) -> dict[str, Any]:
        return {
            "flows": self.flows,
            "delivered": self.delivered,
            "delivered_at": dict(sorted(self.delivered_at.items())),
            "black_holes": [b.as_dict() for b in self.black_holes],
            "loops": [lp.as_dict() for lp in self.loops],
            "groups": [self.groups[k].as_dict() for k in sorted(self.groups)],
            "links": [{"from": a, "to": b, "flows": n} for (a, b), n in sorted(self.links.items())],
        }


def _canonical_cycle(cycle: Sequence[str]) -> tuple[str, ...]:
    """The same cycle entered anywhere reads the same: rotated to start at its least name."""
    i = min(range(len(cycle)), key=cycle.__getitem__)
    return tuple(cycle[i:]) + tuple(cycle[:i])


class _Router:
    """Per-walk caches (owned-prefix index, member tables, seeds) for hop-by-hop routing."""

    def __init__(
        self,
        fib: FibSnapshot,
        owners: Mapping[str, Iterable[Prefix]],
        seed_of: SeedFn,
        hash_fn: HashFn,
    ) -> None:
        self.fib = fib
        # The owned prefixes as a FIB of empty groups: its LPM index answers "delivered?".
        self.owned: FibSnapshot = FibSnapshot({n: {p: {} for p in ps} for n, ps in owners.items()})
        self.seed_of = seed_of
        self.hash_fn = hash_fn
        self.seeds: dict[str, int] = {}
        self.tables: dict[tuple[str, Prefix], tuple[str, ...]] = {}

    def table(self, node: str, prefix: Prefix, weights: Weights) -> tuple[str, ...]:
        t = self.tables.get((node, prefix))
        if t is None:
            t = self.tables[(node, prefix)] = member_table(weights)
        return t

    def seed(self, node: str) -> int:
        s = self.seeds.get(node)
        if s is None:
            s = self.seeds[node] = self.seed_of(node)
        return s

    def trace(self, flow: Flow) -> Trace:
        node, path = flow.src_node, [flow.src_node]
        hops: list[Hop] = []
        while True:
            if self.owned.lookup(node, flow.dst) is not None:
                return Trace(flow, tuple(path), tuple(hops), "delivered")
            hit = self.fib.lookup(node, flow.dst)
            if hit is None:
                return Trace(
                    flow, tuple(path), tuple(hops), "black-hole", "no-route", flow.dst_prefix
                )
            prefix, weights = hit
            table = self.table(node, prefix, weights)
            if not table:
                return Trace(flow, tuple(path), tuple(hops), "black-hole", "empty-group", prefix)
            nxt = select_member(table, self.hash_fn(flow.key, self.seed(node)))
            hops.append(Hop(node, prefix, nxt))
            if nxt in path:
                cycle = _canonical_cycle(path[path.index(nxt) :])
                return Trace(flow, tuple(path), tuple(hops), "loop", cycle=cycle)
            path.append(nxt)
            node = nxt


def trace_flow(
    fib: FibSnapshot,
    owners: Mapping[str, Iterable[Prefix]],
    flow: Flow,
    *,
    seed_of: SeedFn = switch_seed,
    hash_fn: HashFn = flow_hash,
) -> Trace:
    """One flow's path through ``fib`` (what ``walk_flows`` does for each flow)."""
    return _Router(fib, owners, seed_of, hash_fn).trace(flow)


def walk_flows(
    fib: FibSnapshot,
    owners: Mapping[str, Iterable[Prefix]],
    flows: Iterable[Flow],
    *,
    seed_of: SeedFn = switch_seed,
    hash_fn: HashFn = flow_hash,
) -> FlowResult:
    """Route every flow hop by hop from its source node.

    At a node: the destination inside a prefix the node owns (``owners``) -> delivered;
    else longest-prefix match in its FIB: no entry, or a group with no member of positive
    weight -> black hole; else ``hash_fn(flow.key, seed_of(node))`` picks a member of the
    member table (see the module doc), and a member already on the path closes a loop.
    ``seed_of`` and ``hash_fn`` are there to emulate other hardware (or, in tests, a
    polarizing one)."""
    router = _Router(fib, owners, seed_of, hash_fn)
    delivered: Counter[str] = Counter()
    holes: Counter[tuple[str, Prefix, str]] = Counter()
    loops: Counter[tuple[tuple[str, ...], Prefix]] = Counter()
    members: dict[tuple[str, Prefix], Counter[str]] = {}
    links: Counter[tuple[str, str]] = Counter()
    total = 0
    for flow in flows:
        total += 1
        t = router.trace(flow)
        for hop in t.hops:
            members.setdefault((hop.node, hop.prefix), Counter())[hop.next_hop] += 1
            links[(hop.node, hop.next_hop)] += 1
        if t.outcome == "delivered":
            delivered[t.path[-1]] += 1
        elif t.outcome == "black-hole":
            assert t.prefix is not None
            holes[(t.path[-1], t.prefix, t.reason)] += 1
        else:
            loops[(t.cycle, flow.dst_prefix)] += 1
    groups = {
        k: GroupCount(k[0], k[1], dict(fib.entries[k[0]][k[1]]), dict(c))
        for k, c in sorted(members.items())
    }
    return FlowResult(
        flows=total,
        delivered=sum(delivered.values()),
        delivered_at=dict(delivered),
        black_holes=tuple(BlackHole(n, p, r, c) for (n, p, r), c in sorted(holes.items())),
        loops=tuple(Loop(cy, p, c) for (cy, p), c in sorted(loops.items())),
        groups=groups,
        links=dict(sorted(links.items())),
    )
