"""The Loc-RIB: every prefix's ``Selection``, one family or both (prefixes say which).

Changes come in batches: one source's path for many prefixes (an UPDATE's prefixes share
one ``Path``) or its withdrawal. Prefixes that held the same selection get the same next
one, worked out once (``selection.py``); and since a neighbor sends the same path in
UPDATE after UPDATE (its table does not fit one), the outcome per selection is kept per
source while that source's path object stays the same, so the prefixes of a whole table
end up sharing a handful of selections, not one per UPDATE.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..wire import Prefix
from .destination import Destination, RouteChange
from .multipath import MultipathConfig
from .path import Path
from .selection import EMPTY, Selection

# Per source: its last path (None: withdrawals) and, per selection before (by id, and
# held weakly: a selection no prefix holds any more is not kept alive for this), the
# selection after, whether the best path or multipath set moved, and how the source's
# count of paths moves (-1, 0, 1).
_Outcome = tuple[weakref.ref[Selection], Selection, bool, int]
_Outcomes = dict[int, _Outcome]
OUTCOMES_KEPT = 1024  # per source; emptied when full (sharing lost for a while, no outcome)


class LocRib:
    def __init__(self, multipath: MultipathConfig | None = None) -> None:
        self.multipath = multipath or MultipathConfig()
        self._table: dict[Prefix, Selection] = {}
        # ``selection(prefix)``: its selection (shared, immutable), None without paths. The
        # table's own get (a C call: the export asks once per dirty prefix and flush).
        self.selection: Callable[[Prefix], Selection | None] = self._table.get
        self._outcomes: dict[str, tuple[Path | None, _Outcomes]] = {}
        self._counts: dict[str, int] = {}  # paths per source: an Adj-RIB-In's size

    def paths_from(self, source: str) -> int:
        """How many prefixes have a path from ``source``."""
        return self._counts.get(source, 0)

    def prefixes_from(self, source: str) -> list[Prefix]:
        """The prefixes that have a path from ``source`` (its Adj-RIB-In: ``adj_rib``)."""
        return [p for p, s in self._table.items() if s.path_from(source) is not None]

    def __len__(self) -> int:
        return len(self._table)

    def __iter__(self) -> Iterator[Destination]:
        return (Destination(p, s) for p, s in self._table.items())

    def get(self, prefix: Prefix) -> Destination | None:
        selection = self._table.get(prefix)
        return None if selection is None else Destination(prefix, selection)

    def set_path(self, prefix: Prefix, source: str, path: Path | None) -> RouteChange | None:
        """One source's path for one prefix (None withdraws it)."""
        old = self._table.get(prefix, EMPTY)
        new = old.with_path(source, path, self.multipath)
        if new is not old:  # (one path per source: a path came, left or was replaced)
            self._count(source, len(new.by_source) - len(old.by_source))
        return self._moved(prefix, old, new)

    def set_paths(
        self, prefixes: Sequence[Prefix], source: str, path: Path | None
    ) -> list[RouteChange]:
        """``source``'s path for each of ``prefixes`` is ``path`` (None withdraws it): the
        changes of best path or multipath set, in the order of ``prefixes``."""
        recent = self._outcomes.get(source)
        if recent is None or recent[0] is not path or len(recent[1]) >= OUTCOMES_KEPT:
            if len(prefixes) == 1:
                # Nothing to share (a fabric's cold start trickles in a prefix or two
                # per UPDATE): no memo made for it.
                change = self.set_path(prefixes[0], source, path)
                return [] if change is None else [change]
            recent = self._outcomes[source] = (path, {})
        outcomes = recent[1]
        table, config = self._table, self.multipath
        changes: list[RouteChange] = []
        make = tuple.__new__
        held = 0  # how the source's count of paths moves
        last: Selection | None = None  # a run of prefixes held one selection: one lookup
        outcome: _Outcome  # (set at the first prefix: ``old`` is never None)
        for prefix in prefixes:
            old = table.get(prefix, EMPTY)
            if old is not last:
                known = outcomes.get(id(old))
                if known is None or known[0]() is not old:
                    new = old.with_path(source, path, config)
                    count = len(new.by_source) - len(old.by_source)  # (``set_path``)
                    moved = new.moved_from(old)
                    known = outcomes[id(old)] = (weakref.ref(old), new, moved, count)
                outcome, last = known, old
            new = outcome[1]
            if new is old:
                continue
            held += outcome[3]
            if new.by_source:
                table[prefix] = new
            else:
                del table[prefix]
            if outcome[2]:
                # (tuple.__new__: the NamedTuple's own __new__ is a Python-level call)
                changes.append(
                    make(RouteChange, (prefix, old.best, new.best, old.multipath, new.multipath))
                )
        self._count(source, held)
        return changes

    def _count(self, source: str, moved: int) -> None:
        if moved:
            count = self._counts[source] = self._counts.get(source, 0) + moved
            if not count:
                del self._counts[source]

    def _moved(self, prefix: Prefix, old: Selection, new: Selection) -> RouteChange | None:
        """``prefix`` holds ``new`` instead of ``old``: the change if its best path or
        multipath set moved (``Selection.moved_from``)."""
        if new is old:
            return None
        if new.by_source:
            self._table[prefix] = new
        else:
            del self._table[prefix]
        if not new.moved_from(old):
            return None
        changed = (prefix, old.best, new.best, old.multipath, new.multipath)
        return tuple.__new__(RouteChange, changed)  # (``set_paths``)

    def drop_source(self, source: str, prefixes: Iterable[Prefix]) -> list[RouteChange]:
        """Withdraw every path ``source`` gave for ``prefixes`` (session down)."""
        return self.set_paths(list(prefixes), source, None)
