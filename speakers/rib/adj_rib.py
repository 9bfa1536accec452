"""Adj-RIB-In (what each peer sent us, after import policy) and Adj-RIB-Out (what we
last sent each peer), both per peer and keyed by prefix.

Adj-RIB-In lets a session going down withdraw exactly that peer's paths; Adj-RIB-Out lets
the speaker send only what changed, and answer a ROUTE-REFRESH without recomputing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..wire import PathAttributes, Prefix
from ..wire.prefix import IPAddress
from .path import Path


class AdjRibIn:
    def __init__(self) -> None:
        self._paths: dict[Prefix, Path] = {}

    def __len__(self) -> int:
        return len(self._paths)

    def get(self, prefix: Prefix) -> Path | None:
        return self._paths.get(prefix)

    def put(self, prefixes: Iterable[Prefix], path: Path) -> None:
        """``path`` for each of ``prefixes`` (an UPDATE's prefixes share one)."""
        self._paths.update(dict.fromkeys(prefixes, path))

    def drop(self, prefixes: Iterable[Prefix]) -> None:
        """No path for any of ``prefixes`` any more."""
        pop = self._paths.pop
        for prefix in prefixes:
            pop(prefix, None)

    def prefixes(self) -> list[Prefix]:
        return list(self._paths)

    def clear(self) -> list[Prefix]:
        prefixes = list(self._paths)
        self._paths.clear()
        return prefixes


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Advertised:
    """What we told a peer about one prefix (shared: ``interning.Interner``)."""

    attributes: PathAttributes
    next_hop: IPAddress


class AdjRibOut:
    def __init__(self) -> None:
        self._sent: dict[Prefix, Advertised] = {}

    def __len__(self) -> int:
        return len(self._sent)

    def get(self, prefix: Prefix) -> Advertised | None:
        return self._sent.get(prefix)

    def set(self, prefix: Prefix, advertised: Advertised | None) -> bool:
        """Record what is now advertised; False if nothing changed (nothing to send)."""
        return bool(self.record((prefix,), advertised))

    def record(self, prefixes: Iterable[Prefix], advertised: Advertised | None) -> list[Prefix]:
        """Record that ``advertised`` (None: nothing) is now what each of ``prefixes`` is
        advertised with; returns those whose entry changed (what is to be sent)."""
        sent, changed = self._sent, []
        if advertised is None:
            for prefix in prefixes:
                if sent.pop(prefix, None) is not None:
                    changed.append(prefix)
            return changed
        for prefix in prefixes:
            old = sent.get(prefix)
            if old is not advertised and old != advertised:
                sent[prefix] = advertised
                changed.append(prefix)
        return changed

    def items(self) -> list[tuple[Prefix, Advertised]]:
        return list(self._sent.items())

    def clear(self) -> None:
        self._sent.clear()
