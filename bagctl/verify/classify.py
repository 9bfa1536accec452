"""What a switch does with a bundle of destinations, for many (bundle, switch) pairs at
once (``bundles.py`` pushes bundles; this module answers its one question).

A switch *forwards* a bundle by one group when every member's longest covering entry is
that group; it *delivers* it when it owns every member, *drops* it when no member has a
route there, and otherwise *splits* it into classes it treats alike. Per pair this is
read without looking at each member:

- the switch's entries whose rank falls between the members' first and last rank (one
  ``searchsorted`` over the table's sorted keys) that are a member or contain one (a
  ``searchsorted`` over the members): in a ``PrefixSpace`` a prefix contains exactly the
  ranks ``[rank, end)``;
- the longest entry containing the first member, which comes before it and so is found
  among its ancestors, a few probes.

If those entries are one group and together cover every member (the maximal ones, as
intervals of ranks, hold all of them), the pair forwards whole. Only the pairs left over
(a switch owning a member, entries that differ, members without a route) are looked at
member by member: each member's longest entry, by walking up its ancestors.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .arrays import find, ranges
from .tables import Table

FORWARD, DELIVER, DROP, SPLIT = 0, 1, 2, 3


@dataclass(frozen=True)
class Members:
    """The bundles of one batch: their members as ranks, ``b * R + rank`` sorted (R the
    size of the prefix space), so bundle ``b``'s members are ``keys[start[b]:start[b+1]]``."""

    sets: Sequence[tuple[int, ...]]  # per bundle: its members' ranks, ascending
    keys: np.ndarray
    start: np.ndarray
    weight: np.ndarray  # per member (as ``keys``)
    total: np.ndarray  # per bundle: its members' weights summed (1 when all are 0)
    above: np.ndarray  # per bundle: the ranks containing its first member, longest first
    owners: np.ndarray  # sorted ``b * N + switch`` for each switch owning a member of b
    weights: Mapping[int, float]  # per rank (1 where not given)

    def weight_of(self, r: int) -> float:
        return self.weights.get(r, 1.0)

    @classmethod
    def of(
        cls,
        sets: Sequence[tuple[int, ...]],
        table: Table,
        nodes: int,
        weight: Mapping[int, float],
        owners: Mapping[int, Sequence[int]],
    ) -> Members:
        space = table.space
        size = len(space)
        start = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in sets], out=start[1:])
        flat = np.fromiter((r for rs in sets for r in rs), np.int64, count=int(start[-1]))
        bundle = np.repeat(np.arange(len(sets), dtype=np.int64), np.diff(start))
        w = np.fromiter((weight.get(r, 1.0) for r in flat.tolist()), np.float64, len(flat))
        total = np.add.reduceat(w, start[:-1]) if len(w) else np.zeros(0)
        chains = [space.ancestors(rs[0]) for rs in sets]
        above = np.full((len(sets), max(map(len, chains), default=0)), -1, dtype=np.int64)
        for b, chain in enumerate(chains):
            above[b, : len(chain)] = chain
        owning = {b * nodes + v for b, rs in enumerate(sets) for r in rs for v in owners.get(r, ())}
        return cls(
            sets=sets,
            keys=bundle * size + flat,
            start=start,
            weight=w,
            total=np.where(total > 0, total, 1.0),
            above=above,
            owners=np.array(sorted(owning), dtype=np.int64),
            weights=weight,
        )


@dataclass
class Kinds:
    """Per pair what it does (``FORWARD`` ... ``SPLIT``) and by which group; for a split
    pair, its classes: (member ranks ascending, their weight)."""

    what: np.ndarray
    group: np.ndarray
    classes: dict[int, list[tuple[tuple[int, ...], float]]] = field(default_factory=dict)


