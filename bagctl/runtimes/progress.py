"""How far an operation on a region has got, for progress displays (``bagctl up``).

An operation goes through **phases**: the placement's own while it starts (``containers``
or ``shards`` ready of those expected), then ``sessions`` (Established of those expected),
then ``routes`` once every expected session is up: the speakers exchange UPDATEs and fill
their FIBs until the region is quiet. On a large region the last phase is most of the
time (``region``: sessions in about 2 s, routes in 25 s more), so it is reported on its
own, with its UPDATEs and FIB changes, rather than as a bar already full.

``ProgressBoard`` keeps the region-wide figures from the shards' ``Progress`` events
(runtimes/service.py sends them at most a few times a second, summing counters the
sessions keep anyway: nothing is added to a speaker's per-message work) and from every
wave's snapshots, which carry the same counts. ``Pacer`` chooses which of many reports to
pass on: the CLI's displays and a detached child's pipe to its parent both use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .protocol import Progress
from .records import ShardSnapshot

SESSIONS = "sessions"
ROUTES = "routes"


@dataclass(frozen=True, slots=True)
class RegionProgress:
    """One look at an operation's progress. ``phase``: ``sessions`` (``done`` of ``total``
    sessions Established), ``routes`` (every expected session up; ``done`` and ``total``
    still the sessions), or the placement's own (``containers``, ``shards``: ``done`` of
    ``total`` ready). ``updates_sent`` and ``fib_changes``: since the operation began,
    over the whole region."""

    phase: str
    done: int
    total: int
    fib_changes: int
    updates_sent: int = 0


class ProgressBoard:
    """The region's figures from its shards, shown through ``on_progress`` (module
    docstring); while the placement reports its own (containers starting), that instead."""

    def __init__(
        self, on_progress: Callable[[RegionProgress], None] | None, expected: Callable[[], int]
    ) -> None:
        self._on_progress = on_progress
        self._expected = expected  # sessions expected up now (failures change it)
        self._progress: dict[int, Progress] = {}
        self._placing: str | None = None  # the placement's phase while it has one
        self._updates_before = 0  # UPDATEs sent before the operation began
        self._routes = False  # every expected session was up once in this operation

    def begin(self, updates_sent: list[int]) -> int:
        """A new operation: each shard's UPDATEs sent so far (its ``Begin`` reply) are
        where the counts start from (FIB changes restart at 0 in the shards); their sum."""
        self._updates_before = sum(updates_sent)
        self._routes = False
        self._progress = {
            i: Progress(p.ends_up, p.ends_expected, 0, p.updates_sent)
            for i, p in self._progress.items()
        }
        return self._updates_before

    def shard(self, index: int, progress: Progress) -> None:
        self._progress[index] = progress
        self._show()

    def placement(self, done: int, total: int, what: str) -> None:
        """Progress of the placement's own (starting containers); then sessions again."""
        self._placing = what if done < total else None
        if self._on_progress is not None:
            self._on_progress(RegionProgress(what, done, total, 0))

    def wave(self, snaps: list[ShardSnapshot]) -> None:
        """Take a wave's counts as the shards' latest, and show them."""
        for i, snap in enumerate(snaps):
            old = self._progress.get(i)
            changes = old.fib_changes if old is not None else 0
            self._progress[i] = Progress(
                snap.ends_up, snap.ends_expected, changes, snap.updates_sent
            )
        self._show()

    def _show(self) -> None:
        if self._on_progress is None or self._placing is not None:
            return
        expected = self._expected()
        shards = self._progress.values()
        up = min(sum(p.ends_up for p in shards) // 2, expected)
        self._routes = self._routes or up >= expected
        changes = sum(p.fib_changes for p in shards)
        updates = max(0, sum(p.updates_sent for p in shards) - self._updates_before)
        phase = ROUTES if self._routes else SESSIONS
        self._on_progress(RegionProgress(phase, up, expected, changes, updates))


class Pacer:
    """Which progress reports to pass on: the first of each phase, then at most one every
    ``interval_s`` (0: every one), never one equal to the last passed on. ``clock``:
    seconds, monotonic (a test's own)."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last: RegionProgress | None = None
        self._at = 0.0

    def due(self, p: RegionProgress) -> bool:
        now = self._clock()
        last = self._last
        if last is not None and (p == last or (
            p.phase == last.phase and now - self._at < self.interval_s
        )):  # fmt: skip
            return False
        self._last, self._at = p, now
        return True


__all__ = ["ROUTES", "SESSIONS", "Pacer", "ProgressBoard", "RegionProgress"]
