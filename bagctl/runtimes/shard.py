"""The speakers of a region that run in one process: built, started, acted on, observed.

A ``Region`` (runtimes/region.py) runs one or more shards: all its speakers in this
process, one shard per worker process, or one per container. A shard knows nothing of
the other shards except which neighbors live there: with the in-memory transport those
sessions still run over real TCP (``Speaker.tcp_neighbors``), every other one in memory.

Every method here is one operation of the shard interface: the typed requests of
runtimes/protocol.py each call exactly one, whether the shard is in this process or
behind a pipe or a broker.

**Time.** Every speaker of a shard runs on the shard's clock (``speakers.clock``). With
the region's clock (``ShardSpec.clock == "region"``) that is a ``VirtualClock`` that only
``advance`` moves, on the region's say (runtimes/region.py): the region moves every
shard's clock to the same instant, and only when nothing is in flight anywhere, so no
timer fires because the host fell behind. With the host's clock, time is the loop's.

What a shard says about itself (snapshots, reports, the sessions it lost) is in
runtimes/records.py.
"""

from __future__ import annotations

import asyncio
import random
import resource
import time
from collections.abc import Callable

from speakers.clock import Clock, LoopClock, VirtualClock
from speakers.fib import FibChange, NextHopGroup
from speakers.memnet import MemoryNetwork
from speakers.neighbor import UpdateTally
from speakers.rib.interning import Interner
from speakers.session import SessionDown, SessionEstablished, SessionEvent, State, StateChanged
from speakers.speaker import Speaker
from speakers.transport.barrier import StepBarrier
from speakers.views import weights_by_name
from speakers.watch import Watches
from speakers.wire import Prefix

from .gctune import settle
from .memory import rss_kb
from .records import (
    ChangeStream,
    FibCounters,
    SessionLoss,
    ShardReport,
    ShardSnapshot,
    ShardSpec,
    ShardStats,
    check_clock,
    check_transport,
)

FIB_CHANGE_LOG = 64  # per switch: recent changes, for a look after the fact
CHANGE_RECORD = 200_000  # FIB changes of one operation kept for the verifier's transients


