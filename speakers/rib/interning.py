"""``Interner``: one object per distinct route record among the speakers that share it.

Most of a region's routing state is the same few records over and over. Counted on the
``region`` preset (548 speakers in one process, 364,352 Adj-RIB-In paths) before this
module: the Adj-RIB-In paths held 143,000 attribute objects, one per UPDATE received,
for 578 distinct values once the next hop (which ``Path.next_hop`` carries anyway) is
left out; every path its own ``Rank`` of three tuples and big ints, though a rank
depends only on a few small numbers and the neighbor; and the Adj-RIB-Outs held 289,000
``Advertised`` objects, each with its own attributes and AS_PATH, again for 578 values.
The DSF mesh is why: an RDSW hears each prefix from 40 EDSWs that share one AS, so the
40 paths differ in next hop alone, and its 120 neighbors of the other side are sent the
same route. Sharing equal records cut what the collector sees per path on ``region``
from about 1,300 bytes to about 550 (the README's Benchmarks: before and after).

So a speaker asks the interner for its records, and a process that runs many speakers
(a shard) hands them one interner, so that equal records are shared between speakers
too. Records are immutable and compared by value wherever a decision is taken, so
sharing changes no outcome. Attributes and advertisements are held weakly: a record
nobody else holds any more leaves its table (a churning peer's old routes do not pile
up). Prefixes, ranks, next hops and link bandwidths cannot be held weakly (tuples and
ints) and are bounded by the routes, the neighbors and the few preferences they send;
their tables are emptied when full, as the decoder's memo is: that loses sharing for a
while, never an outcome (a peer churning through millions of prefixes empties the
prefix table now and then, and holds no more memory for it than the table's size).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Generic, TypeVar

from ..wire import PathAttributes, Prefix
from ..wire.communities import ExtCommunity, effective_link_bandwidth
from ..wire.prefix import IPAddress
from .adj_rib import Advertised
from .path import DEFAULT_LOCAL_PREF, Path, PeerInfo
from .rank import Rank

K = TypeVar("K")
V = TypeVar("V")

SMALL_TABLE_SIZE = 1 << 16  # ranks, next hops, bandwidths: emptied when this full
RECEIVED_TABLE_SIZE = 1 << 10  # attribute objects received lately: emptied when this full
PREFIX_TABLE_SIZE = 1 << 21  # prefixes: a region's fit many times over


R = TypeVar("R", PathAttributes, Advertised)


class WeakTable(Generic[R]):
    """Records by key, held weakly: ``weakref.WeakValueDictionary``'s job at C speed. That
    one is Python code around a ref per entry with a callback, and a flood of distinct
    routes spent a tenth of its time in its ``get`` and ``__setitem__``
    (``bench/flood.py``). Here an entry is a plain ``weakref.ref`` (CPython hands out one
    per record), and entries whose record is gone are swept out when the table has
    doubled since the last sweep: amortised O(1), and never more than twice the live
    records."""

    __slots__ = ("_refs", "_sweep_at")

    def __init__(self) -> None:
        self._refs: dict[int, weakref.ref[R]] = {}
        self._sweep_at = _WEAK_SWEEP_MIN

    def get(self, key: int) -> R | None:
        ref = self._refs.get(key)
        return None if ref is None else ref()

    def put(self, key: int, record: R) -> None:
        refs = self._refs
        refs[key] = weakref.ref(record)
        if len(refs) >= self._sweep_at:
            self._refs = {k: r for k, r in refs.items() if r() is not None}
            self._sweep_at = max(_WEAK_SWEEP_MIN, 2 * len(self._refs))

    def __len__(self) -> int:
        """Live records (a walk: for tests and views, not the hot path)."""
        return sum(1 for r in self._refs.values() if r() is not None)


_WEAK_SWEEP_MIN = 1 << 10


def _shared(table: WeakTable[R], record: R) -> R:
    """The record in ``table`` equal to ``record``, else ``record`` (then held there).
    Keyed by hash so that the table holds records weakly: the rare record whose hash
    another one holds the slot of is not shared, which changes nothing but memory."""
    key = hash(record)
    shared = table.get(key)
    if shared is None:
        table.put(key, record)
        return record
    return shared if shared == record else record


def _remember(table: dict[K, V], key: K, value: V, size: int = SMALL_TABLE_SIZE) -> V:
    _make_room(table, size)
    table[key] = value
    return value


def _make_room(table: dict[K, V], size: int) -> None:
    """Empty ``table`` if it is full (module docstring: sharing lost a while, no outcome)."""
    if len(table) >= size:
        table.clear()


class Interner:
    """Shared records for Adj-RIB-In paths and Adj-RIB-Out entries (module docstring)."""

    __slots__ = (
        "_adverts",
        "_attributes",
        "_bandwidths",
        "_hops",
        "_prefixes",
        "_ranks",
        "_received",
    )

    def __init__(self) -> None:
        # By hash: a key holding the record would keep it alive (``_shared``).
        self._attributes: WeakTable[PathAttributes] = WeakTable()
        self._adverts: WeakTable[Advertised] = WeakTable()
        self._ranks: dict[tuple[int, int, int, PeerInfo], Rank] = {}
        self._hops: dict[IPAddress, tuple[IPAddress, int]] = {}  # -> itself, its key
        self._prefixes: dict[Prefix, Prefix] = {}
        self._bandwidths: dict[tuple[ExtCommunity, ...], float | None] = {}
        # The shared attributes of objects received lately, by identity
        # (``_received_attributes``): the decoder hands every receiver of the same bytes
        # one ``Update`` (``wire.update_memo``). Both held weakly, as the tables above:
        # an entry whose object is gone (its id perhaps another's now) is never answered.
        self._received: dict[
            int, tuple[weakref.ref[PathAttributes], weakref.ref[PathAttributes]]
        ] = {}

    def __len__(self) -> int:
        """Attribute sets and advertisements held (the tests' measure of sharing)."""
        return len(self._attributes) + len(self._adverts)

    def attributes(self, attrs: PathAttributes) -> PathAttributes:
        """The shared object equal to ``attrs`` without its NEXT_HOP (a path's next hop
        is ``Path.next_hop``: left in, it would make every neighbor's copy differ). Looked
        up by the values it would have, so that a copy without it is built only when none
        is shared yet (``_shared``'s table, its key: such attributes hash as their values)."""
        if attrs.next_hop is None:
            return _shared(self._attributes, attrs)
        values = attrs.values_without_next_hop()
        key = hash(values)
        shared = self._attributes.get(key)
        if shared is not None and shared.values() == values:
            return shared
        record = PathAttributes(*values)
        if shared is None:
            self._attributes.put(key, record)
        return record

    def _received_attributes(self, attrs: PathAttributes) -> PathAttributes:
        """``attributes`` for an object received (``path``), answered by identity when
        asked about lately: an EDSW's UPDATE, decoded once, reaches the 120 RDSWs of a
        process as one object. (An export builds its attributes anew each time: it asks
        ``attributes``, which keeps nothing per object.)"""
        received = self._received.get(id(attrs))
        if received is not None and received[0]() is attrs:
            shared = received[1]()
            if shared is not None:
                return shared
        shared = self.attributes(attrs)
        entry = (weakref.ref(attrs), weakref.ref(shared))
        _remember(self._received, id(attrs), entry, RECEIVED_TABLE_SIZE)
        return shared

    def path(self, source: PeerInfo, attrs: PathAttributes, next_hop: IPAddress | None) -> Path:
        """A path equal to ``Path.build(source, self.attributes(attrs), next_hop)``, made
        of shared parts: the attributes, the rank, the next hop's key, the bandwidth."""
        shared = self._received_attributes(attrs)
        lp, as_path, origin = shared.local_pref, shared.as_path, shared.origin
        key = (
            DEFAULT_LOCAL_PREF if lp is None else lp,
            0 if as_path is None else as_path.length,
            2 if origin is None else int(origin),
            source,
        )
        rank = self._ranks.get(key)
        if rank is None:
            rank = _remember(self._ranks, key, Path.rank_of(shared, source))
        hop_key = -1
        if next_hop is not None:
            hop = self._hops.get(next_hop)
            if hop is None:
                hop = _remember(self._hops, next_hop, (next_hop, Path.key_of(next_hop)))
            next_hop, hop_key = hop
        ext = shared.ext_communities
        try:
            bandwidth = self._bandwidths[ext]
        except KeyError:
            bandwidth = _remember(self._bandwidths, ext, effective_link_bandwidth(ext))
        return Path(source, shared, next_hop, bandwidth, rank, hop_key)

    def prefix(self, prefix: Prefix) -> Prefix:
        """The shared object equal to ``prefix`` (the decoder makes one per NLRI, and
        every Adj-RIB-In, Loc-RIB and Adj-RIB-Out would otherwise key its own)."""
        shared = self._prefixes.get(prefix)
        if shared is None:
            shared = _remember(self._prefixes, prefix, prefix, PREFIX_TABLE_SIZE)
        return shared

    def prefixes(self, prefixes: Iterable[Prefix]) -> list[Prefix]:
        """``prefix`` for each of ``prefixes`` (an UPDATE's), in order."""
        table = self._prefixes
        _make_room(table, PREFIX_TABLE_SIZE)  # (once per batch, not per prefix)
        # setdefault: the one already held, or this one, now held (one lookup, in C)
        return list(map(table.setdefault, prefixes, prefixes))

    def advertised(self, advert: Advertised) -> Advertised:
        """The shared object equal to ``advert``, its attributes shared too (those of an
        export carry no NEXT_HOP: ``Advertised.next_hop`` is the one sent)."""
        shared = self._adverts.get(hash(advert))
        if shared is not None and shared == advert:
            return shared
        attrs = advert.attributes
        if attrs.next_hop is None:
            advert = Advertised(self.attributes(attrs), advert.next_hop)
        return _shared(self._adverts, advert)


__all__ = ["Interner"]
