"""``Speaker``: the asyncio shell that wires one BGP speaker's parts together.

The parts, each in its own module and free of I/O:

- ``neighbor.py``: what is kept per configured neighbor (session, Adj-RIBs, counters);
- ``routes.py``: Loc-RIB, FIB and aggregates, and the one path every route change takes
  through them; ``origination.py`` builds our own paths (originated and aggregate);
- ``policy.py``: import and export policy, pure functions;
- ``export.py``: when the next export flush is due, and the UPDATEs it sends each
  neighbor (packed, with what the flush shares between neighbors);
- ``inbound.py``: what each session event does to the parts (and maximum-prefix);
- ``views.py``: the JSON views (``sessions()``, ``rib()``, ``fib()``).

What is left here: the listeners and the ``PeerTransport`` per neighbor (the asyncio
adapters of ``transport.py``), the session events they report (handed to
``inbound.apply_event`` and to observers), and the one timer that runs the export
flush: after the input burst is processed (``Clock.call_soon``), or after ``mrai_s``. So
one burst of input becomes a few messages, not one per prefix. Every timer and timestamp
is the speaker's ``clock``'s (``clock.py``): the host's by default, or a region's emulated time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from functools import partial

from . import graceful, views
from .aggregate import aggregate_problems
from .clock import Clock, LoopClock, Timer
from .config import SpeakerConfig
from .export import Exporter, ExportQueue
from .fib import NextHopGroup
from .inbound import apply_event
from .memnet import MemoryNetwork
from .neighbor import Neighbor, UpdateTally
from .packing import framed
from .policy import DrainMethod, ExportSettings
from .rib.interning import Interner
from .routes import Routes
from .session import Session, SessionEvent
from .transport import Endpoint, Listener, PeerTransport
from .transport.barrier import StepBarrier
from .transport.inputs import InputQueue
from .ucmp import ReadvertiseMode
from .watch import Watches
from .wire import CeaseSubcode, Prefix
from .wire.prefix import IPAddress

__all__ = ["DrainMethod", "Neighbor", "Speaker"]

log = logging.getLogger("speakers.speaker")


class Speaker:
    """One BGP speaker (module docstring). ``start()`` binds and dials; ``stop()`` sends
    each neighbor a Cease/Administrative Shutdown with the reason and closes."""

    def __init__(
        self,
        config: SpeakerConfig,
        *,
        rng: random.Random | None = None,
        clock: Clock | None = None,
        network: MemoryNetwork | None = None,
        tcp_neighbors: frozenset[str] = frozenset(),
        fib_change_log: int = 1 << 17,
        barrier: StepBarrier | None = None,
        preserved_fib: Iterable[tuple[Prefix, NextHopGroup]] | None = None,
        interner: Interner | None = None,
        tally: UpdateTally | None = None,
        watches: Watches[Speaker] | None = None,
    ) -> None:
        """``preserved_fib``: the forwarding state a previous instance left behind (a
        graceful restart, graceful.py); ``interner``: route records shared in a process;
        ``tally``, ``watches``: a shard's, so its looks walk no speakers (watch.py)."""
        if preserved_fib is not None and not config.graceful_restart.enabled:
            raise ValueError(f"{config.name}: graceful restart is not enabled")
        self.config = config
        self.barrier = barrier  # a region's steps, for TCP sessions (transport/barrier.py)
        self.clock: Clock = clock if clock is not None else LoopClock()
        self.network = network  # None: real TCP sockets; else an in-memory network
        # With a network: the neighbors that still run over real TCP because they live in
        # another process (a sharded region's sessions between workers).
        self.tcp_neighbors = tcp_neighbors
        self._rng = rng or random.Random()
        restarting = preserved_fib is not None
        self.neighbors = {
            nb.name: Neighbor.configured(nb, config, self._rng, restarting)
            for nb in config.neighbors
        }
        # Every neighbor's UPDATE counts (a shard's: all its speakers'), as they happen.
        self.tally = tally if tally is not None else UpdateTally()
        self.watches: Watches[Speaker] = watches if watches is not None else Watches()
        self.stale_sweeps: dict[int, graceful.StaleRoutes] = {}  # by id (``work_due``)
        for nb in self.neighbors.values():
            nb.tally = self.tally
        for where, problem in aggregate_problems(config.aggregates, self.neighbors):
            raise ValueError(f"{config.name}: {where}: {problem}")
        self.exports = ExportQueue(config.mrai_s, self._rng)
        self.routes = Routes(
            config, self.neighbors, self.exports, self.schedule_flush, self.clock.time_ns,
            fib_change_log, interner,
        )  # fmt: skip
        # A graceful restart: the FIB as the last instance left it (``graceful.Deferral``).
        self.restarting = restarting
        self.deferral: graceful.Deferral | None = None
        if preserved_fib is not None:
            self.routes.preserve_fib(preserved_fib)
        self.exporter = Exporter(
            self.routes.loc_rib,
            self.routes.aggregates,
            ExportSettings(config.asn, config.next_hop_ipv6),
            self.routes.interner,
        )
        # The routing state, under the names bagctl and the tests use.
        self.loc_rib = self.routes.loc_rib
        self.fib_table = self.routes.fib
        self.aggregates = self.routes.aggregates
        self.local = self.routes.local
        self._listeners: dict[tuple[IPAddress, int, bool], Listener] = {}
        self._dials: set[asyncio.Task[None]] = set()  # every neighbor's dial under way
        # The delay model (transport/inputs.py), when the configuration sets one.
        delays = config.processing_s > 0 or any(nb.latency_s > 0 for nb in config.neighbors)
        self.inputs = InputQueue(config.processing_s) if delays else None
        if self.inputs is not None:
            self.inputs.on_turn = self._exports_turn
            self.routes.backlog = self.inputs.backlog  # changes kept for the turn
            self.inputs.on_wait = partial(self.watches.due.mark, self)  # (``work_due``)
        self._flush_handle: Timer | None = None
        self._flush_at: float | None = None  # when an MRAI-delayed flush is due
        self._held = False  # a flush held back until the input backlog is read
        # Observers: every RouteChange, any input processed (quiescence), and every
        # session event (with the neighbor's name).
        self.route_events = self.routes.route_events
        self.activity: list[Callable[[], None]] = []
        self.session_events: list[Callable[[str, SessionEvent], None]] = []
        self.started = False

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """``listen()`` then ``start_sessions()``."""
        await self.listen()
        self.start_sessions()

    async def listen(self, originate: bool = True) -> None:
        """Bind the listeners and originate (else ``originate_configured`` later), starting
        no session: a region starts every listener before any session dials."""
        listeners: dict[tuple[IPAddress, int, bool], Listener] = {}
        address, port = self.config.listen_address, self.config.listen_port
        listeners[(address, port, self.network is None)] = Listener(address, port, self.network)
        for nb in self.neighbors.values():
            network = None if nb.config.name in self.tcp_neighbors else self.network
            key = (nb.config.local_address, self.config.listen_port, network is None)
            listener = listeners.setdefault(key, Listener(*key[:2], network))
            c = nb.config
            endpoint = Endpoint(
                c.local_address, c.address, c.port, c.md5_password, ttl_security=c.ttl_security
            )
            nb.transport = PeerTransport(
                nb.peer, endpoint, self._handler(nb), self.clock, network, self._on_activity,
                self.inputs, nb.config.latency_s, self.barrier,
            )  # fmt: skip
            nb.transport.dials = self._dials  # what ``busy`` looks at, not every neighbor
            listener.peers[nb.config.address] = nb.transport
        for listener in listeners.values():
            await listener.start()
        self._listeners = listeners
        self.started = True
        if originate:
            self.originate_configured()

    def originate_configured(self) -> None:
        """Originate the configured routes (``listen`` does it unless told not to)."""
        for item in self.config.originate:
            self.routes.originate(item.prefix, item.bandwidth_bps, item.communities)

    def start_sessions(self, skip: Collection[str] = ()) -> None:
        """Start every neighbor's session but those in ``skip`` (links known down)."""
        if self.restarting and self.deferral is None:
            self.deferral = graceful.Deferral(self)
            self.watches.due.mark(self)
        for nb in self.neighbors.values():
            assert nb.transport is not None
            if nb.name not in skip:
                nb.transport.start()

    @property
    def listen_port(self) -> int:
        """The port actually bound (useful when the config asked for port 0)."""
        main = self._listeners.get(
            (self.config.listen_address, self.config.listen_port, self.network is None)
        )
        return main.port if main is not None else self.config.listen_port

    async def stop(self, reason: str = "speaker shutting down") -> None:
        """Graceful shutdown: Cease/Administrative Shutdown with ``reason`` (RFC 8203) to
        every neighbor, then close everything once each peer has closed its side (or its
        grace period has passed)."""
        for nb in self.neighbors.values():
            if nb.transport is not None:
                nb.transport.stop(reason, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN)
        # Each Cease goes out, then a FIN; the peers close their side (each within the
        # grace period of ``_Protocol.finish``), so every one of them reads its Cease.
        await asyncio.gather(
            *(nb.transport.wait_finished() for nb in self.neighbors.values() if nb.transport)
        )
        self.close()

    def close(self) -> None:
        graceful.stop_timers(self)
        self.watches.forget(self)
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = self._flush_at = None
        for nb in self.neighbors.values():
            if nb.transport is not None:
                nb.transport.close()
        for listener in self._listeners.values():
            listener.close()
        self.started = False

    # --- control (used by runtimes and the CLI) -------------------------------------------

    def neighbor(self, name: str) -> Neighbor:
        try:
            return self.neighbors[name]
        except KeyError:
            raise KeyError(f"{self.config.name}: no neighbor {name!r}") from None

    def neighbor_down(self, name: str, reason: str = "link administratively down") -> None:
        """Admin down: Cease/Administrative Shutdown now (fast external fallover)."""
        nb = self.neighbor(name)
        if nb.transport is not None:
            nb.transport.stop(reason, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN)

    def neighbor_up(self, name: str) -> None:
        nb = self.neighbor(name)
        if nb.transport is not None:
            nb.transport.start()

    def set_link_capacity(self, name: str, capacity_bps: float) -> None:
        """Members of the bundle to ``name`` went down or came back: the capacity we cap
        and attach link bandwidth by changes, so re-export to that neighbor."""
        nb = self.neighbor(name)
        nb.config = replace(nb.config, link_capacity_bps=capacity_bps)
        self.reexport([nb])
        self.routes.sync_aggregates()  # each neighbor's share is capped by its link

    def set_export_mode(self, mode: ReadvertiseMode, neighbor: str | None = None) -> None:
        """Attach link bandwidth by ``mode`` toward ``neighbor`` or all from now on (a route
        map changed at run time; ``routes.reweigh`` changes how missing values weigh)."""
        targets = [self.neighbor(neighbor)] if neighbor else list(self.neighbors.values())
        if mode is ReadvertiseMode.FIXED:
            raise ValueError("mode 'fixed' needs a value: configure it, not at run time")
        for nb in targets:
            nb.config = replace(nb.config, export=replace(nb.config.export, link_bandwidth=mode))
        self.reexport(targets)

    def drain(
        self, method: DrainMethod = DrainMethod.LINK_BANDWIDTH_ZERO, prepend: int = 3
    ) -> None:
        """Move traffic off this switch without withdrawing anything (``DrainMethod``)."""
        settings = self.exporter.settings
        self.exporter.settings = replace(settings, drain=method, drain_prepend=prepend)
        self.reexport(self.neighbors.values())

    def undrain(self) -> None:
        self.exporter.settings = replace(self.exporter.settings, drain=None)
        self.reexport(self.neighbors.values())

    def reexport(self, neighbors: Iterable[Neighbor]) -> None:
        """Send ``neighbors`` our whole table again (what they are sent has changed)."""
        for nb in neighbors:
            negotiated = nb.peer.primary.negotiated
            if negotiated is not None:
                self.exports.refresh(nb.config.name, negotiated.families)
        self.schedule_flush()

    def link_down(self, name: str) -> None:
        """The link to ``name`` failed: the session ends at once without a NOTIFICATION and
        stays down until ``link_up`` (fast external fallover)."""
        nb = self.neighbor(name)
        nb.link_failed = True  # routes kept for a restart would point into a dead link
        if nb.stale is not None:
            graceful.sweep(self, nb)
        if nb.transport is not None:
            nb.transport.link_down()

    def link_up(self, name: str) -> None:
        self.neighbor(name).link_failed = False
        self.neighbor_up(name)

    def drop_link(self, name: str) -> None:
        """The link fails: the TCP connection is cut with no NOTIFICATION."""
        nb = self.neighbor(name)
        if nb.transport is not None:
            nb.transport.drop()

    def busy(self) -> bool:
        """Work to do now, before time may move on: an export flush due at once (or
        changes no flush was set for), or a dial whose outcome is still to come (what it
        brings happens now, not after the next timer)."""
        if self._flush_handle is not None:
            if self._flush_at is None:
                return True
        elif self.exports.pending and not self._held and not self.deferring:
            return True  # (held: due when the backlog is read, ``work_due``)
        if self._dials:  # (asked at every step of a region's clock: no walk of neighbors)
            self._dials.difference_update([t for t in self._dials if t.done()])
        return bool(self._dials)

    def work_due(self) -> float | None:
        """When work set for later (an MRAI-held flush, a delayed message) is due, or None:
        unlike keepalives, time must reach it before the routing has settled."""
        waiting = None if self.inputs is None else self.inputs.due()
        due = [t for t in (self._flush_at, waiting) if t is not None]
        if self.deferral is not None and self.deferral.active:
            due.append(self.deferral.deadline)  # the routes are selected then at the latest
        due += [s.due for s in self.stale_sweeps.values() if s.due is not None]
        return min(due, default=None)

    def freeze(self) -> None:
        """Stop acting and sending, sessions left open (a test hook: a hung switch, which
        only its neighbors' hold timers can tell from a quiet one)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = self._flush_at = None
        self._held = False
        self.started = False  # no flush is scheduled again
        self.watches.busy.mark(self)  # (changes still pending are busy: looked at again)
        graceful.stop_timers(self)
        for nb in self.neighbors.values():
            if nb.transport is not None:
                nb.transport.freeze()

    def _on_activity(self) -> None:
        self.watches.busy.mark(self)  # a dial may have started (``busy``)
        for listener in self.activity:
            listener()

    # --- origination and queries ----------------------------------------------------------

    def originate(self, prefix: Prefix, bandwidth_bps: float | None = None) -> None:
        """Announce ``prefix`` from this speaker (at run time)."""
        self.routes.originate(prefix, bandwidth_bps)

    def withdraw_origin(self, prefix: Prefix) -> None:
        self.routes.withdraw_origin(prefix)

    def sessions(self) -> list[dict[str, object]]:
        return views.sessions_view(self.neighbors.values())

    def rib(self, prefix: Prefix | None = None) -> list[dict[str, object]]:
        return views.rib_view(self.loc_rib, prefix)

    def fib(self, prefix: Prefix | None = None) -> list[dict[str, object]]:
        return views.fib_view(self.fib_table, prefix)

    # --- export flush ---------------------------------------------------------------------

    @property
    def deferring(self) -> bool:
        """Restarting, and nothing selected into the FIB nor advertised yet (graceful.py)."""
        return self.deferral is not None and self.deferral.active

    def schedule_flush(self) -> None:
        self.watches.busy.mark(self)  # changes wait for export (``busy``)
        if self._flush_handle is not None or not self.started or self.deferring:
            return
        if self.inputs is not None and self.inputs.backlog():
            self._held = True  # the backlog first (transport/inputs.py)
            return
        self._schedule()

    def _exports_turn(self) -> None:
        """The input backlog is read (or a turn's worth): kept changes, a held flush go on."""
        self.routes.release()
        if self._held and self._flush_handle is None and self.started:
            self._schedule()

    def _schedule(self) -> None:
        self._held = False
        self.watches.busy.mark(self)
        self.watches.due.mark(self)
        clock = self.clock
        now = clock.time()
        delay = self.exports.delay_s(now)
        if delay is None:
            self._flush_handle = clock.call_soon(self._flush)
        else:
            self._flush_at = now + delay
            self._flush_handle = clock.call_at(self._flush_at, self._flush)

    def _flush(self) -> None:
        self._flush_handle = self._flush_at = None
        self.routes.release()  # (a flush due in a burst exports what the FIB has)
        dirty, refresh = self.exports.take(self.clock.time())
        for nb, messages in self.exporter.flush(self.neighbors.values(), dirty, refresh):
            assert nb.transport is not None  # flush yields neighbors with a session only
            messages, markers = framed(nb, messages)
            nb.updates_sent(max(0, nb.transport.send_updates(messages) - markers))
        self._on_activity()

    # --- session events -------------------------------------------------------------------

    def _handler(self, nb: Neighbor) -> Callable[[Session, SessionEvent], None]:
        def on_event(session: Session, event: SessionEvent) -> None:
            self._on_event(nb, session, event)

        return on_event

    def _on_event(self, nb: Neighbor, session: Session, event: SessionEvent) -> None:
        apply_event(self, nb, session, event)
        for listener in self.session_events:
            listener(nb.config.name, event)
