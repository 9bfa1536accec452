"""Adj-RIB-In (what each peer sent us, after import policy: a view of the Loc-RIB) and
Adj-RIB-Out (what we last sent each peer: a column of one table per speaker), both per
peer and keyed by prefix.

Adj-RIB-In lets a session going down withdraw exactly that peer's paths; Adj-RIB-Out lets
the speaker send only what changed, and answer a ROUTE-REFRESH without recomputing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..wire import PathAttributes, Prefix
from ..wire.prefix import IPAddress
from .loc_rib import LocRib
from .path import Path


class AdjRibIn:
    """One peer's paths, after import policy, read from the Loc-RIB, which holds each of
    them in the selection of its prefix (``Selection.path_from`` the peer's name): kept
    once there instead of twice, which was a dict entry per path (40 B of the 565 a path
    cost in objects on the 2-zone region of ``bench/scale.py``: ``bench/memory.py``)."""

    __slots__ = ("_loc_rib", "_source")

    def __init__(self, loc_rib: LocRib, source: str) -> None:
        self._loc_rib = loc_rib
        self._source = source

    def __len__(self) -> int:
        return self._loc_rib.paths_from(self._source)

    def get(self, prefix: Prefix) -> Path | None:
        selection = self._loc_rib.selection(prefix)
        return None if selection is None else selection.path_from(self._source)

    def prefixes(self) -> list[Prefix]:
        return self._loc_rib.prefixes_from(self._source)


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Advertised:
    """What we told a peer about one prefix (shared: ``interning.Interner``)."""

    attributes: PathAttributes
    next_hop: IPAddress


class AdjRibOuts:
    """The Adj-RIB-Outs of a speaker's neighbors as one table: per prefix, a row with a
    slot per neighbor (its column). A fabric switch sends most prefixes to most of its
    neighbors, so a slot (8 B) replaces a dict entry per neighbor and prefix (30 to 40 B:
    on the 2-zone region of ``bench/scale.py``, 40 B of the 565 a path cost in objects).
    With few neighbors a row costs more than their entries: ``SHARED_FROM``. Columns are
    handed out before the first row is made."""

    SHARED_FROM = 4  # neighbors; below, each has a dict of its own

    def __init__(self) -> None:
        self.rows: dict[Prefix, list[Advertised | None]] = {}
        self.width = 0

    def column(self) -> int:
        if self.rows:
            raise ValueError("a column is added before any prefix is recorded")
        self.width += 1
        return self.width - 1


class AdjRibOut:
    """What we last sent one peer for each prefix: its column of a speaker's
    ``AdjRibOuts``, or (None) a dict of its own."""

    __slots__ = ("_column", "_count", "_own", "_table")

    def __init__(self, table: AdjRibOuts | None = None) -> None:
        self._own: dict[Prefix, Advertised] | None = {} if table is None else None
        self._table = table
        self._column = 0 if table is None else table.column()
        self._count = 0

    def __len__(self) -> int:
        return self._count if self._own is None else len(self._own)

    def get(self, prefix: Prefix) -> Advertised | None:
        if self._own is not None:
            return self._own.get(prefix)
        assert self._table is not None  # (one or the other)
        row = self._table.rows.get(prefix)
        return None if row is None else row[self._column]

    def set(self, prefix: Prefix, advertised: Advertised | None) -> bool:
        """Record what is now advertised; False if nothing changed (nothing to send)."""
        return bool(self.record((prefix,), advertised))

    def record(self, prefixes: Iterable[Prefix], advertised: Advertised | None) -> list[Prefix]:
        """Record that ``advertised`` (None: nothing) is now what each of ``prefixes`` is
        advertised with; returns those whose entry changed (what is to be sent)."""
        if self._own is not None:
            return _record_own(self._own, prefixes, advertised)
        assert self._table is not None
        rows, column, changed = self._table.rows, self._column, []
        if advertised is None:
            for prefix in prefixes:
                row = rows.get(prefix)
                if row is not None and row[column] is not None:
                    row[column] = None
                    changed.append(prefix)
                    if not any(row):
                        del rows[prefix]  # sent to nobody now
            self._count -= len(changed)
            return changed
        width, added = self._table.width, 0
        for prefix in prefixes:
            row = rows.get(prefix)
            if row is None:
                row = rows[prefix] = [None] * width
            old = row[column]
            if old is None or (old is not advertised and old != advertised):
                row[column] = advertised
                changed.append(prefix)
                added += old is None
        self._count += added
        return changed

    def items(self) -> list[tuple[Prefix, Advertised]]:
        if self._own is not None:
            return list(self._own.items())
        assert self._table is not None
        column = self._column
        return [(p, a) for p, row in self._table.rows.items() if (a := row[column]) is not None]

    def clear(self) -> None:
        self.record([p for p, _ in self.items()], None)


def _record_own(
    sent: dict[Prefix, Advertised], prefixes: Iterable[Prefix], advertised: Advertised | None
) -> list[Prefix]:
    changed = []
    if advertised is None:
        for prefix in prefixes:
            if sent.pop(prefix, None) is not None:
                changed.append(prefix)
        return changed
    for prefix in prefixes:
        old = sent.get(prefix)
        # (``old is None`` first: None != advertised calls the dataclass's __eq__)
        if old is None or (old is not advertised and old != advertised):
            sent[prefix] = advertised
            changed.append(prefix)
    return changed