class Shard:
    """Speakers of one region in this process (module docstring). ``on_wake`` is called
    whenever something happened that may change the shard's snapshot."""

    def __init__(self, spec: ShardSpec, on_wake: Callable[[], None] | None = None) -> None:
        self.spec = spec
        self.configs = spec.configs
        self.transport = check_transport(spec.transport)
        self.names = spec.names
        loop = asyncio.get_running_loop()
        self.virtual: VirtualClock | None = (
            VirtualClock(loop) if check_clock(spec.clock) == "region" else None
        )
        self.clock: Clock = self.virtual if self.virtual is not None else LoopClock(loop)
        # Where sessions to other processes cross the region's steps (transport/barrier.py).
        self.barrier = StepBarrier() if self.virtual is not None else None
        self.network: MemoryNetwork | None = None
        self.speakers: dict[str, Speaker] = {}
        self.interner = Interner()  # route records shared by this shard's speakers
        # Kept as things happen, not walked at each step (speakers/watch.py):
        self.tally = UpdateTally()  # UPDATE counts
        self.watches: Watches[Speaker] = Watches()  # speakers maybe busy or with work due
        self.down: set[tuple[str, str]] = set()  # (speaker, neighbor) ends taken down
        self.hung: set[str] = set()  # speakers frozen anywhere in the region (``freeze``)
        self.counters = FibCounters()
        # (at_ns, node, prefix, old, new) since the last begin: the FIB change stream, for
        # finding transient loops and black holes (bagctl.verify.transients)
        self.changes: list[tuple[int, str, Prefix, NextHopGroup | None, NextHopGroup | None]] = []
        self.changes_dropped = 0
        self.activity = 0
        self.dirty: set[str] = set()  # speakers whose FIB or sessions changed (take_dirty)
        self._rng = random.Random(spec.seed)
        self._on_wake = on_wake
        self._lags: list[float] = []  # test hook (``lag``): stalls still to come
        self._lag_busy = False  # (spent spinning, not asleep)
        self._tcp_ends: tuple[list[tuple[str, str]], bool] | None = None  # (``bytes_in_flight``)
        # ``ends`` changes only with a session up or down, a link or a restart: counted then
        self._sessions_epoch = 0
        self._ends: tuple[int, tuple[int, int]] | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def _make(
        self, name: str, preserved: list[tuple[Prefix, NextHopGroup]] | None = None
    ) -> Speaker:
        config = self.configs[name]
        tcp = frozenset(nb.name for nb in config.neighbors if nb.name in self.spec.remote)
        speaker = Speaker(
            config,
            rng=random.Random(self._rng.random()),
            clock=self.clock,
            network=self.network,
            tcp_neighbors=tcp if self.network is not None else frozenset(),
            # The shard follows every FIB change (``on_fib``): a long log would only hold
            # thousands of old groups alive.
            fib_change_log=FIB_CHANGE_LOG,
            barrier=self.barrier,
            preserved_fib=preserved,
            interner=self.interner,
            tally=self.tally,
            watches=self.watches,
        )
        wake = self._on_wake

        # Once per UPDATE's FIB changes in the region (they share one instant): kept lean.
        def on_fib(changes: tuple[FibChange, ...]) -> None:
            self.dirty.add(name)
            c, count = self.counters, len(changes)
            c.fib_changes += count
            at_ns = changes[-1].at_ns
            if at_ns > c.last_fib_ns:
                c.last_fib_ns = at_ns
            c.last_fib_wall_ns = time.monotonic_ns()
            c.prefixes.update(ch.prefix for ch in changes)
            room = max(0, CHANGE_RECORD - len(self.changes))
            self.changes += [(ch.at_ns, name, ch.prefix, ch.old, ch.new) for ch in changes[:room]]
            self.changes_dropped += max(0, count - room)
            self.activity += count
            for _ in range(min(count, len(self._lags))):  # (one per change: ``lag``)
                stall = _spin if self._lag_busy else time.sleep
                asyncio.get_running_loop().call_soon(stall, self._lags.pop())
            if wake is not None:
                wake()

        def on_session_event(peer: str, event: SessionEvent) -> None:
            if type(event) is not StateChanged:
                self.activity += 1
                if isinstance(event, SessionEstablished | SessionDown):
                    self.dirty.add(name)
                    self._sessions_epoch += 1
                if isinstance(event, SessionDown) and event.was_established:
                    cause = event.reason.value
                    if event.notification is not None:
                        cause += f": {event.notification}"
                    loss = SessionLoss(name, peer, cause, self.clock.time())
                    self.counters.losses.append(loss)
            if wake is not None:
                wake()

        speaker.fib_table.subscribe_batches(on_fib)
        speaker.activity.append(self._poke)
        speaker.session_events.append(on_session_event)
        return speaker

    def _poke(self) -> None:
        if self._on_wake is not None:
            self._on_wake()

    def _wake(self) -> None:
        self.activity += 1
        self._poke()

    async def listen(self, originate: bool = True) -> None:
        """Build every speaker, bind its listeners and (unless ``originate`` is False)
        originate its routes; no session starts yet, so that no first dial anywhere in the
        region is refused."""
        if self.transport == "memory":
            self.network = MemoryNetwork(asyncio.get_running_loop(), self.clock)
            self.network.on_quiet = self._poke
        self.speakers = {name: self._make(name) for name in self.configs}
        self._sessions_epoch += 1
        for speaker in self.speakers.values():
            await speaker.listen(originate=originate)

    def originate(self) -> None:
        """Every speaker originates its configured routes (after ``listen(False)``)."""
        for speaker in self.speakers.values():
            speaker.originate_configured()
        self._wake()

    def start_sessions(self) -> None:
        for speaker in self.speakers.values():
            speaker.start_sessions()

    def advance(self, to: float) -> None:
        """Move the shard's emulated clock to ``to``, running every timer due by then
        (the region calls this only when nothing is in flight anywhere)."""
        if self.virtual is None or self.barrier is None:
            raise ValueError("this shard runs on the host's clock: it cannot be advanced")
        self.barrier.admit()  # what TCP brought during the last step, in a fixed order
        self.barrier.stepping = True  # what this step writes to TCP leaves at its end
        if self.virtual.advance(to):
            self._wake()

    def settle(self) -> None:
        """After the cold start: the survivors out of the collector's sight (gctune)."""
        settle()

    def close(self) -> None:
        for speaker in self.speakers.values():
            speaker.close()

    # --- actions (each on this shard's ends only) -------------------------------------

    def speaker(self, node: str) -> Speaker:
        try:
            return self.speakers[node]
        except KeyError:
            raise KeyError(f"no BGP speaker {node!r} here") from None

    def link_down(self, node: str, peer: str) -> None:
        self.speaker(node).link_down(peer)
        self.down.add((node, peer))
        self._sessions_epoch += 1
        self._wake()

    def link_up(self, node: str, peer: str) -> None:
        self.down.discard((node, peer))
        self._sessions_epoch += 1
        self.speaker(node).link_up(peer)
        self._wake()

    def set_capacity(self, node: str, peer: str, capacity_bps: float) -> None:
        self.speaker(node).set_link_capacity(peer, capacity_bps)
        self._wake()

    def configure(self, node: str, change: Callable[[Speaker], object]) -> None:
        """Change what one switch does at run time: drain it, make it announce or withdraw
        a prefix, change its link-bandwidth policy (the request says which, protocol.py)."""
        change(self.speaker(node))
        self._wake()

    async def restart(self, node: str, graceful: bool = False) -> None:
        """A fresh BGP process for the switch; its links down stay down. Plain: a Cease to
        every neighbor as its routes leave the FIB (recorded as FIB changes). Graceful (RFC
        4724): no NOTIFICATION, and the new one forwards on the old FIB (speakers/graceful.py)."""
        if self.barrier is not None:
            self.barrier.release()  # between steps: what the last one held leaves first
        old = self.speaker(node)
        preserved = old.fib_table.entries() if graceful else None
        if graceful:
            old.close()
        else:  # (cleared again after: nothing installed while the Ceases went out stays)
            old.fib_table.clear()
            await old.stop("restarting")
            old.fib_table.clear()
        self.tally.detach(old.neighbors.values())  # (and ``_current`` forgets it)
        new = self.speakers[node] = self._make(node, preserved)
        self._sessions_epoch += 1
        await new.listen()
        new.start_sessions(skip={peer for n, peer in self.down if n == node})
        self._wake()

    # --- test hooks -------------------------------------------------------------------

    def lag(self, seconds: float, times: int, busy: bool = False) -> None:
        """Block this process's event loop for ``seconds`` at each of the next ``times``
        FIB changes, mid-convergence, as a host too busy to keep up would: on the region's
        clock no protocol timer may notice (runtimes/timekeeping.py). ``busy``: spinning
        on the CPU, as a long step does, rather than asleep."""
        if seconds < 0 or times < 0:
            raise ValueError(f"lag {seconds} s x{times}: neither may be negative")
        self._lags, self._lag_busy = [seconds] * times, busy

    def freeze(self, node: str) -> None:
        """``node`` hangs: it acts on nothing and sends nothing, its sessions left open;
        only its neighbors' hold timers can tell (``Speaker.freeze``). Every shard hears
        of it: no session end at or toward it is expected up again."""
        self.hung.add(node)
        self._sessions_epoch += 1
        if node in self.speakers:
            self.speakers[node].freeze()
        self._wake()

    # --- observation --------------------------------------------------------------------

    def _current(self, speaker: Speaker) -> bool:  # (not a restarted switch's old instance)
        return self.speakers.get(speaker.config.name) is speaker

    def busy(self) -> bool:
        if self.network is not None and self.network.in_flight:
            return True
        return self.watches.busy.any(lambda s: self._current(s) and s.busy())

    def ends(self) -> tuple[int, int]:
        """(session ends Established, session ends expected up) over this shard."""
        if self._ends is not None and self._ends[0] == self._sessions_epoch:
            return self._ends[1]
        up = expected = 0
        for name, speaker in self.speakers.items():
            for peer, nb in speaker.neighbors.items():
                if (name, peer) in self.down or name in self.hung or peer in self.hung:
                    continue
                expected += 1
                if nb.peer.primary.state is State.ESTABLISHED:
                    up += 1
        self._ends = (self._sessions_epoch, (up, expected))
        return up, expected

    def update_balance(self) -> tuple[int, int]:
        """(UPDATEs sent, UPDATEs received) over the current sessions of this shard."""
        return self.tally.session_updates_out, self.tally.session_updates_in

    def bytes_in_flight(self) -> int:
        """Bytes on their way over this shard's TCP connections, seen from its ends (the
        in-memory network's are ``busy``): the barrier's count where they all have one
        (``StepBarrier.in_flight``: no walk), else each ``PeerTransport``'s, summed."""
        if self._tcp_ends is None:  # (looked for once, not at every step)
            tcp, remote, speakers = self.network is None, self.spec.remote, self.speakers
            ends = [(n, p) for n, s in speakers.items() for p in s.neighbors if tcp or p in remote]
            barred = all(speakers[n].inputs is not None for n, _ in ends)
            self._tcp_ends = (ends, barred and self.barrier is not None)
        ends, barred = self._tcp_ends
        if barred and self.barrier is not None:
            return self.barrier.in_flight()
        nbs = [self.speakers[n].neighbors[p].transport for n, p in ends]
        return sum(t.bytes_in_flight() for t in nbs if t is not None)

    def work_due(self) -> float | None:
        due = self.watches.due.earliest(lambda s: s.work_due() if self._current(s) else None)
        arrived = None if self.barrier is None else self.barrier.due()
        if arrived is not None and (due is None or arrived < due):
            due = arrived  # input for the next step, due when it is handed on
        return due

    def next_deadline(self) -> float | None:
        """The next timer due here, or input waiting for the next step (None: neither)."""
        if self.virtual is None or self.barrier is None:
            return None
        due = [t for t in (self.virtual.next_deadline(), self.barrier.due()) if t is not None]
        return min(due, default=None)

    def updates_sent(self) -> int:
        return self.tally.updates_out

    def snapshot(self, release: bool = False) -> ShardSnapshot:
        """What the region's waves read (runtimes/timekeeping.py). ``release``: the last
        step is over in every shard, what it wrote to TCP may leave (transport/barrier.py)."""
        if release and self.barrier is not None:
            self.barrier.release()
        up, expected = self.ends()
        sent, received = self.update_balance()
        return ShardSnapshot(
            busy=self.busy(),
            ends_up=up,
            ends_expected=expected,
            session_updates_out=sent,
            session_updates_in=received,
            activity=self.activity,
            updates_sent=self.updates_sent(),
            bytes_in_flight=self.bytes_in_flight() if self.virtual is not None else 0,
            now=self.clock.time(),
            next_deadline=self.next_deadline(),
            work_due=self.work_due(),
        )

    def begin(self) -> int:
        """Start counting an operation's FIB changes; the UPDATEs sent so far."""
        self.counters = FibCounters()
        self.changes = []
        self.changes_dropped = 0
        return self.updates_sent()

    def report(self) -> ShardReport:
        c = self.counters
        return ShardReport(
            fib_changes=c.fib_changes,
            last_fib_ns=c.last_fib_ns,
            last_fib_wall_ns=c.last_fib_wall_ns,
            prefixes=tuple(sorted(str(p) for p in c.prefixes)),
            updates_sent=self.updates_sent(),
            losses=tuple(c.losses),
        )

    def take_dirty(self) -> frozenset[str]:
        """The speakers whose FIB or sessions changed since the last call."""
        dirty, self.dirty = self.dirty, set()
        return frozenset(dirty)

    def change_stream(self) -> ChangeStream:
        """The FIB changes recorded since ``begin`` (``ChangeStream``)."""
        names = self.names

        def weights(group: NextHopGroup | None) -> dict[str, int] | None:
            return None if group is None else weights_by_name(group, names)

        rows = tuple(
            (at_ns, node, str(prefix), weights(old), weights(new))
            for at_ns, node, prefix, old, new in self.changes
        )
        return ChangeStream(rows, self.changes_dropped)

    def stats(self) -> ShardStats:
        usage, speakers = resource.getrusage(resource.RUSAGE_SELF), self.speakers.values()
        return ShardStats(
            speakers=len(speakers),
            fib_entries=sum(len(s.fib_table) for s in speakers),
            peak_rss_kb=usage.ru_maxrss,
            rss_kb=rss_kb(),
            rib_in_paths=sum(len(nb.adj_in) for s in speakers for nb in s.neighbors.values()),
            cpu_s=usage.ru_utime + usage.ru_stime,
        )


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


__all__ = ["FibCounters", "Shard"]
