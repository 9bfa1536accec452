"""Prefix summarization (aggregate-address): the pure part. Which configured aggregates
cover a prefix, which routes contribute to each, and the aggregate's link bandwidth.
``routes.py`` feeds every ``RouteChange`` in (``AggregateTable.route_changed``) and installs
or withdraws the aggregate path accordingly (``origination.py``); ``export.py`` asks
``suppressing`` on export.

Semantics (also in the README, "The speaker"):

- **Contributors.** A prefix strictly inside an aggregate's prefix (longer, same leading
  bits, same family) whose best path in our Loc-RIB is not one of our own aggregate
  paths. A nested aggregate of ours is therefore not a contributor of the outer one (its
  bandwidth would count twice); its own contributors are. A route received from anywhere
  counts, an aggregate someone else sent us included: receiving one is ordinary.
- **Presence.** The aggregate is *active* while it has at least one contributor (with
  ``complete_only``: while its contributors cover every address of it); the
  speaker then keeps a locally originated path for it in the Loc-RIB (ORIGIN IGP, empty
  AS_PATH, ATOMIC_AGGREGATE, AGGREGATOR = our AS and router id) and withdraws it with the
  last contributor. A route we originate for the very same prefix stands in its place.
  The aggregate is not installed in our FIB (its best path is local): we forward by the
  more-specifics.
- **Link bandwidth** (so UCMP above us still weights by capacity): per distinct source
  of the contributors' multipaths (a neighbor, or ``<local>`` for routes we originate),
  the largest usable value among the contributing paths through it, capped by the
  capacity of the link to that neighbor when configured; the aggregate carries the sum
  of those. Why the largest and not a sum over prefixes: every contributor through one
  neighbor crosses the same link, and each of that neighbor's routes already carries
  what it can deliver (its own cumulative value), so adding them up would count the same
  link and the same capacity beyond it once per prefix. Paths without a usable value
  add nothing; with none at all, the aggregate carries no link bandwidth (export then
  falls back to the link capacity, as for any route). The aggregate path carries the
  value as an ordinary LinkBandwidth community, so export (``cumulative``: min(sum over
  multipaths, link to the neighbor)) treats it like any other route. Recomputed on every
  contributor change (and link capacity change); re-exported only when the aggregate
  appears, goes, or its value changes.
- **Export.** With ``summary_only``, a prefix strictly inside an active aggregate is not
  advertised to the neighbors in ``suppress_toward`` (None: every neighbor), and is
  withdrawn from them if it had been. Everything else, the aggregate included, is
  exported as before.
- **Complete only** (``complete_only``), against RFC 7938 §8.2's hazard: a summarizing
  switch that lost one contributor (a leaf uplink down) would go on attracting that
  leaf's traffic with the aggregate, and black-hole it or send it back up by a covering
  route (a loop). With ``complete_only`` the aggregate is announced only while every
  address of it is reachable through the switch, and withdrawn whole otherwise; its
  contributors stay suppressed meanwhile (with ``summary_only``), so the tier above
  never holds a more-specific that only some of its paths carry (which would pull all
  of that prefix's traffic onto them). The price: while one leaf is cut off from this
  switch, the whole block avoids it. As FRR's ``aggregate-address ... summary-only``
  with an ``advertise-map``/``exist-map`` requiring every component, and a prefix list
  keeping the components in.

Cost: ``covering`` is one dict lookup per configured aggregate length of the prefix's
family (most speakers have zero to two aggregates; with none the speaker never calls in).
Each aggregate keeps, per source, a multiset of its contributors' bandwidths, so a
contributor change is O(its multipaths) and the bandwidth is recomputed in O(sources x
distinct values), once per input burst rather than per prefix. On export the speaker
asks ``suppressing`` once per prefix and flush, whatever the number of neighbors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .rib import Path
from .wire import Prefix

__all__ = [
    "Aggregate",
    "AggregateState",
    "AggregateTable",
    "Contribution",
    "aggregate_problems",
    "contains",
    "covers",
]


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One aggregate-address: ``prefix`` (host bits zero); ``summary_only``: suppress the
    contributors toward ``suppress_toward`` (neighbor names; None: all neighbors)."""

    prefix: Prefix
    summary_only: bool = True
    suppress_toward: frozenset[str] | None = None
    complete_only: bool = False  # announced only while its contributors cover all of it

    def __post_init__(self) -> None:
        packed, length = self.prefix
        width = len(packed) * 8
        if width not in (32, 128) or not 0 <= length <= width:
            raise ValueError(f"aggregate {self.prefix!r}: not an IPv4 or IPv6 prefix")
        if int.from_bytes(packed, "big") & ((1 << (width - length)) - 1):
            raise ValueError(f"aggregate {self.prefix}: host bits must be zero")

    def suppresses_toward(self, neighbor: str) -> bool:
        """Whether contributors are kept from ``neighbor`` (while the aggregate is active)."""
        return self.summary_only and (
            self.suppress_toward is None or neighbor in self.suppress_toward
        )


