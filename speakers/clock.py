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
import time
from collections import deque
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
    """A timer of a ``VirtualClock``; cancelled ones stay where they are until they
    surface, or until they are half of what the clock holds (``_cancelled_one``)."""

    __slots__ = ("callback", "cancelled", "clock", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self.clock: VirtualClock | None = None  # while that clock holds it

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if self.clock is not None:
                self.clock._cancelled_one()


# The timers set for one deadline, in the order set: one alone (most deadlines: each
# session's keepalive), or a deque (a step's messages, often hundreds at one instant).
_Due = VirtualTimer | deque[VirtualTimer]


def _listed(held: _Due) -> list[VirtualTimer]:
    return [held] if isinstance(held, VirtualTimer) else list(held)


class VirtualClock:
    """Emulated time, moved only by ``advance`` (module docstring).

    Timers are kept by deadline: a heap of the distinct deadlines, and per deadline its
    timers in the order set. A step of a region's clock runs hundreds of timers at a
    handful of instants (z = 2 of ``bench/scale.py``: a bundle failure ran 5,497 timers at
    65 deadlines, among some 9,400 held), and a heap entry per timer cost about 2 us per
    pop in cache misses alone, sifting through a heap that size; per deadline, the heap
    moves 65 times and each timer is a deque's pop. The order is the heap of (deadline,
    order set)'s: deadlines in order, equal ones first set, first run."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, start: float = 0.0) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self._now = start
        self._deadlines: list[float] = []  # a heap, each deadline once
        self._due: dict[float, _Due] = {}
        self._held = 0  # timers held, cancelled ones too
        self._cancelled = 0  # timers held that were cancelled
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
        self._hold(timer)
        return timer

    def _hold(self, timer: VirtualTimer) -> None:
        when, due = timer.when, self._due
        held = due.get(when)
        if held is None:
            due[when] = timer
            heapq.heappush(self._deadlines, when)
        elif isinstance(held, VirtualTimer):
            due[when] = deque((held, timer))
        else:
            held.append(timer)
        self._held += 1

    def _take(self, when: float) -> VirtualTimer:
        """The first timer held for ``when`` (the earliest deadline), let go of."""
        due = self._due
        held = due[when]
        if isinstance(held, VirtualTimer):
            timer = held
            del due[when]
            heapq.heappop(self._deadlines)
        else:
            timer = held.popleft()
            if not held:
                del due[when]
                heapq.heappop(self._deadlines)
        self._held -= 1
        timer.clock = None
        return timer

    def _cancelled_one(self) -> None:
        """A timer held was cancelled. Once they are half of what is held, they go: a
        session re-arms its timer at every keepalive, and each cancelled one holds some
        180 B (with its callback) until its deadline, which may be a hold time away. The
        order of what is left is kept (deadline, then the order set)."""
        self._cancelled += 1
        if self._cancelled > 64 and 2 * self._cancelled > self._held:
            due = self._due
            timers = [t for when in sorted(due) for t in _listed(due[when])]
            due.clear()
            self._deadlines.clear()  # (in place: ``advance`` holds the list)
            self._held = self._cancelled = 0
            for timer in timers:
                if timer.cancelled:
                    timer.clock = None
                else:
                    self._hold(timer)

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
        deadlines = self._deadlines
        while deadlines:
            when = deadlines[0]
            held = self._due[when]
            first = held if isinstance(held, VirtualTimer) else held[0]
            if not first.cancelled:
                return when
            self._take(when)
            self._cancelled -= 1
        return None

    def advance(self, to: float) -> int:
        """Run every timer due by ``to`` in deadline order (including those the callbacks
        set), each at its own deadline, then stand at ``to`` (never backwards). Returns
        how many ran."""
        ran = 0
        deadlines = self._deadlines
        self._advancing = True
        try:
            while deadlines and (when := deadlines[0]) <= to:
                timer = self._take(when)
                if timer.cancelled:
                    self._cancelled -= 1
                    continue
                if when > self._now:
                    self._now = when
                timer.callback()
                ran += 1
        finally:
            self._advancing = False
        if to > self._now:
            self._now = to
        return ran


__all__ = ["Clock", "LoopClock", "Timer", "VirtualClock", "VirtualTimer"]
