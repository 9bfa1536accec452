"""Measuring what an operation did to a region: when it is quiet again, and the report.

**Quiescence** spans shards, so it is read in waves. A wave asks every shard for its
snapshot (runtimes/shard.py); the region is quiescent when a wave finds no shard busy,
every expected session end Established, as many UPDATEs received as sent over the
current sessions, and a second wave right after finds every shard's activity counter
and UPDATE counts unchanged (Mattern's four-counter rule: nothing happened between the
two, so at the moment between them the whole region was quiet at once, with nothing in
flight). A wave runs after an operation and then whenever a shard cues that it has gone
idle (runtimes/service.py). Times are CLOCK_MONOTONIC nanoseconds, which every process
and container of a machine shares, so the last FIB change any shard reports is
comparable with the operation's start in the region's process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from .shard import ShardSnapshot

Wave = Callable[[], Awaitable[list[ShardSnapshot]]]


@dataclass(frozen=True, slots=True)
class ConvergenceReport:
    """What one operation did to the region, measured when it went quiet again."""

    event: str
    started_ns: int
    converged_s: float  # operation -> last FIB change anywhere (0 if none)
    quiescent_s: float  # operation -> quiescence detected
    fib_changes: int
    updates_sent: int
    prefixes_changed: int
    sessions_established: int
    sessions_expected: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RegionProgress:
    """How far an operation has got, for progress bars: ``done`` of ``total`` things
    (``what``: sessions, or containers while they start) and FIB changes so far."""

    what: str
    done: int
    total: int
    fib_changes: int


def settled(snaps: list[ShardSnapshot]) -> bool:
    """Nothing busy, every expected session end up, no UPDATE in flight (one wave)."""
    return (
        not any(s.busy for s in snaps)
        and all(s.ends_up == s.ends_expected for s in snaps)
        and sum(s.session_updates_out for s in snaps) == sum(s.session_updates_in for s in snaps)
    )


def fingerprint(snaps: list[ShardSnapshot]) -> tuple[tuple[int, int, int], ...]:
    """What must not move between two settled waves (Mattern's counters)."""
    return tuple((s.activity, s.session_updates_out, s.session_updates_in) for s in snaps)


async def until_quiescent(
    wave: Wave, cue: asyncio.Event, note: Callable[[list[ShardSnapshot]], None]
) -> None:
    """Take waves until two settled ones in a row agree (module docstring); between
    unsettled ones, wait for a shard's ``cue`` (and ``note`` what the wave saw)."""
    previous = None
    while True:
        cue.clear()
        snaps = await wave()
        if settled(snaps):
            current = fingerprint(snaps)
            if current == previous:
                return
            previous = current
            continue  # confirm with a second wave at once
        previous = None
        note(snaps)
        await cue.wait()


__all__ = ["ConvergenceReport", "RegionProgress", "fingerprint", "settled", "until_quiescent"]