def covers(aggregate: Prefix, inside: Iterable[Prefix]) -> bool:
    """Whether the prefixes ``inside`` (each strictly inside ``aggregate``) cover every
    address of it: their ranges, merged in order, leave no gap."""
    packed, length = aggregate
    width = len(packed) * 8
    start = int.from_bytes(packed, "big")
    end = start + (1 << (width - length))
    ranges = sorted((v := int.from_bytes(p, "big"), v + (1 << (width - n))) for p, n in inside)
    reached = start
    for lo, hi in ranges:
        if lo > reached:
            return False
        reached = max(reached, hi)
    return reached >= end


def aggregate_problems(
    aggregates: Iterable[Aggregate], neighbors: Iterable[str]
) -> Iterator[tuple[str, str]]:
    """(where, message) for each configuration mistake: a prefix listed twice, or a
    ``suppress_toward`` name that is no neighbor. ``where`` is the YAML field path
    (``aggregates[1].prefix``), so the loader can locate it."""
    known = set(neighbors)
    seen: dict[Prefix, int] = {}
    for i, agg in enumerate(aggregates):
        if agg.prefix in seen:
            yield (
                f"aggregates[{i}].prefix",
                f"duplicate aggregate {agg.prefix} (also aggregates[{seen[agg.prefix]}])",
            )
        seen.setdefault(agg.prefix, i)
        for name in sorted(agg.suppress_toward or ()):
            if name not in known:
                yield f"aggregates[{i}].suppress_toward", f"no neighbor named {name!r}"


def contains(outer: Prefix, inner: Prefix) -> bool:
    """Whether ``inner`` lies strictly inside ``outer`` (longer, same leading bits)."""
    if len(outer.packed) != len(inner.packed) or inner.length <= outer.length:
        return False
    shift = len(inner.packed) * 8 - outer.length
    a = int.from_bytes(outer.packed, "big") >> shift
    return a == int.from_bytes(inner.packed, "big") >> shift


# One contributor's multipaths: (source name, usable link bandwidth in B/s or None) each.
Contribution = tuple[tuple[str, float | None], ...]


class AggregateState:
    """One aggregate's contributors, and what the speaker installed for it.

    ``path``/``bandwidth_bytes_per_s`` belong to the speaker: the aggregate path now in
    its Loc-RIB (None: none) and the value it was built with."""

    __slots__ = (
        "_by_source",
        "_covered",
        "aggregate",
        "bandwidth_bytes_per_s",
        "contributors",
        "path",
    )

    def __init__(self, aggregate: Aggregate) -> None:
        self.aggregate = aggregate
        self.contributors: dict[Prefix, Contribution] = {}
        # source -> multiset of the present bandwidths of the contributing paths through it
        self._by_source: dict[str, dict[float, int]] = {}
        self.path: Path | None = None
        self.bandwidth_bytes_per_s: float | None = None
        self._covered: bool | None = None  # ``covered()``, until the contributors change

    @property
    def active(self) -> bool:
        if not self.contributors:
            return False
        return self.covered() if self.aggregate.complete_only else True

    def covered(self) -> bool:
        """Whether the contributors cover every address of the aggregate (the union of
        their ranges, nested ones included, is the whole range)."""
        if self._covered is None:
            self._covered = covers(self.aggregate.prefix, self.contributors)
        return self._covered

    def set_contributor(self, prefix: Prefix, contribution: Contribution | None) -> bool:
        """``prefix`` now contributes ``contribution`` (None: no longer contributes).
        False when nothing changed."""
        old = self.contributors.get(prefix)
        if old == contribution:
            return False
        if (old is None) != (contribution is None):
            self._covered = None  # the set of contributors changes
        by_source = self._by_source
        if old is not None:
            for source, bandwidth in old:
                if bandwidth is not None:
                    counts = by_source[source]
                    left = counts[bandwidth] - 1
                    if left:
                        counts[bandwidth] = left
                    else:
                        del counts[bandwidth]
                        if not counts:
                            del by_source[source]
        if contribution is None:
            del self.contributors[prefix]
            return True
        self.contributors[prefix] = contribution
        for source, bandwidth in contribution:
            if bandwidth is not None:
                present = by_source.get(source)
                if present is None:
                    by_source[source] = {bandwidth: 1}
                else:
                    present[bandwidth] = present.get(bandwidth, 0) + 1
        return True

    def bandwidth(self, capacity: Callable[[str], float | None]) -> float | None:
        """The aggregate's link bandwidth in B/s (module docstring), None when no
        contributing path has one. ``capacity(source)``: the link to that source in B/s,
        None when unknown or for ``<local>``."""
        if not self._by_source:
            return None
        shares = []
        for source in sorted(self._by_source):
            largest = max(self._by_source[source])
            cap = capacity(source)
            shares.append(largest if cap is None else min(largest, cap))
        return math.fsum(shares)


