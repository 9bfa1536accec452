"""``Watchlist``: the few things that may have work, kept as work comes, so that asking
"is anything busy?" or "when is the next work due?" costs the things marked, not all.

A region's clock asks both of every shard at every step (bagctl/runtimes/timekeeping.py),
and a shard of thousands of speakers has work at a handful at a time: walking every
speaker (and each of its neighbors) at each step was most of a bundle failure's wall
time on large regions, where only microseconds of emulated time pass. So whatever may
give an item work marks it (``mark``: a set insert, cheap enough to do on every
message), and a look (``any``, ``earliest``) asks only the marked ones, forgetting each
found with no work: it marks itself again when work comes.

The contract, which tests/speakers/test_watch.py holds it to against a walk over every
item: an item that has work is marked. Marking one that has none is harmless (the next
look forgets it), so callers mark wherever work *may* start, and need not know whether
it did.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class Watchlist(Generic[T]):
    """Items that may have work (module docstring); each at most once."""

    def __init__(self) -> None:
        self._marked: dict[T, None] = {}  # (a dict as an ordered set: looks are repeatable)

    def __len__(self) -> int:
        return len(self._marked)

    def __contains__(self, item: object) -> bool:
        return item in self._marked

    def mark(self, item: T) -> None:
        """``item`` may have work now."""
        self._marked[item] = None

    def discard(self, item: T) -> None:
        """``item`` is gone (a speaker closed): never looked at again unless marked."""
        self._marked.pop(item, None)

    def any(self, busy: Callable[[T], bool]) -> bool:
        """Is any marked item ``busy``? Those found idle on the way are forgotten; the
        look stops at the first busy one (the rest stay marked)."""
        marked = self._marked
        for item in list(marked):
            if busy(item):
                return True
            del marked[item]
        return False

    def total(self, count: Callable[[T], int]) -> int:
        """The sum of ``count`` over the marked items; those counting 0 are forgotten."""
        marked = self._marked
        total = 0
        for item in list(marked):
            n = count(item)
            if n:
                total += n
            else:
                del marked[item]
        return total

    def earliest(self, due: Callable[[T], float | None]) -> float | None:
        """The earliest ``due`` over the marked items (None: none has work due); those
        with none are forgotten."""
        marked = self._marked
        best: float | None = None
        for item in list(marked):
            when = due(item)
            if when is None:
                del marked[item]
            elif best is None or when < best:
                best = when
        return best


@dataclass(frozen=True)
class Watches(Generic[T]):
    """What an owner of many speakers watches: those that may be busy now (``busy``) and
    those that may have work set for later (``due``). A speaker alone has its own."""

    busy: Watchlist[T] = field(default_factory=Watchlist)
    due: Watchlist[T] = field(default_factory=Watchlist)

    def forget(self, item: T) -> None:
        """``item`` is gone (a speaker closed, or replaced by a restart)."""
        self.busy.discard(item)
        self.due.discard(item)


__all__ = ["Watches", "Watchlist"]
