"""Forwarding tables as arrays: the FIB (*actual*) and the model's *ideal* and *ECMP*
plans in one form, so that comparing them and pushing traffic through them never walks
a dict per entry.

A ``Table`` has one row per (switch, prefix) entry, sorted by switch and then by the
prefix's rank in a ``PrefixSpace`` (so a switch's entries are a slice, in preorder), each
row naming a next-hop group by number. Groups are kept once each: a FIB's as the snapshot
interned them, the plans' by value (a split is its shares, whichever route gave it).
Switches are numbered by ``Nodes``: the model's switches first, in its numbering, then any
other name a FIB brings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from speakers.wire import Prefix

from .fibview import FibSnapshot, Weights
from .loads import Shares, normalize
from .model import RoutingModel
from .space import PrefixSpace


class Nodes:
    """Switch names by number; a name not yet known gets the next number."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names: list[str] = list(names)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}

    def id(self, name: str) -> int:
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
        return i

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Table:
    """Rows sorted by (switch, rank); ``groups[i]`` is group ``i`` as given, ``hops[i]``
    and ``shares[i]`` its next hops by number with their normalized shares (those above
    zero; none for an empty group, which forwards nothing)."""

    node: np.ndarray
    rank: np.ndarray
    group: np.ndarray
    groups: Sequence[Shares]
    hops: Sequence[tuple[int, ...]]
    shares: Sequence[tuple[float, ...]]
    present: frozenset[int]  # switches the table has (an empty one included)
    space: PrefixSpace = field(repr=False)

    @cached_property
    def keys(self) -> np.ndarray:
        """Per row, switch and rank in one sortable number."""
        keys: np.ndarray = self.node * np.int64(len(self.space)) + self.rank
        return keys

    @cached_property
    def hop_count(self) -> np.ndarray:
        """Per group, its next hops (``hop_node``/``hop_share`` from ``hop_ptr``)."""
        return np.array([len(h) for h in self.hops], dtype=np.int64)

    @cached_property
    def hop_ptr(self) -> np.ndarray:
        ptr = np.zeros(len(self.hops) + 1, dtype=np.int64)
        np.cumsum(self.hop_count, out=ptr[1:])
        return ptr

    @cached_property
    def hop_node(self) -> np.ndarray:
        return np.array([u for h in self.hops for u in h], dtype=np.int64)

    @cached_property
    def hop_share(self) -> np.ndarray:
        return np.array([f for s in self.shares for f in s], dtype=np.float64)


def _table(
    node: np.ndarray,
    rank: np.ndarray,
    group: np.ndarray,
    groups: Sequence[Shares],
    nodes: Nodes,
    present: Iterable[int],
    space: PrefixSpace,
) -> Table:
    """Rows put in (switch, rank) order, the groups' next hops numbered."""
    order = np.argsort(node * np.int64(len(space)) + rank)
    return _with_groups(node[order], rank[order], group[order], groups, nodes, present, space)


def _with_groups(
    node: np.ndarray,
    rank: np.ndarray,
    group: np.ndarray,
    groups: Sequence[Shares],
    nodes: Nodes,
    present: Iterable[int],
    space: PrefixSpace,
) -> Table:
    hops, shares = [], []
    for g in groups:
        norm = normalize(g)
        hops.append(tuple(nodes.id(h) for h in norm))
        shares.append(tuple(norm.values()))
    return Table(node, rank, group, groups, hops, shares, frozenset(present), space)


def fib_table(fib: FibSnapshot, space: PrefixSpace, nodes: Nodes) -> Table:
    """The FIB's entries as a ``Table``; its groups are the snapshot's objects (equal
    groups are one object when it came from ``FibSnapshot.from_names``), numbered in the
    order first met. Every entry is read by C-level passes (``map``, ``fromiter``)."""
    objects: dict[int, Weights] = {}
    node_parts, rank_parts, id_parts = [], [], []
    rank = space.rank.__getitem__
    for name, entries in fib.entries.items():
        count, values = len(entries), entries.values()
        objects.update(zip(map(id, values), values, strict=True))
        node_parts.append(np.full(count, nodes.id(name), dtype=np.int64))
        rank_parts.append(np.fromiter(map(rank, entries), np.int64, count=count))
        id_parts.append(np.fromiter(map(id, values), np.int64, count=count))
    node, ranks, ids = _joined(node_parts, rank_parts, id_parts)
    # Groups numbered in the order first met (a dict keeps it), not by address.
    by_address = np.array(sorted(objects), dtype=np.int64)
    number = np.empty(len(objects), dtype=np.int64)
    number[np.searchsorted(by_address, np.fromiter(objects, np.int64, len(objects)))] = np.arange(
        len(objects)
    )
    group = number[np.searchsorted(by_address, ids)]
    present = [nodes.index[name] for name in fib.entries]
    return _table(node, ranks, group, list(objects.values()), nodes, present, space)


def plan_tables(model: RoutingModel, space: PrefixSpace, nodes: Nodes) -> tuple[Table, Table]:
    """The model's plans: per switch and advertised prefix, the ideal and the ECMP
    shares. A local route forwards nothing (an aggregate is not installed; its
    more-specifics are), so it has no entry. Every switch of the model has a table."""
    routes = model.table.routes
    local = np.array([r.local for r in routes], dtype=bool)
    ideal_groups: list[Shares] = []
    ecmp_groups: list[Shares] = []
    ideal_of = _interned([r.split() for r in routes], ideal_groups)
    ecmp_of = _interned([r.ecmp() for r in routes], ecmp_groups)
    node_parts, rank_parts, rid_parts = [], [], []
    for p, prefix_routes in model.prefixes.items():
        rids = prefix_routes.rids()
        keep = ~local[rids]
        node_parts.append(prefix_routes.nodes()[keep])
        rid_parts.append(rids[keep])
        rank_parts.append(np.full(len(rid_parts[-1]), space.rank[p], dtype=np.int64))
    node, rank, rid = _joined(node_parts, rank_parts, rid_parts)
    order = np.argsort(node * np.int64(len(space)) + rank)
    node, rank, rid = node[order], rank[order], rid[order]
    present = range(len(model.graph.names))
    ideal = _with_groups(node, rank, ideal_of[rid], ideal_groups, nodes, present, space)
    ecmp = _with_groups(node, rank, ecmp_of[rid], ecmp_groups, nodes, present, space)
    return ideal, ecmp


def _interned(splits: list[dict[str, float]], groups: list[Shares]) -> np.ndarray:
    """Per route, the number of its split among ``groups`` (appended to), equal splits
    one group."""
    number: dict[tuple[tuple[str, float], ...], int] = {}
    out = np.empty(len(splits), dtype=np.int64)
    for i, split in enumerate(splits):
        key = tuple(split.items())
        got = number.get(key)
        if got is None:
            got = number[key] = len(groups)
            groups.append(split)
        out[i] = got
    return out


def _joined(*parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, c = (np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for p in parts)
    return a, b, c


def space_of(model: RoutingModel, fib: FibSnapshot, extra: Iterable[Prefix] = ()) -> PrefixSpace:
    """Every prefix the check meets: the model's, the FIB's and ``extra`` (the matrix's)."""
    seen = set(model.prefixes)
    for entries in fib.entries.values():
        seen.update(entries)
    seen.update(extra)
    return PrefixSpace.of(seen)


def model_nodes(model: RoutingModel) -> Nodes:
    return Nodes(model.graph.names)
