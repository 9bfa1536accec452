"""Where a speaker's time comes from: the host's, or an emulated one that its owner moves.

Every timer of a speaker (hold, keepalive, connect-retry, idle hold, the export flush and
MRAI) and every timestamp it takes (FIB changes, when a session came up) go through one
``Clock``, so the speaker's code does not know which clock it runs on:

- ``LoopClock``: the asyncio loop's monotonic clock. What ``python -m speakers`` and a
  speaker among real routers use: time passes whether or not the process keeps up.
- ``VirtualClock``: emulated time that only moves when its owner calls ``advance`` (a
  region: runtimes/region.py in bagctl). A process that falls behind delays the next
  ``advance``, not the protocol: a hold timer cannot expire because the host was busy.
  Timers run in deadline order, each seeing its own deadline as ``time()``.

``call_soon`` is "once this burst of input is processed": the same instant in emulated
time on both clocks (an export flush right after the UPDATEs that caused it). Inside
``advance`` that instant is the timer's that asked, so what a timer's work causes runs
at that time, before any later timer, and not when the advance is over.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    """What scheduling returns: something that can be cancelled."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """A speaker's time (module docstring)."""

    def time(self) -> float:
        """Monotonic seconds."""
        ...

    def time_ns(self) -> int:
        """The same instant in nanoseconds (timestamps of FIB changes)."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once ``time()`` reaches ``when``."""
        ...

    def call_soon(self, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` as soon as the current burst of work is done."""
        ...


class LoopClock:
    """The asyncio loop's clock: real time (module docstring). Without a ``loop``, the one
    running when the clock is first used (a speaker may be built before its loop runs)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def time(self) -> float:
        return self.loop.time()

    def time_ns(self) -> int:
        return time.monotonic_ns()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return self.loop.call_at(when, callback)

    def call_soon(self, callback: Callable[[], None]) -> Timer:
        return self.loop.call_soon(callback)


class VirtualTimer:
    """A timer of a ``VirtualClock``; cancelled ones stay in the heap until they surface,
    or until they are half of it (``VirtualClock._cancelled_one``)."""

    __slots__ = ("callback", "cancelled", "clock", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self.clock: VirtualClock | None = None  # while in that clock's heap

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if self.clock is not None:
                self.clock._cancelled_one()


class VirtualClock:
    """Emulated time, moved only by ``advance`` (module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, start: float = 0.0) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self._now = start
        self._heap: list[tuple[float, int, VirtualTimer]] = []
        self._order = itertools.count()  # equal deadlines run in the order they were set
        self._cancelled = 0  # timers in the heap that were cancelled
        self._advancing = False

    def time(self) -> float:
        return self._now

    def time_ns(self) -> int:
        return round(self._now * 1e9)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = VirtualTimer(when, callback)
        if when <= self._now and not self._advancing:
            # Due already, and set between steps (by a message that arrived, by an
            # operation): it runs now, as ``call_soon``'s callback would. Parked for the
            # next ``advance`` it would wait for a step that the region takes only once
            # quiet, and a speaker whose work waits on it is not quiet: a deadlock (a
            # live region stuck 0.8 ms behind its shards until the command timed out).
            self.loop.call_soon(self._fire, timer)
            return timer
        timer.clock = self
        heapq.heappush(self._heap, (when, next(self._order), timer))
        return timer

    def _cancelled_one(self) -> None:
        """A timer in the heap was cancelled. Once they are half of it, they go: a session
        re-arms its timer at every keepalive, and each cancelled one holds some 180 B
        (with its callback) until its deadline, which may be a hold time away. In place,
        as ``advance`` holds the list; the order of what is left is kept (deadline, then
        the order set)."""
        self._cancelled += 1
        heap = self._heap
        if self._cancelled > 64 and 2 * self._cancelled > len(heap):
            heap[:] = [entry for entry in heap if not entry[2].cancelled]
            heapq.heapify(heap)
            self._cancelled = 0

    @staticmethod
    def _fire(timer: VirtualTimer) -> None:
        if not timer.cancelled:
            timer.callback()

    def call_soon(self, callback: Callable[[], None]) -> Timer:
        if self._advancing:
            return self.call_at(self._now, callback)  # at the asking timer's time
        return self.loop.call_soon(callback)

    def next_deadline(self) -> float | None:
        """When the earliest timer is due (None: no timer set)."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)[2].clock = None
            self._cancelled -= 1
        return heap[0][0] if heap else None

    def advance(self, to: float) -> int:
        """Run every timer due by ``to`` in deadline order (including those the callbacks
        set), each at its own deadline, then stand at ``to`` (never backwards). Returns
        how many ran."""
        ran = 0
        heap = self._heap
        self._advancing = True
        try:
            while heap and heap[0][0] <= to:
                when, _, timer = heapq.heappop(heap)
                timer.clock = None
                if timer.cancelled:
                    self._cancelled -= 1
                    continue
                self._now = max(self._now, when)
                timer.callback()
                ran += 1
        finally:
            self._advancing = False
        self._now = max(self._now, to)
        return ran


__all__ = ["Clock", "LoopClock", "Timer", "VirtualClock", "VirtualTimer"]
