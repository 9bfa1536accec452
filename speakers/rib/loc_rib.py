"""The Loc-RIB: every prefix's ``Destination``, one family or both (prefixes say which)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..wire import Prefix
from .destination import Destination, RouteChange
from .multipath import MultipathConfig
from .path import Path


class LocRib:
    def __init__(self, multipath: MultipathConfig | None = None) -> None:
        self.multipath = multipath or MultipathConfig()
        self._table: dict[Prefix, Destination] = {}

    def __len__(self) -> int:
        return len(self._table)

    def __iter__(self) -> Iterator[Destination]:
        return iter(self._table.values())

    def get(self, prefix: Prefix) -> Destination | None:
        return self._table.get(prefix)

    def set_path(self, prefix: Prefix, source: str, path: Path | None) -> RouteChange | None:
        """One source's path for one prefix (None withdraws it)."""
        dest = self._table.get(prefix)
        if dest is None:
            if path is None:
                return None
            dest = self._table[prefix] = Destination(prefix)
        change = dest.set_path(source, path, self.multipath)
        if not dest.paths:
            del self._table[prefix]
        return change

    def drop_source(self, source: str, prefixes: Iterable[Prefix]) -> list[RouteChange]:
        """Withdraw every path ``source`` gave for ``prefixes`` (session down)."""
        changes = []
        for prefix in prefixes:
            change = self.set_path(prefix, source, None)
            if change is not None:
                changes.append(change)
        return changes
