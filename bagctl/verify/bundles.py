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

Each switch's table is a ``FibSnapshot``-like mapping (node -> prefix -> weights); the
same code pushes the FIB and the model's ideal and ECMP plans.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from speakers.wire import Prefix

from .fibview import FibSnapshot
from .loads import Shares, reach, shares_of
from .traffic import TrafficMatrix


@dataclass
class Totals:
    """What a set of bundles did: link loads and, per destination, what was lost."""

    loads: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
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


class _Tables:
    """Per switch: its entries by prefix, plus a sorted index to ask "any entry strictly
    inside this prefix?" in O(log n), and shares per entry."""

    def __init__(self, fib: FibSnapshot[Shares], owners: Mapping[Prefix, Iterable[str]]) -> None:
        self.fib = fib
        self.owned: dict[str, set[Prefix]] = defaultdict(set)
        for p, nodes in owners.items():
            for v in nodes:
                self.owned[v].add(p)
        self._starts: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
        self._shares: dict[int, dict[str, float]] = {}
        self._groups: dict[tuple[str, Prefix], Mapping[str, float] | None] = {}

    def shares(self, weights: Mapping[str, float]) -> dict[str, float]:
        return shares_of(weights, self._shares)

    def group(self, node: str, p: Prefix) -> Mapping[str, float] | None:
        """The group ``node`` forwards all of ``p`` with (None: no route), memoized."""
        key = (node, p)
        if key in self._groups:
            return self._groups[key]
        hit = self.fib.lookup_prefix(node, p)
        group = hit[1] if hit is not None and hit[1] else None
        self._groups[key] = group
        return group

    def _index(self, node: str, width: int) -> tuple[list[int], list[int]]:
        key = (node, width)
        idx = self._starts.get(key)
        if idx is None:
            rows = sorted(
                (int.from_bytes(p.packed, "big"), p.length)
                for p in self.fib.entries.get(node, {})
                if len(p.packed) * 8 == width
            )
            idx = self._starts[key] = ([r[0] for r in rows], [r[1] for r in rows])
        return idx

    def inside(self, node: str, cover: Prefix, lo: int, hi: int) -> list[tuple[int, int]]:
        """``node``'s entries strictly more specific than ``cover`` that may overlap the
        address span [lo, hi] (inside ``cover``), as (first address, length): those
        starting in the span (a bisect), and those starting before it that contain ``lo``
        (one probe per prefix length the node has). O(log n + found), however many of the
        node's entries lie elsewhere under ``cover``."""
        width = len(cover.packed) * 8
        starts, lengths = self._index(node, width)
        out = []
        i = bisect.bisect_left(starts, lo)
        while i < len(starts) and starts[i] <= hi:
            if lengths[i] > cover.length:
                out.append((starts[i], lengths[i]))
            i += 1
        for p in self.fib.covering(node, lo.to_bytes(width // 8, "big")):
            start = int.from_bytes(p.packed, "big")
            if p.length > cover.length and start < lo:
                out.append((start, p.length))
        return out


class _Members:
    """A bundle's members as sorted address intervals, to ask which entries touch it."""

    def __init__(self, members: frozenset[Prefix]) -> None:
        rows = sorted(
            (
                int.from_bytes(p.packed, "big"),
                int.from_bytes(p.packed, "big") + (1 << (len(p.packed) * 8 - p.length)) - 1,
                p,
            )
            for p in members
        )
        self.starts = [r[0] for r in rows]
        self.ends = [r[1] for r in rows]
        self.shortest = min((r[2].length for r in rows), default=0)
        self.lo = rows[0][0] if rows else 0
        self.hi = max((r[1] for r in rows), default=0)
        self._covered: dict[tuple[tuple[int, int], ...], bool] = {}
        self.reach = []  # the furthest end among the members up to here
        furthest = -1
        for r in rows:
            furthest = max(furthest, r[1])
            self.reach.append(furthest)
        self.width = len(rows[0][2].packed) * 8 if rows else 0

    def covered_by(self, spans: list[tuple[int, int]]) -> bool:
        """Is every member inside one of ``spans`` (disjoint-or-nested intervals)?
        Switches of one kind hold the same entries: the answer is kept per span set."""
        key = tuple(spans)
        known = self._covered.get(key)
        if known is None:
            known = self._covered[key] = self._covered_by(spans)
        return known

    def _covered_by(self, spans: list[tuple[int, int]]) -> bool:
        merged: list[list[int]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        starts = [a for a, _ in merged]
        for start, end in zip(self.starts, self.ends, strict=True):
            i = bisect.bisect_right(starts, start) - 1
            if i < 0 or merged[i][1] < end:
                return False
        return True

    def touches(self, start: int, length: int) -> bool:
        """Does the entry (start, length) overlap any member?"""
        end = start + (1 << (self.width - length)) - 1
        i = bisect.bisect_right(self.starts, end)  # members starting at or before end
        return i > 0 and self.reach[i - 1] >= start


def _uniform(tables: _Tables, v: str, cover: Prefix, spans: _Members) -> Mapping[str, float] | None:
    """The one group ``v`` forwards every member with, when that is plain without looking
    at each member: the entries of ``v`` that overlap the members (and the one covering
    them all) are the same group, or there are none. ``{}``: all dropped; None: look at
    each member."""
    hit = tables.fib.lookup_prefix(v, cover)
    base = hit[1] if hit is not None and hit[1] else None
    width = len(cover.packed) * 8
    common: Mapping[str, float] | None = base
    spans_in: list[tuple[int, int]] = []
    for start, length in tables.inside(v, cover, spans.lo, spans.hi):
        if not spans.touches(start, length):
            continue
        if length > spans.shortest:
            return None  # more specific than some member: look at each
        group = tables.fib.entries[v][Prefix(start.to_bytes(width // 8, "big"), length)]
        if not group or (common is not None and group is not common):
            return None
        common = group
        spans_in.append((start, start + (1 << (width - length)) - 1))
    if base is None and spans_in and not spans.covered_by(spans_in):
        return None  # some members have no route here, others do
    if base is None and not spans_in:
        return {}
    return common


def _cover(members: frozenset[Prefix]) -> Prefix | None:
    """The longest prefix containing every member (None: mixed families)."""
    widths = {len(p.packed) for p in members}
    if len(widths) != 1:
        return None
    width = widths.pop() * 8
    lo = min(int.from_bytes(p.packed, "big") for p in members)
    hi = max(int.from_bytes(p.packed, "big") + (1 << (width - p.length)) - 1 for p in members)
    length = min(p.length for p in members)
    while length > 0 and (lo >> (width - length)) != (hi >> (width - length)):
        length -= 1
    net = (lo >> (width - length)) << (width - length) if length else 0
    return Prefix(net.to_bytes(width // 8, "big"), length)


_DELIVER = "deliver"

# What a switch does with a whole bundle: forward it by these shares, deliver it (it owns
# every member), drop it (no route for any), or split it into classes it treats alike.
_Kind = (
    tuple[Literal["fwd"], dict[str, float]]
    | tuple[Literal["deliver"], None]
    | tuple[Literal["drop"], None]
    | tuple[Literal["split"], list[frozenset[Prefix]]]
)
_Add = Callable[[frozenset[Prefix], str, float], None]  # (members, switch, bps): a sub-bundle


def push_bundles(
    fib: FibSnapshot[Shares],
    owners: Mapping[Prefix, Iterable[str]],
    bundles: Iterable[Bundle],
    weights: Mapping[Prefix, float],
) -> Totals:
    """Push every bundle through ``fib`` (module docstring)."""
    tables = _Tables(fib, owners)
    totals = Totals()
    pending: dict[frozenset[Prefix], dict[str, float]] = {}
    order: list[tuple[int, int, frozenset[Prefix]]] = []
    counter = 0

    def add(members: frozenset[Prefix], node: str, amount: float) -> None:
        nonlocal counter
        if amount <= 0:
            return
        inflow = pending.get(members)
        if inflow is None:
            inflow = pending[members] = defaultdict(float)
            counter += 1
            heapq.heappush(order, (-len(members), counter, members))
        inflow[node] += amount

    for b in bundles:
        for s, bps in b.sources.items():
            add(b.members, s, bps)
    while order:
        _, _, members = heapq.heappop(order)
        inflow = pending.pop(members)
        _push_one(tables, members, inflow, weights, totals, add)
    return totals


def _push_one(
    tables: _Tables,
    members: frozenset[Prefix],
    inflow: dict[str, float],
    weights: Mapping[Prefix, float],
    totals: Totals,
    add: _Add,
) -> None:
    """One bundle through the switches that treat all its members alike; where they do
    not, the amount is handed to sub-bundles (``add``) at that switch."""
    cover = _cover(members)
    spans = _Members(members) if cover is not None else None
    total_w = sum(weights.get(p, 1.0) for p in members) or 1.0
    kinds: dict[str, _Kind] = {}

    def classify(v: str) -> _Kind:
        known = kinds.get(v)
        if known is not None:
            return known
        got: _Kind
        owned = tables.owned.get(v)
        mixed = bool(owned and not owned.isdisjoint(members))
        uniform = None
        if not mixed and cover is not None and spans is not None:
            uniform = _uniform(tables, v, cover, spans)
        if uniform is not None:
            got = ("fwd", tables.shares(uniform)) if uniform else ("drop", None)
        else:
            # Members go together while this switch forwards them with the same group
            # (groups are shared objects: ``FibSnapshot.from_names`` interns them).
            classes: dict[str | int | None, set[Prefix]] = defaultdict(set)
            groups: dict[int, Mapping[str, float]] = {}
            for p in members:
                if owned and p in owned:
                    classes[_DELIVER].add(p)
                    continue
                group = tables.group(v, p)
                if group is None:
                    classes[None].add(p)
                else:
                    groups[id(group)] = group
                    classes[id(group)].add(p)
            if len(classes) == 1:
                (key,) = classes
                if isinstance(key, int):  # one group for all
                    got = ("fwd", tables.shares(groups[key]))
                elif key is None:
                    got = ("drop", None)
                else:
                    got = ("deliver", None)
            else:
                got = ("split", [frozenset(c) for c in classes.values()])
        kinds[v] = got
        return got

    # Reachable switches and back edges (a depth-first walk), then Kahn's order.
    walk = reach(inflow, lambda v: _children(classify(v)))
    indegree, back, cycle = walk.indegree, walk.back, walk.cycle
    amount_at: dict[str, float] = defaultdict(float, inflow)
    ready = [v for v in walk.reached if indegree[v] == 0]
    loads = totals.loads
    looped = 0.0
    while ready:
        v = ready.pop()
        amount = amount_at.pop(v, 0.0)
        kind = kinds[v]
        if kind[0] == "fwd":
            for u, f in kind[1].items():
                flow = amount * f
                if flow > 0:
                    loads[(v, u)] += flow
                if (v, u) in back:
                    looped += flow
                    continue
                amount_at[u] += flow
                indegree[u] -= 1
                if indegree[u] == 0:
                    ready.append(u)
        elif kind[0] == "deliver":
            totals.delivered += amount
        elif kind[0] == "drop":
            for p in members:
                share = amount * weights.get(p, 1.0) / total_w
                if share > 0:
                    key = (p, v)
                    totals.black_holes[key] = totals.black_holes.get(key, 0.0) + share
        else:  # split: each class goes on from here as its own bundle
            for sub in kind[1]:
                sub_w = sum(weights.get(p, 1.0) for p in sub)
                add(sub, v, amount * sub_w / total_w)
    if looped > 0:
        for p in members:
            share = looped * weights.get(p, 1.0) / total_w
            if share > 0:
                old = totals.loops.get(p, (0.0, cycle))
                totals.loops[p] = (old[0] + share, old[1] or cycle)


def _children(kind: _Kind) -> list[str]:
    if kind[0] != "fwd":
        return []
    return [u for u, f in kind[1].items() if f > 0]