def classify(
    table: Table, owned: np.ndarray, m: Members, nodes: int, pb: np.ndarray, pv: np.ndarray
) -> Kinds:
    """What switch ``pv[i]`` does with bundle ``pb[i]`` (module docstring). ``owned``:
    sorted ``switch * R + rank`` of every destination a switch owns."""
    size = len(table.space)
    end = table.space.ends
    keys, rank, group = table.keys, table.rank, table.group
    n = len(pb)
    count = np.diff(m.start)[pb]
    first = m.keys[m.start[pb]] - pb * size
    last = m.keys[m.start[pb + 1] - 1] - pb * size
    mixed = find(m.owners, pb * nodes + pv)[0]
    # The longest entry containing the first member.
    top = np.full(n, -1, dtype=np.int64)
    top_group = np.full(n, -1, dtype=np.int64)
    for d in range(m.above.shape[1]):
        a = m.above[pb, d]
        hit, at = find(keys, pv * size + a)
        hit &= (a >= 0) & (top < 0)
        top[hit] = a[hit]
        top_group[hit] = group[at[hit]]
    # Entries among the members' ranks that are a member or contain one.
    row, pair = ranges(
        np.searchsorted(keys, pv * size + first),
        np.searchsorted(keys, pv * size + last, side="right"),
    )
    r, base = rank[row], pb[pair] * size
    e = end[r]
    i = np.searchsorted(m.keys, base + r)
    inside = (i < len(m.keys)) & (m.keys[np.minimum(i, len(m.keys) - 1)] < base + e)
    pair, r, e, i, base, g = (x[inside] for x in (pair, r, e, i, base, group[row]))
    # One group for all of them?
    low = np.where(top >= 0, top_group, np.iinfo(np.int64).max)
    high = np.where(top >= 0, top_group, -1)
    np.minimum.at(low, pair, g)
    np.maximum.at(high, pair, g)
    found = high >= 0
    # Covered: the maximal entries (none inside an earlier one) hold every member.
    seed = np.where(top >= 0, end[np.maximum(top, 0)], first)
    covered = np.where(top >= 0, np.searchsorted(m.keys, pb * size + seed) - m.start[pb], 0)
    span = size + 1  # rows' ends apart per pair, so one running maximum serves them all
    running = np.maximum.accumulate(pair * span + e) if len(pair) else pair
    before = np.concatenate(([-1], running[:-1]))[: len(pair)] - pair * span
    maximal = r >= np.maximum(before, seed[pair])
    held = np.searchsorted(m.keys, base[maximal] + e[maximal]) - i[maximal]
    covered = covered + np.bincount(pair[maximal], weights=held, minlength=n)
    whole = found & (low == high) & (covered == count) & ~mixed
    empty = np.zeros(n, dtype=bool)
    empty[found] = table.hop_count[high[found]] == 0
    what = np.full(n, SPLIT, dtype=np.int8)
    what[whole] = FORWARD
    what[(whole & empty) | (~found & ~mixed)] = DROP
    kinds = Kinds(what, np.where(whole & ~empty, high, -1))
    each = np.flatnonzero(what == SPLIT)
    if len(each):
        _per_member(table, owned, m, pb, pv, each, kinds)
    return kinds


def _per_member(
    table: Table,
    owned: np.ndarray,
    m: Members,
    pb: np.ndarray,
    pv: np.ndarray,
    pairs: np.ndarray,
    kinds: Kinds,
) -> None:
    """Members of the ``pairs`` one by one: delivered where owned, else by the longest
    entry (walking up the ancestors), dropped without one; the classes go in ``kinds``."""
    size = len(table.space)
    starts = m.start[pb[pairs]]
    k, which = ranges(starts, m.start[pb[pairs] + 1])
    pair = pairs[which]
    member, v = m.keys[k] - pb[pair] * size, pv[pair]
    cls = np.full(len(pair), -1, dtype=np.int64)  # group, -1 drop, -2 deliver
    owns = find(owned, v * size + member)[0]
    cls[owns] = -2
    todo = np.flatnonzero(~owns)
    cur = member[todo]
    while len(todo):  # up the ancestors to the longest entry
        hit, at = find(table.keys, v[todo] * size + cur)
        cls[todo[hit]] = table.group[at[hit]]
        todo, cur = todo[~hit], table.space.parents[cur[~hit]]
        todo, cur = todo[cur >= 0], cur[cur >= 0]
    routed = np.flatnonzero(cls >= 0)
    cls[routed[table.hop_count[cls[routed]] == 0]] = -1  # an empty group forwards nothing
    order = np.lexsort((cls, pair))  # stable: members stay ascending within a class
    pair, cls, member, weight = pair[order], cls[order], member[order], m.weight[k][order]
    first = np.flatnonzero(np.diff(pair, prepend=-1))  # each pair's first member
    last = np.append(first[1:], len(pair)) - 1
    alike = cls[first] == cls[last]  # one class: no member sets to make
    p, c = pair[first[alike]], cls[first[alike]]
    kinds.what[p] = np.where(c == -2, DELIVER, np.where(c == -1, DROP, FORWARD))
    kinds.group[p] = np.where(c >= 0, c, -1)
    split = np.repeat(~alike, last - first + 1)
    pair, cls, member, weight = pair[split], cls[split], member[split], weight[split]
    starts = np.flatnonzero(np.diff(pair, prepend=-1) | np.diff(cls, prepend=-3))
    bounds = [*starts.tolist(), len(pair)]
    weights = np.add.reduceat(weight, starts).tolist() if len(starts) else []
    members = member.tolist()
    for (s, e), w in zip(itertools.pairwise(bounds), weights, strict=True):
        kinds.classes.setdefault(int(pair[s]), []).append((tuple(members[s:e]), w))