class AggregateTable:
    """A speaker's configured aggregates, indexed per family and length for ``covering``."""

    def __init__(self, aggregates: Iterable[Aggregate]) -> None:
        self.states: dict[Prefix, AggregateState] = {}
        # octets of the family (4 or 16) -> [(length, {leading bits: state})], by length
        index: dict[int, dict[int, dict[int, AggregateState]]] = {}
        for agg in aggregates:
            if agg.prefix in self.states:
                raise ValueError(f"duplicate aggregate {agg.prefix}")
            state = self.states[agg.prefix] = AggregateState(agg)
            packed, length = agg.prefix
            key = int.from_bytes(packed, "big") >> (len(packed) * 8 - length)
            index.setdefault(len(packed), {}).setdefault(length, {})[key] = state
        self._index = {octets: sorted(by_length.items()) for octets, by_length in index.items()}

    def __bool__(self) -> bool:
        return bool(self.states)

    def get(self, prefix: Prefix) -> AggregateState | None:
        """The aggregate configured for exactly ``prefix``, if any."""
        return self.states.get(prefix)

    def covering(self, prefix: Prefix) -> list[AggregateState]:
        """The aggregates ``prefix`` lies strictly inside, shortest first."""
        packed, length = prefix
        levels = self._index.get(len(packed))
        if not levels:
            return []
        value = int.from_bytes(packed, "big")
        width = len(packed) * 8
        out = []
        for agg_length, table in levels:
            if agg_length >= length:
                break
            state = table.get(value >> (width - agg_length))
            if state is not None:
                out.append(state)
        return out

    def route_changed(
        self, prefix: Prefix, best: Path | None, multipath: tuple[Path, ...]
    ) -> list[AggregateState]:
        """``prefix``'s best path and multipath set are now these (best None: gone).
        Returns the aggregates whose contributors changed: re-evaluate those."""
        covering = self.covering(prefix)
        if not covering:
            return []
        contribution: Contribution | None = None
        own = self.states.get(prefix)
        if best is not None and (own is None or best is not own.path):
            contribution = tuple((p.source.name, p.link_bandwidth) for p in multipath)
        return [s for s in covering if s.set_contributor(prefix, contribution)]

    def suppressing(self, prefix: Prefix) -> tuple[Aggregate, ...]:
        """The summary-only aggregates ``prefix`` lies inside that are active, or
        ``complete_only`` (those suppress always: module docstring): it is kept from the
        neighbors any of them ``suppresses_toward``."""
        return tuple(
            s.aggregate
            for s in self.covering(prefix)
            if s.aggregate.summary_only and (s.aggregate.complete_only or s.active)
        )

    def suppressed(self, prefix: Prefix, neighbor: str) -> bool:
        """Whether ``prefix`` is kept from ``neighbor`` by an active summary-only aggregate."""
        return any(a.suppresses_toward(neighbor) for a in self.suppressing(prefix))
