"""A running region: one ``Speaker`` per switch of a ``Topology``, over shards placed in
this process, in worker processes or in containers, controlled and measured as one.

``Region`` is the only implementation of the region operations, their measurement and
every query (runtimes/queries.py; the routing operations in runtimes/routing.py); where
the speakers run is its ``Placement``'s (runtimes/placement.py), reached by the typed
requests of runtimes/protocol.py. An operation returns a ``ConvergenceReport`` once the
region is quiescent (never after a sleep); a shard that dies is runtimes/supervision.py's.

**Quiescence** spans shards, so it is read in waves of snapshots (runtimes/timekeeping.py),
and so does **time**: by default every speaker runs on the region's emulated clock, moved
only at quiet moments (``fast``: straight to the next timer; ``live``: at wall rate while
the host keeps up), so nothing the protocol does depends on how busy the host is
(``clock="host"``: the loop's time). The report (runtimes/measure.py) gives both times.

**Cold start** brings every session up, then has every switch originate its routes (as
FRR's ``bgp update-delay`` holds updates until the peers are up: else the first sessions
up carry a storm of changes that the later ones undo); the report covers both. Shards
that start their speakers themselves (containers) do so on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from speakers.speaker import DrainMethod

from ..topology.configs import speaker_configs
from ..topology.failures import Failures, members_capacity
from ..topology.model import Bundle, Topology
from . import protocol as rq
from . import timekeeping
from .local import InProcess
from .measure import COLD_START, DEFAULT_TIMEOUT_S, ConvergenceReport, summarize
from .placement import Placement, ShardHandle, within
from .ports import free_on_all
from .progress import ProgressBoard, RegionProgress
from .protocol import Idle, ShardEvent
from .queries import RegionQueries
from .records import ShardSnapshot, check_clock, check_transport, shard_specs
from .routing import RegionRouting
from .supervision import Dead, isolate
from .timekeeping import Cue, Done, Pace, RegionClock, converged, keeper_ended, lookahead, settle

if TYPE_CHECKING:
    from ..mqtt.broker import BrokerUrl

log = logging.getLogger("bagctl.runtimes.region")

STALL_S = 60.0
COLD_START_TIMEOUT_S = 600.0
R = TypeVar("R")


class Region(RegionQueries, RegionRouting):
    """A region's speakers over the shards of a placement (module docstring)."""

    def __init__(
        self,
        topo: Topology,
        *,
        placement: Placement | None = None,
        transport: str = "tcp",
        port: int | None = None,
        seed: int = 1,
        on_progress: Callable[[RegionProgress], None] | None = None,
        clock: str = "region",
        pace: Pace | str = Pace.FAST,
    ) -> None:
        """``clock``: ``region`` (emulated, module docstring) or ``host``; ``pace`` of the
        region's clock: ``fast`` (tests, scenarios) or ``live`` (``bagctl up``); ``port``:
        the BGP port (None: runtimes/ports.py chooses one free on this host)."""
        self.topo = topo
        self.placement: Placement = placement if placement is not None else InProcess()
        self.transport = check_transport(transport)
        self.seed = seed
        self.clock_kind = check_clock(clock)
        self.groups = self.placement.groups(topo)
        addresses = self.placement.addresses(topo)  # None: this host's loopbacks
        if port is None:  # one free on every address it listens on here (runtimes/ports.py)
            here = addresses is None and (self.transport == "tcp" or len(self.groups) > 1)
            lo = speaker_configs(topo).values() if here else ()
            port = free_on_all(c.listen_address for c in lo)
        self.port = port
        delays = self.clock_kind == "region"  # the delay model is emulated time's
        self.configs = speaker_configs(topo, port=port, addresses=addresses, delays=delays)
        self.where = {name: i for i, names in enumerate(self.groups) for name in names}
        self.shards: list[ShardHandle] = []
        self.clock = RegionClock(Pace(pace), lookahead(self.configs.values())) if delays else None
        self._released = True  # what the last step wrote to TCP has left (``_wave``)
        self._last_look: list[ShardSnapshot] = []  # (for a timeout's log line)
        self._keeper: asyncio.Task[None] | None = None
        self._failures = Failures()
        self._idle = Cue()
        self._lost: dict[int, str] = {}
        self._dead = Dead()  # shards that died, and their switches (runtimes/supervision.py)
        self.stall_s = STALL_S  # a shard silent this long (wall) is frozen (``_look``)
        self._board = ProgressBoard(on_progress, self._sessions_expected)
        self._specs = shard_specs(self.configs, self.groups, self.transport, seed, clock)

    # --- lifecycle ----------------------------------------------------------------------

    async def broker(self) -> BrokerUrl | None:
        """The placement's own MQTT broker, if it brings one (``bagctl up`` serves there)."""
        return await self.placement.broker()

    async def start(self, timeout: float = COLD_START_TIMEOUT_S) -> ConvergenceReport:
        """Start every shard and speaker; wait for cold-start convergence."""
        if self.placement.autonomous:

            async def act() -> None:
                self.shards = await self.placement.spawn(self._specs, self)

        else:
            self.shards = await self.placement.spawn(self._specs, self)

            async def act() -> None:
                await self._all(rq.Listen(originate=False))
                await self._all(rq.StartSessions())
                await self._settle(lambda snaps: all(s.ends_up == s.ends_expected for s in snaps))
                await self._all(rq.Originate())

        report = await self._measure(COLD_START, act, timeout, locked=False)
        await self._all(rq.Settle())
        if self.clock is not None and self.clock.pace is Pace.LIVE:
            self.clock.anchor()
            self._keeper = asyncio.create_task(self._keep_time())
            self._keeper.add_done_callback(keeper_ended)
        return report

    async def aclose(self) -> None:
        self._dead.closing = True  # shards ending now are closed, not dead
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        await asyncio.gather(*(shard.close() for shard in self.shards))
        self.shards = []
        await self.placement.aclose()

    @property
    def failures(self) -> Failures:
        """What the region was told to break or drain and has not restored."""
        return self._failures

    # --- the shards' events (``placement.RegionEvents``) ----------------------------------

    def shard_event(self, index: int, event: ShardEvent) -> None:
        if isinstance(event, Idle):
            self._idle.set()
        else:
            self._board.shard(index, event)

    def shard_lost(self, index: int, why: str) -> None:
        self._lost[index] = why
        self._idle.set()  # a waiting measurement wakes, asks, and hears of it
        shard = self.shards[index] if index < len(self.shards) else None
        if shard is not None and getattr(shard, "gone", None) is not None:  # died, not frozen
            self._dead.died(shard.label, why, self.groups[index], self._isolate)

    async def _isolate(self, dead: set[str]) -> None:  # (runtimes/supervision.py)
        args = (self._shard_of, self.where, self._lost, self._clock_stands)
        await isolate(dead, self.topo.sessions(), *args)

    def placement_progress(self, done: int, total: int, what: str) -> None:
        self._board.placement(done, total, what)

    # --- reaching shards ----------------------------------------------------------------

    def live(self) -> list[tuple[int, ShardHandle]]:
        """The shards still running, by index (a lost one is left out from then on)."""
        return [(i, shard) for i, shard in enumerate(self.shards) if i not in self._lost]

    async def _all(self, request: rq.Request[R]) -> list[R]:
        return list(await asyncio.gather(*(shard.call(request) for _, shard in self.live())))

    async def _look(self, request: rq.Request[R]) -> list[R]:
        """``request`` (a wave's snapshot, a step of time) to every live shard; one silent
        for ``stall_s`` is frozen and left behind (``placement.within``)."""
        return await within(self.live(), request, self.stall_s, self.shard_lost)

    def _shard_of(self, node: str) -> ShardHandle:
        try:
            return self.shards[self.where[node]]
        except KeyError:
            raise KeyError(f"no BGP speaker {node!r} in region {self.topo.name}") from None
        except IndexError:
            raise RuntimeError(f"region {self.topo.name} is not running") from None

    async def _on_ends(self, bundle: Bundle, make: Callable[..., rq.Request[None]]) -> None:
        """The same request at both ends of ``bundle``'s session: one request if one shard
        holds both (``protocol.BOTH``). A bundle to an FDSW carries no session: its failure
        reaches no speaker, only ``failures`` (what the verifier's model counts)."""
        a, b = bundle.a, bundle.b
        if a not in self.where or b not in self.where:
            return
        shard = self._shard_of(a)
        if self.where[a] == self.where[b]:
            await shard.call(make(a, b, both=True))
        else:
            await asyncio.gather(shard.call(make(a, b)), self._shard_of(b).call(make(b, a)))

    # --- operations (each returns when the region has converged) -------------------------

    async def bundle_down(
        self, a: str, b: str, timeout: float = DEFAULT_TIMEOUT_S
    ) -> ConvergenceReport:
        bundle = self.topo.bundle(a, b)

        async def act() -> None:
            self._failures = self._failures.bundle_down(bundle)
            await self._on_ends(bundle, rq.LinkDown)

        return await self._measure(f"bundle-down {a} {b}", act, timeout, {bundle.key})

    async def bundle_up(
        self, a: str, b: str, timeout: float = DEFAULT_TIMEOUT_S
    ) -> ConvergenceReport:
        bundle = self.topo.bundle(a, b)

        async def act() -> None:
            self._failures = self._failures.bundle_up(bundle)
            await self._on_ends(bundle, rq.LinkUp)

        return await self._measure(f"bundle-up {a} {b}", act, timeout)

    async def set_members(
        self, a: str, b: str, members_up: int, timeout: float = DEFAULT_TIMEOUT_S
    ) -> ConvergenceReport:
        """``members_up`` of the bundle's members work (0 < members_up <= members)."""
        bundle = self.topo.bundle(a, b)
        capacity = members_capacity(bundle, members_up)

        async def act() -> None:
            self._failures = self._failures.with_members(bundle, members_up)
            await self._on_ends(bundle, partial(rq.SetCapacity, bps=capacity))

        return await self._measure(f"members {a} {b} {members_up}/{bundle.members}", act, timeout)

    async def drain(
        self, node: str, method: str = "link-bandwidth-zero", timeout: float = DEFAULT_TIMEOUT_S
    ) -> ConvergenceReport:
        shard = self._shard_of(node)
        DrainMethod(method)  # a bad method is refused here, by name

        async def act() -> None:
            self._failures = self._failures.drain(node, method)
            await shard.call(rq.Drain(node, method))

        return await self._measure(f"drain {node} {method}", act, timeout)

    async def undrain(self, node: str, timeout: float = DEFAULT_TIMEOUT_S) -> ConvergenceReport:
        shard = self._shard_of(node)

        async def act() -> None:
            self._failures = self._failures.undrain(node)
            await shard.call(rq.Undrain(node))

        return await self._measure(f"undrain {node}", act, timeout)

    async def restart(
        self, node: str, timeout: float = DEFAULT_TIMEOUT_S, *, graceful: bool = False
    ) -> ConvergenceReport:
        """A fresh BGP process for the switch, plainly or gracefully (``Shard.restart``)."""
        if graceful and not self.topo.defaults.graceful_restart.enabled:
            raise ValueError(f"{node}: graceful restart is off in the topology's defaults")
        shard = self._shard_of(node)

        async def act() -> None:
            self._failures = self._failures.undrain(node)  # a fresh speaker starts undrained
            await shard.call(rq.Restart(node, graceful))

        own = {b.key for b in self.topo.sessions() if node in (b.a, b.b)}
        kind = "graceful restart" if graceful else "restart"
        return await self._measure(f"{kind} {node}", act, timeout, own)

    async def flap(
        self, a: str, b: str, count: int, interval_s: float, timeout: float = DEFAULT_TIMEOUT_S
    ) -> ConvergenceReport:
        """Down and up ``count`` times, ``interval_s`` apart (on the region's clock, or the
        host's: a flap's rhythm)."""
        bundle = self.topo.bundle(a, b)

        async def act() -> float | None:
            down, began = False, list[float]()
            try:
                for i in range(count):
                    for step in (rq.LinkDown, rq.LinkUp):
                        down = step is rq.LinkDown
                        async with self._clock_stands() as at:
                            began.append(at)
                            await self._on_ends(bundle, step)
                        if step is rq.LinkDown or i < count - 1:
                            await self.wait(interval_s)
            except asyncio.CancelledError:  # cancelled, or out of time: the bundle back up
                if down:
                    async with self._clock_stands():
                        await self._on_ends(bundle, rq.LinkUp)
                raise
            return began[0] if began else None

        event, key = f"flap {a} {b} x{count}", bundle.key
        return await self._measure(event, act, timeout, {key}, locked=False)

    async def wait(self, seconds: float) -> None:
        """Let ``seconds`` of the region's time pass (a 90 s hold timer: no wall time when
        ``fast``)."""
        if self.clock is None:
            await asyncio.sleep(seconds)
        else:
            await self._settle(lambda snaps: True, until=self.clock.now + seconds)

    # --- measurement --------------------------------------------------------------------

    def _sessions_expected(self) -> int:
        return self._dead.sessions_expected(self.topo.sessions(), self._failures.down)

    def _advance_allowed(self) -> bool:  # may waiting here move the clock? (live: the keeper)
        live_keeper = self._keeper is not None and not self._keeper.done()  # (died: we move it)
        return self.clock is not None and (self.clock.pace is Pace.FAST or not live_keeper)

    def _clock_stands(self) -> contextlib.AbstractAsyncContextManager[float]:  # (an action)
        return self.clock.stands() if self.clock is not None else contextlib.nullcontext(0.0)

    async def _advance(self, to: float) -> None:
        await self._look(rq.Advance(to))
        self.clock.now = to  # type: ignore[union-attr]  # (only a region's clock advances)
        self._released = False  # every shard is done with the step: the next look releases

    async def _wave(self) -> list[ShardSnapshot]:
        release, self._released = not self._released, True
        self._last_look = await self._look(rq.Snapshot(release=release))
        return self._last_look

    async def _settle(
        self, done: Done, until: float | None = None, keeper: bool = False
    ) -> list[ShardSnapshot]:
        """Until quiet and ``done`` (runtimes/timekeeping.py), moving the region's clock
        where that is what it takes and this side may (``_advance_allowed``; the keeper
        always may); the last wave's snapshots."""
        advance = self._advance if keeper or self._advance_allowed() else None
        return await settle(
            self._wave,
            self._idle,
            self._board.wave,
            done=done,
            clock=self.clock,
            advance=advance,
            until=until,
        )

    async def _keep_time(self) -> None:
        """Live pace: move the region's clock on whenever it is quiet, for good."""
        await self._settle(lambda snaps: False, keeper=True)

    async def _measure(
        self,
        event: str,
        act: Callable[[], Awaitable[float | None]],
        timeout: float,
        may_drop: set[tuple[str, str]] | None = None,
        *,
        locked: bool = True,
    ) -> ConvergenceReport:
        """Run ``act`` and wait for the region to converge; its report. ``may_drop``: the
        bundles whose sessions the operation takes down itself (not losses);
        ``locked``: ``act`` runs whole while the region's clock stands (else it locks its
        own steps, as a flap does between its waits, and returns the instant of its first)."""
        updates0 = self._board.begin(await self._all(rq.Begin()))  # (and the progress's)
        t0, e0 = time.monotonic_ns(), self.clock.now if self.clock is not None else 0.0
        try:
            async with asyncio.timeout(timeout):
                async with self._clock_stands() if locked else contextlib.nullcontext(e0) as at:
                    began = await act()  # (unlocked: the instant of its first action)
                e0 = at if began is None else began  # (a step of time may come after t0)
                await self._settle(converged)
        except TimeoutError:  # say what was still unsettled: the region's log tells why
            keeping = self._keeper is not None and not self._keeper.done()
            why = timekeeping.unsettled(self.clock, keeping, self._last_look)
            log.warning("%s: no convergence within %g s; %s", event, timeout, why)
            raise
        t1 = time.monotonic_ns()
        e1 = self.clock.now if self.clock is not None else 0.0
        return summarize(
            event,
            await self._all(rq.Report()),
            wall=(t0, t1),
            emulated=(e0, e1) if self.clock is not None else None,
            updates_before=updates0,
            sessions_expected=self._sessions_expected(),
            may_drop=may_drop or set(),
        )

    # --- queries ------------------------------------------------------------------------

    async def status(self) -> dict[str, object]:
        snaps = await self._all(rq.Snapshot())
        lost = {self.shards[i].label: why for i, why in sorted(self._lost.items())}
        return {
            "region": self.topo.name,
            "runtime": self.placement.name,
            "speakers": len(self.configs),
            "sessions_established": sum(s.ends_up for s in snaps) // 2,
            "sessions_expected": self._sessions_expected(),
            "bundles_down": [list(key) for key in sorted(self._failures.down)],
            "transport": self.transport,
            "shards": [len(g) for g in self.groups],
            **({"shards_lost": lost} if lost else {}),
            **self._dead.status(),
            **self.placement.status(),
        }


__all__ = ["ConvergenceReport", "Region", "RegionProgress"]
