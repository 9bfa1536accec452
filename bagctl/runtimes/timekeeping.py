"""The region's clock, and waiting for the region: when it is quiet, when time may move on.

**Quiet** is read in waves of shard snapshots (runtimes/records.py). A wave finds the
region quiet when no shard is busy and as many UPDATEs (on the region's clock: bytes,
KEEPALIVEs and OPENs too) have been read as written over the current sessions; a second
wave right after must find every shard's counters unchanged (Mattern's four-counter
rule: nothing happened between the two, so at the moment between them the whole region
was quiet at once, with nothing in flight). A region of one shard needs no second wave:
its snapshot is taken in one go, between two events of its loop. A wave runs after an
operation and then whenever a shard cues that it has gone idle (runtimes/service.py).

**The region's clock** (``RegionClock``) is emulated time, one for the whole region
whatever runs its shards: every shard's clock stands at the same instant, and the
region moves them all (``Advance``) only at a quiet moment, to the next timer due
anywhere. So emulated time never moves because the host was busy: a host that falls
behind delays the next step, never a keepalive relative to a hold timer. How fast it
moves is the pace: ``fast`` jumps straight to the next timer (tests, scenarios: a 90 s
hold timer costs no wall time); ``live`` waits until the wall clock says the timer is
due, measured from the last moment the region kept up, so emulated time runs at wall
rate while the host keeps up and stretches (dilation) when it cannot. This is
conservative discrete-event simulation with a global barrier at each step, as SliceTime
(NSDI'11) synchronizes its emulated nodes in time slices, and what time dilation (Gupta
et al., NSDI'06; DieCast, NSDI'08) achieves by slowing a guest's clock: the protocol
never sees the emulator's own lateness.

**Steps.** With the delay model (speakers/transport/inputs.py) nothing a speaker does at
``t`` can reach another before ``t + lookahead``, the smallest latency plus processing
cost of any link: every timer in ``[t, t + lookahead)`` is independent of every other
speaker's in that span, so one step runs them all (the lookahead of conservative
parallel simulation, Chandy and Misra). Bytes written on the in-memory network carry
their sending time, so what crosses inside a shard arrives exactly when the model says;
between processes (TCP) a message counts from the end of the step it was sent in, at
most one lookahead late: it leaves when every shard has finished the step (the first
look after a step releases it) and is taken in at the start of the next, in a fixed
order (speakers/transport/barrier.py), so which process the host runs first changes
nothing. Without a delay model every timer is its own step.

With the host's clock (``RegionClock`` absent) time is the loop's: only UPDATEs count
for quiet (a large region always has KEEPALIVEs on the wire) and timers fire by
themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from enum import Enum

from speakers.config import SpeakerConfig

from .records import ShardSnapshot

Wave = Callable[[], Awaitable[list[ShardSnapshot]]]
Note = Callable[[list[ShardSnapshot]], None]
Done = Callable[[list[ShardSnapshot]], bool]


log = logging.getLogger("bagctl.runtimes.timekeeping")
WINDOW_EDGE_S = 1e-12  # a step stops this short of its window's end, which is excluded


class Cue:
    """A shard's word that the region may have changed (an idle cue, a shard lost). Each
    waiter waits for one given after its own last look, so one waiter's look never
    swallows a cue another still needs: with a shared ``asyncio.Event`` cleared by each
    waiter, the live keeper could wait forever for a cue an operation's wait had cleared."""

    def __init__(self) -> None:
        self.given = 0
        self._event = asyncio.Event()

    def set(self) -> None:
        self.given += 1
        self._event.set()  # wakes every waiter of now
        self._event = asyncio.Event()

    async def wait(self, seen: int) -> None:
        """Until a cue after ``seen`` (``given`` when the waiter last looked)."""
        while self.given == seen:
            await self._event.wait()


class Pace(Enum):
    FAST = "fast"  # straight to the next timer
    LIVE = "live"  # at wall rate while the region keeps up


def lookahead(configs: Iterable[SpeakerConfig]) -> float:
    """How long, at the least, between a speaker writing a message and another acting on
    it: the link's latency plus the receiver's processing cost, the smallest over every
    session (what one step of the region's clock may span, module docstring)."""
    return min((nb.latency_s + c.processing_s for c in configs for nb in c.neighbors), default=0.0)


def quiet(snaps: list[ShardSnapshot], emulated: bool) -> bool:
    """Nothing busy and nothing in flight (module docstring); one wave's view. On the
    region's clock every byte counts, and a message read but waiting out the delay
    model is not in flight: it is work due at a time (``work_due``), which the clock
    must reach."""
    if any(s.busy for s in snaps):
        return False
    if emulated:
        return not any(s.bytes_in_flight for s in snaps)
    return sum(s.session_updates_out for s in snaps) == sum(s.session_updates_in for s in snaps)


def fingerprint(snaps: list[ShardSnapshot]) -> tuple[tuple[int, ...], ...]:
    """What must not move between two quiet waves (Mattern's counters)."""
    return tuple((s.activity, s.session_updates_out, s.session_updates_in) for s in snaps)


