"""Transient loops and black holes during one convergence event.

Input: the FIB after the event (``FibSnapshot``) and the event's timestamped FIB change
stream (rows ``[at_ns, node, prefix, old, new]``, groups as next-hop name -> weight, None
for no route; ``Region.fib_changes()``). The FIB before the event is the final one with
every change undone, newest first. The changes are then replayed in time order; after each
instant at which something changed, every destination whose forwarding the change can
affect (the prefix itself, or the leaf prefixes an aggregate covers) has its traffic pushed
through the FIB of that moment (``loads.push``). An interval is the time from the change
that made a destination's traffic meet a loop (or a black hole) to the change that ended
it; one still open at the last change is reported as lasting past the event (``open``).

Times are the switches' FIB clocks (CLOCK_MONOTONIC, shared by the region's processes),
so intervals across switches compare. Each speaker installs its FIB when its RIB settles,
with no forwarding-plane delay, so an interval is what the control plane alone causes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from speakers.wire import Prefix

from .fibview import FibSnapshot, PrefixIndex
from .loads import Shares, normalize, push
from .traffic import TrafficMatrix


@dataclass(frozen=True, slots=True)
class Transient:
    kind: str  # "loop" or "black-hole"
    prefix: str
    start_ns: int
    end_ns: int | None  # None: still there after the last change (``open``)
    nodes: tuple[str, ...]  # the cycle, or the switches dropping traffic

    @property
    def duration_ms(self) -> float | None:
        return None if self.end_ns is None else (self.end_ns - self.start_ns) / 1e6

    def as_dict(self, origin_ns: int) -> dict[str, object]:
        return {
            "kind": self.kind,
            "prefix": self.prefix,
            "start_ms": (self.start_ns - origin_ns) / 1e6,
            "duration_ms": self.duration_ms,
            "open": self.end_ns is None,
            "nodes": list(self.nodes),
        }


@dataclass(frozen=True)
class TransientReport:
    changes: int
    dropped: int  # changes the region did not keep (its record is bounded)
    first_ns: int
    last_ns: int
    transients: tuple[Transient, ...]

    @property
    def ok(self) -> bool:
        return not self.transients

    @property
    def loops(self) -> int:
        return sum(1 for t in self.transients if t.kind == "loop")

    @property
    def black_holes(self) -> int:
        return sum(1 for t in self.transients if t.kind == "black-hole")

    @property
    def longest_ms(self) -> float:
        """The longest closed interval (an open one counts 0: it has no end yet)."""
        return max((t.duration_ms or 0.0 for t in self.transients), default=0.0)

    @property
    def any_open(self) -> bool:
        return any(t.end_ns is None for t in self.transients)

    def as_dict(self) -> dict[str, object]:
        return {
            "changes": self.changes,
            "dropped": self.dropped,
            "span_ms": (self.last_ns - self.first_ns) / 1e6,
            "loops": self.loops,
            "black_holes": self.black_holes,
            "longest_ms": self.longest_ms,
            "transients": [t.as_dict(self.first_ns) for t in self.transients],
        }


Row = Sequence[object]  # [at_ns, node, prefix, old, new]


class Change(NamedTuple):
    """One row of the stream, read: when, at which switch, for which prefix, the group
    before and after (next-hop name -> weight; None: no route)."""

    at_ns: int
    node: str
    prefix: Prefix
    old: Mapping[str, int] | None
    new: Mapping[str, int] | None


def read_change(row: Row) -> Change:
    """A row as the region sends it (JSON); ``TypeError`` or ``ValueError`` when a field
    is not what it should be."""
    return Change(
        _ns(row[0]), str(row[1]), Prefix.parse(str(row[2])), _group(row[3]), _group(row[4])
    )


def _ns(value: object) -> int:
    if isinstance(value, int | float | str):  # what int() takes
        return int(value)
    raise TypeError(f"not a time in ns: {value!r}")


def _group(value: object) -> Mapping[str, int] | None:
    if value is None or isinstance(value, Mapping):
        return value
    raise TypeError(f"not a next-hop group: {value!r}")


@dataclass(frozen=True)
class FibChangeStream:
    """The last operation's FIB changes as a region records them (``Region.fib_changes()``,
    the ``fib_changes`` of a ``fib-snapshot`` reply): rows ``[at_ns, node, prefix, old,
    new]`` and how many the region's bounded record ``dropped``. The rows stay as sent;
    ``find_transients`` reads them."""

    rows: tuple[Row, ...]
    dropped: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> FibChangeStream:
        """From ``{"changes": [...], "dropped": n}``; ``ValueError`` when it is not that."""
        rows, dropped = d["changes"], d.get("dropped", 0)
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ValueError("fib_changes: 'changes' is not a list of rows")
        if not isinstance(dropped, int | float | str):
            raise ValueError(f"fib_changes: 'dropped' is not a count: {dropped!r}")
        return cls(tuple(rows), int(dropped))


def find_transients(
    final: FibSnapshot,
    rows: Iterable[Row],
    owners: Mapping[Prefix, Iterable[str]],
    matrix: TrafficMatrix,
    dropped: int = 0,
) -> TransientReport:
    """Every interval of the event in which a destination met a loop or a black hole."""
    changes = sorted((read_change(r) for r in rows), key=lambda c: c.at_ns)
    state: dict[str, dict[Prefix, Mapping[str, int]]] = {
        n: dict(t) for n, t in final.entries.items()
    }
    for _at, node, p, old, _new in reversed(changes):
        _set(state, node, p, old)
    fib_prefixes = {p for t in state.values() for p in t} | {c.prefix for c in changes}
    destinations = matrix.destinations()
    # For each FIB prefix, the destinations whose forwarding it takes part in.
    affected: dict[Prefix, list[Prefix]] = defaultdict(list)
    chain: dict[Prefix, list[Prefix]] = {}
    index = PrefixIndex(fib_prefixes)
    for d in destinations:
        covering = index.covering(d.packed, d.length)
        chain[d] = covering
        for q in covering:
            affected[q].append(d)
    owner_sets = {d: frozenset(owners.get(d, ())) for d in destinations}
    demands: dict[Prefix, Mapping[str, float]] = {}  # only the destinations a change touches

    def demand(d: Prefix) -> Mapping[str, float]:
        got = demands.get(d)
        if got is None:
            got = demands[d] = matrix.demand_for(d)
        return got

    open_: dict[tuple[str, Prefix], tuple[int, tuple[str, ...]]] = {}
    found: list[Transient] = []
    cache: dict[tuple[tuple[str, int], ...], dict[str, float]] = {}

    def faults(d: Prefix) -> dict[str, tuple[str, ...]]:
        def hops(v: str) -> Shares | None:
            table = state.get(v, {})
            for q in chain[d]:
                w = table.get(q)
                if w is not None:
                    key = tuple(sorted(w.items()))  # by content: replayed dicts come and go
                    shares = cache.get(key)
                    if shares is None:
                        shares = cache[key] = normalize(w)
                    return shares or None
            return None

        result = push(demand(d), owner_sets[d], hops)
        out: dict[str, tuple[str, ...]] = {}
        if result.looped > 0:
            out["loop"] = result.cycle
        if result.black_holes:
            out["black-hole"] = tuple(sorted(result.black_holes))
        return out

    def evaluate(d: Prefix, at: int) -> None:
        now = faults(d)
        for kind in ("loop", "black-hole"):
            key = (kind, d)
            if kind in now and key not in open_:
                open_[key] = (at, now[kind])
            elif kind in now:  # still there: name every switch it has touched
                start, nodes = open_[key]
                if not set(now[kind]) <= set(nodes):
                    open_[key] = (start, tuple(dict.fromkeys((*nodes, *now[kind]))))
            elif kind not in now and key in open_:
                start, nodes = open_.pop(key)
                found.append(Transient(kind, str(d), start, at, nodes))

    first = changes[0].at_ns if changes else 0
    for d in sorted(affected_destinations(changes, affected)):  # faults before the event
        evaluate(d, first)
    i = 0
    while i < len(changes):
        at = changes[i].at_ns
        touched: set[Prefix] = set()
        while i < len(changes) and changes[i].at_ns == at:
            _, node, p, _old, new = changes[i]
            _set(state, node, p, new)
            touched.update(affected.get(p, ()))
            i += 1
        for d in sorted(touched):
            evaluate(d, at)
    for (kind, d), (start, nodes) in sorted(open_.items(), key=lambda kv: kv[1][0]):
        found.append(Transient(kind, str(d), start, None, nodes))
    found.sort(key=lambda t: (t.start_ns, t.prefix, t.kind))
    return TransientReport(
        changes=len(changes),
        dropped=dropped,
        first_ns=first,
        last_ns=changes[-1].at_ns if changes else 0,
        transients=tuple(found),
    )


def affected_destinations(
    changes: Sequence[Change], affected: Mapping[Prefix, list[Prefix]]
) -> set[Prefix]:
    return {d for c in changes for d in affected.get(c.prefix, ())}


def _set(
    state: dict[str, dict[Prefix, Mapping[str, int]]],
    node: str,
    p: Prefix,
    weights: Mapping[str, int] | None,
) -> None:
    table = state.setdefault(node, {})
    if weights is None:
        table.pop(p, None)
    else:
        table[p] = dict(weights)