def converged(snaps: list[ShardSnapshot]) -> bool:
    """Every expected session end up and no work held back for later (an MRAI)."""
    return all(s.ends_up == s.ends_expected and s.work_due is None for s in snaps)


def next_step(snaps: list[ShardSnapshot]) -> float | None:
    """The next timer due anywhere in the region."""
    return min((s.next_deadline for s in snaps if s.next_deadline is not None), default=None)


class RegionClock:
    """Emulated time for one region (module docstring): where it stands, its pace, and
    the lock that keeps an operation's action and a step of time apart."""

    def __init__(self, pace: Pace = Pace.FAST, lookahead_s: float = 0.0) -> None:
        self.pace = pace
        self.lookahead_s = lookahead_s
        self.now = 0.0
        self.lock = asyncio.Lock()
        self.actions = 0  # how many actions the clock has stood for, to their end (``stands``)
        self._anchor = (0.0, time.monotonic())  # (emulated, wall) when it last kept up

    @contextlib.asynccontextmanager
    async def stands(self) -> AsyncIterator[float]:
        """An action (a link down, a drain): no step of time while it runs; entered, it
        gives the instant it happens at. Counted as it ends, so that a step decided on a
        look from before it or during it (a look takes no lock) is not taken (``settle``):
        the action's work may be under way, and time must not move on before it is done."""
        async with self.lock:
            try:
                yield self.now
            finally:
                self.actions += 1

    def anchor(self) -> None:
        """Emulated time runs at wall rate from here (after a cold start, say)."""
        self._anchor = (self.now, time.monotonic())

    async def wait_for(self, step: float, cue: Cue, seen: int) -> bool:
        """Live pace: until the wall clock says ``step`` is due (False if ``cue`` came
        first: the region is no longer quiet, look again). Fast: at once."""
        if self.pace is Pace.FAST:
            return True
        emulated, wall = self._anchor
        delay = wall + (step - emulated) - time.monotonic()
        if delay < 0:  # the region fell behind: time goes on from here, not catching up
            self._anchor = (self.now, time.monotonic())
            delay = step - self.now
        if delay <= 0:
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await cue.wait(seen)
                return False
        return True


async def settle(
    wave: Wave,
    cue: Cue,
    note: Note,
    *,
    done: Done,
    clock: RegionClock | None = None,
    advance: Callable[[float], Awaitable[None]] | None = None,
    until: float | None = None,
) -> list[ShardSnapshot]:
    """Take waves until the region is quiet and ``done`` holds (and, with ``until``, the
    region's clock has reached it); the last wave. With ``advance``, time is moved on
    at quiet moments when that is what it takes (module docstring); without it (the
    host's clock, or a region whose live clock someone else moves), only waited for.
    Between waves that are not quiet, waits for a shard's ``cue`` (and ``note``s what
    the wave saw)."""
    previous = None
    while True:
        seen, acted = cue.given, clock.actions if clock is not None else 0
        snaps = await wave()
        if not snaps:
            raise RuntimeError("every shard of the region is lost (region status names why)")
        if not quiet(snaps, clock is not None):
            previous = None
            note(snaps)
            await cue.wait(seen)
            continue
        current = fingerprint(snaps)
        if current != previous and len(snaps) > 1:
            previous = current
            continue  # confirm with a second wave at once (one shard's look is atomic)
        now = snaps[0].now if clock is not None else 0.0
        reached = until is None or now >= until
        if reached and done(snaps):
            return snaps
        step = next_step(snaps) if clock is not None else None
        if step is not None and clock is not None and clock.lookahead_s > WINDOW_EDGE_S:
            # The whole window [step, step + lookahead): what is caused in it arrives at
            # step + lookahead at the earliest, after this step (module docstring).
            step += clock.lookahead_s - WINDOW_EDGE_S
        if until is not None and not reached and (step is None or step > until):
            step = until
        if clock is None or advance is None or step is None:
            previous = None
            await cue.wait(seen)  # nothing this side can do: something else must happen
            continue
        if await clock.wait_for(step, cue, seen):
            async with clock.lock:  # (an action may have come first: then look again)
                if clock.actions == acted and cue.given == seen:
                    await advance(step)
        previous = None


def keeper_ended(task: asyncio.Task[None]) -> None:
    """The live keeper's end: an error is logged (then whoever waits moves the clock)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the region's clock keeper stopped", exc_info=task.exception())


__all__ = [
    "Cue",
    "keeper_ended",
    "Pace",
    "RegionClock",
    "converged",
    "fingerprint",
    "lookahead",
    "next_step",
    "quiet",
    "settle",
]


def unsettled(clock: RegionClock | None, keeper: bool, look: Sequence[ShardSnapshot]) -> str:
    """What an operation that ran out of time left unsettled, for the region's log: the
    clock, whether a keeper moves it, and the last look at every shard."""
    when = "host clock" if clock is None else f"clock {clock.now:.6f} ({clock.pace.value})"
    shards = "; ".join(f"shard {i}: {s}" for i, s in enumerate(look)) or "none yet"
    return f"{when}, keeper {'running' if keeper else 'none'}, last look: {shards}"
