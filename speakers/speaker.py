"""``Speaker``: sessions, RIB, UCMP/FIB and export policy tied together over asyncio.

Flow of one input burst: a session reports UPDATEs (``transport.py`` -> ``_on_event``);
each prefix's path goes through import policy into the Adj-RIB-In and the Loc-RIB; every
``RouteChange`` updates the FIB (UCMP weights from the multipaths' link bandwidth) and marks
the prefix dirty. Once the burst is processed (``loop.call_soon``, or after ``mrai_s``), the
dirty prefixes are exported: per established neighbor, the export policy gives the
attributes to advertise, the Adj-RIB-Out says whether anything changed, and the changes are
packed into as few UPDATEs as possible (``pack_announce``/``pack_withdraw``). So one burst of
input becomes a few messages, not one per prefix.

Export policy for eBGP (every neighbor here is eBGP): AS_PATH gets our AS prepended (plus
``prepend`` extra copies), NEXT_HOP is our address on that link, MED and LOCAL_PREF are not
passed on (RFC 4271 §5.1.4, §5.1.5), non-transitive extended communities stay in our AS
(RFC 4360 §2), unknown optional transitive attributes go on with the Partial bit, and the
link-bandwidth community is regenerated (RFC 10005 §3.3.1: the next hop changed) by the
neighbor's ``ReadvertiseMode``. A route is not sent back to the neighbor it came from, nor,
with sender-side loop detection, to a neighbor whose AS is already in its AS_PATH.

Aggregates (``config.aggregates``; semantics and cost in ``aggregate.py``): every
``RouteChange`` inside a configured aggregate updates its contributors; at the end of the
burst each touched aggregate is re-evaluated and its locally originated path installed,
rebuilt (link bandwidth changed) or withdrawn, itself a ``RouteChange`` like any other.
Its more-specifics stay in our FIB (the aggregate's best path is local, so it is not
installed: we forward by the specifics) and, with ``summary_only``, are not exported to
the neighbors the aggregate suppresses them toward.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from .aggregate import Aggregate, AggregateState, AggregateTable, aggregate_problems
from .config import NeighborConfig, SpeakerConfig
from .fib import Fib, FibChange
from .memnet import MemoryNetwork
from .rib import AdjRibIn, AdjRibOut, Advertised, LocRib, Path, PeerInfo, RouteChange, local_source
from .rib.path import LOCAL_NAME
from .session import (
    FamilyDisabled,
    RouteRefreshReceived,
    Session,
    SessionConfig,
    SessionDown,
    SessionEstablished,
    SessionEvent,
    State,
    StateChanged,
    UpdateReceived,
    UpdateWithdrawn,
)
from .session.peer import Peer
from .transport import Endpoint, Listener, PeerTransport
from .ucmp import BINARY32_MAX, readvertised_bandwidth
from .wire import (
    AS_TRANS,
    Aggregator,
    AsPath,
    CeaseSubcode,
    LinkBandwidth,
    Origin,
    PathAttributes,
    Prefix,
    Update,
    pack_announce,
    pack_announce_dual,
    pack_withdraw,
)
from .wire.communities import ExtCommunity, ExtendedCommunity
from .wire.prefix import IPAddress, IPv4Address, ipv4_mapped

log = logging.getLogger("speakers.speaker")

IPV4_UNICAST = (1, 1)
IPV6_UNICAST = (2, 1)


def _family(prefix: Prefix) -> tuple[int, int]:
    return IPV4_UNICAST if len(prefix.packed) == 4 else IPV6_UNICAST


class DrainMethod(Enum):
    """How a drained switch moves traffic off itself while keeping every route (so no
    packet is dropped on the way): both are what operators of such fabrics use.

    ``link-bandwidth-zero``: advertise link bandwidth 0 on every route (RFC 10005 §3.1:
    MAY advertise zero to drain a path); neighbors keep the path, but UCMP gives it weight
    0 while other multipaths carry bandwidth, so the traffic shifts at once and the route
    stays as a fallback. ``as-path-prepend``: prepend our AS a few more times; the longer
    path drops out of the neighbors' best path and multipath set where an equal-length
    alternative exists."""

    LINK_BANDWIDTH_ZERO = "link-bandwidth-zero"
    AS_PATH_PREPEND = "as-path-prepend"


@dataclass
class Neighbor:
    """Runtime state of one configured neighbor."""

    config: NeighborConfig
    peer: Peer
    transport: PeerTransport | None = None
    info: PeerInfo | None = None  # set once established
    adj_in: AdjRibIn = field(default_factory=AdjRibIn)
    adj_out: AdjRibOut = field(default_factory=AdjRibOut)
    established_at: float | None = None
    last_down: str = ""
    updates_in: int = 0
    updates_out: int = 0
    flaps: int = 0
    # UPDATEs over the current session only, zeroed when it is established and when it
    # goes down: summed over a region, out minus in is what is in flight (runtimes use it
    # where byte counts would include KEEPALIVEs, which change no route).
    session_updates_in: int = 0
    session_updates_out: int = 0

    @property
    def established(self) -> bool:
        return self.peer.primary.state is State.ESTABLISHED


@dataclass
class _FlushState:
    """What one export flush works out once and shares between neighbors: the aggregates
    that may suppress each prefix, each prefix's route key, the ``Advertised`` per export
    signature and route key, and the encoded UPDATEs per (codec, attributes, next hop,
    prefixes). A leaf's uplink switch exports the same routes to dozens of leaves."""

    summary: dict[Prefix, tuple[Aggregate, ...]] = field(default_factory=dict)
    keys: dict[Prefix, tuple[int, ...]] = field(default_factory=dict)
    adverts: dict[tuple[object, ...], dict[tuple[int, ...], Advertised | None]] = field(
        default_factory=dict
    )
    packed: dict[tuple[object, ...], list[bytes]] = field(default_factory=dict)


class Speaker:
    """One BGP speaker (module docstring). ``start()`` binds and dials; ``stop()`` sends
    each neighbor a Cease/Administrative Shutdown with the reason and closes."""

    def __init__(
        self,
        config: SpeakerConfig,
        *,
        rng: random.Random | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        network: MemoryNetwork | None = None,
        tcp_neighbors: frozenset[str] = frozenset(),
        fib_change_log: int = 1 << 17,
    ) -> None:
        self.config = config
        self.network = network  # None: real TCP sockets; else an in-memory network
        # With a network: the neighbors that still run over real TCP because they live in
        # another process (a sharded region's sessions between workers).
        self.tcp_neighbors = tcp_neighbors
        self._rng = rng or random.Random()
        self.loc_rib = LocRib(config.multipath)
        self.fib_table = Fib(
            config.missing_bandwidth,
            config.max_group_size,
            clock_ns,
            default_bandwidth_bytes_per_s=None
            if config.default_bandwidth_bps is None
            else config.default_bandwidth_bps / 8,
            change_log_size=fib_change_log,
        )
        self.local = local_source(config.asn, config.router_id)
        self.neighbors: dict[str, Neighbor] = {}
        for nb in config.neighbors:
            session_cfg = SessionConfig(
                local_as=config.asn,
                router_id=config.router_id,
                peer_as=nb.remote_as,
                hold_time_s=config.hold_time_s if nb.hold_time_s is None else nb.hold_time_s,
                connect_retry_s=config.connect_retry_s,
                idle_hold_s=min(1.0, config.connect_retry_s),
                passive=nb.passive,
                local_addresses=frozenset({nb.local_address}),
            )
            self.neighbors[nb.name] = Neighbor(nb, Peer(session_cfg, rng=self._rng, name=nb.name))
        for where, problem in aggregate_problems(config.aggregates, self.neighbors):
            raise ValueError(f"{config.name}: {where}: {problem}")
        self.aggregates = AggregateTable(config.aggregates)
        self._listeners: dict[tuple[IPAddress, int, bool], Listener] = {}
        self._dirty: set[Prefix] = set()
        self._flush_handle: asyncio.Handle | None = None
        self._refresh: dict[str, set[tuple[int, int]]] = defaultdict(set)
        self._last_flush = 0.0
        # Observers: every RouteChange, and every session event (name of the neighbor).
        self.drain_method: DrainMethod | None = None
        self.drain_prepend = 3
        self.route_events: list[Callable[[RouteChange], None]] = []
        self.activity: list[Callable[[], None]] = []  # any input processed (quiescence)
        self.session_events: list[Callable[[str, SessionEvent], None]] = []
        self.started = False

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """``listen()`` then ``start_sessions()``."""
        await self.listen()
        self.start_sessions()

    async def listen(self, originate: bool = True) -> None:
        """Bind the listeners and originate local routes (unless ``originate`` is False:
        then ``originate_configured`` later); no session starts yet. A region starts every
        listener before any session, so no first dial is refused."""
        loop = asyncio.get_running_loop()
        listeners: dict[tuple[IPAddress, int, bool], Listener] = {}
        address, port = self.config.listen_address, self.config.listen_port
        listeners[(address, port, self.network is None)] = Listener(address, port, self.network)
        for nb in self.neighbors.values():
            network = None if nb.config.name in self.tcp_neighbors else self.network
            key = (nb.config.local_address, self.config.listen_port, network is None)
            listener = listeners.setdefault(key, Listener(*key[:2], network))
            endpoint = Endpoint(
                nb.config.local_address, nb.config.address, nb.config.port, nb.config.md5_password
            )
            nb.transport = PeerTransport(
                nb.peer, endpoint, self._handler(nb), loop, network, self._on_activity
            )
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
            self._originate(item.prefix, item.bandwidth_bps, item.communities)

    def start_sessions(self) -> None:
        for nb in self.neighbors.values():
            assert nb.transport is not None
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
        if self._flush_handle is not None:
            self._flush_handle.cancel()
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
        self._reexport([nb])
        # An aggregate caps each neighbor's share by that link's capacity (aggregate.py).
        self._sync_aggregates([s for s in self.aggregates.states.values() if s.active])

    def drain(
        self, method: DrainMethod = DrainMethod.LINK_BANDWIDTH_ZERO, prepend: int = 3
    ) -> None:
        """Move traffic off this switch without withdrawing anything (module docstring)."""
        self.drain_method, self.drain_prepend = method, prepend
        self._reexport(self.neighbors.values())

    def undrain(self) -> None:
        self.drain_method = None
        self._reexport(self.neighbors.values())

    def _reexport(self, neighbors: Iterable[Neighbor]) -> None:
        for nb in neighbors:
            negotiated = nb.peer.primary.negotiated
            if negotiated is not None:
                self._refresh[nb.config.name] |= set(negotiated.families)
        self._schedule_flush()

    def link_down(self, name: str) -> None:
        """The link to ``name`` failed: the session ends at once without a NOTIFICATION and
        stays down until ``link_up`` (fast external fallover)."""
        nb = self.neighbor(name)
        if nb.transport is not None:
            nb.transport.link_down()

    def link_up(self, name: str) -> None:
        self.neighbor_up(name)

    def busy(self) -> bool:
        """Work queued inside the speaker: an export flush not yet run."""
        return self._flush_handle is not None or bool(self._dirty)

    def _on_activity(self) -> None:
        for listener in self.activity:
            listener()

    def drop_link(self, name: str) -> None:
        """The link fails: the TCP connection is cut with no NOTIFICATION."""
        nb = self.neighbor(name)
        if nb.transport is not None:
            nb.transport.drop()

    # --- queries --------------------------------------------------------------------------

    def sessions(self) -> list[dict[str, object]]:
        out = []
        for nb in self.neighbors.values():
            negotiated = nb.peer.primary.negotiated
            out.append(
                {
                    "neighbor": nb.config.name,
                    "address": str(nb.config.address),
                    "remote_as": nb.config.remote_as,
                    "state": nb.peer.state.value,
                    "hold_time_s": negotiated.hold_time_s if negotiated else None,
                    "prefixes_received": len(nb.adj_in),
                    "prefixes_sent": len(nb.adj_out),
                    "updates_received": nb.updates_in,
                    "updates_sent": nb.updates_out,
                    "flaps": nb.flaps,
                    "last_down": nb.last_down,
                }
            )
        return out

    def rib(self, prefix: Prefix | None = None) -> list[dict[str, object]]:
        dests = [self.loc_rib.get(prefix)] if prefix is not None else list(self.loc_rib)
        out: list[dict[str, object]] = []
        for dest in dests:
            if dest is None:
                continue
            out.append(
                {
                    "prefix": str(dest.prefix),
                    "best": dest.best.source.name if dest.best else None,
                    "reason": dest.reason,
                    "paths": [
                        {
                            "source": p.source.name,
                            "next_hop": str(p.next_hop) if p.next_hop else None,
                            "as_path": str(p.attributes.as_path or ""),
                            "link_bandwidth_bps": None
                            if p.link_bandwidth is None
                            else p.link_bandwidth * 8,
                            "best": p is dest.best,
                            "multipath": p in dest.multipath,
                        }
                        for p in sorted(dest.paths.values(), key=lambda p: p.source.name)
                    ],
                }
            )
        return sorted(out, key=lambda d: str(d["prefix"]))

    def fib(self, prefix: Prefix | None = None) -> list[dict[str, object]]:
        if prefix is not None:
            group = self.fib_table.lookup(prefix)
            return [] if group is None else [{"prefix": str(prefix), **group.describe()}]
        return [{"prefix": str(p), **g.describe()} for p, g in self.fib_table.entries()]

    # --- origination ----------------------------------------------------------------------

    def _originate(
        self, prefix: Prefix, bandwidth_bps: float | None, communities: tuple[int, ...]
    ) -> None:
        ext: tuple[LinkBandwidth, ...] = ()
        if bandwidth_bps is not None:
            ext = (LinkBandwidth.from_bps(bandwidth_bps, self.config.asn),)
        attrs = PathAttributes(
            origin=Origin.IGP, as_path=AsPath(), communities=communities, ext_communities=ext
        )
        path = Path.build(self.local, attrs, None)
        state = self.aggregates.get(prefix)
        if state is not None:
            state.path = None  # the originated route takes the aggregate's place (same key)
        self._apply([self.loc_rib.set_path(prefix, self.local.name, path)])

    def originate(self, prefix: Prefix, bandwidth_bps: float | None = None) -> None:
        """Announce ``prefix`` from this speaker (at run time)."""
        self._originate(prefix, bandwidth_bps, ())

    def withdraw_origin(self, prefix: Prefix) -> None:
        state = self.aggregates.get(prefix)
        dest = self.loc_rib.get(prefix)
        if state is not None and dest is not None and dest.paths.get(LOCAL_NAME) is state.path:
            return  # only the aggregate is there: nothing of ours was originated
        self._apply([self.loc_rib.set_path(prefix, self.local.name, None)])
        if state is not None:
            self._sync_aggregates([state])  # the aggregate comes back if still active

    # --- aggregation (aggregate.py) -------------------------------------------------------

    def _sync_aggregates(self, states: Iterable[AggregateState]) -> None:
        self._apply([self._sync_aggregate(state) for state in states])

    def _sync_aggregate(self, state: AggregateState) -> RouteChange | None:
        """Install, rebuild or withdraw ``state``'s aggregate path to match its
        contributors; a change only when its presence or link bandwidth moved."""
        prefix = state.aggregate.prefix
        dest = self.loc_rib.get(prefix)
        current = dest.paths.get(LOCAL_NAME) if dest is not None else None
        if current is not None and current is not state.path:
            return None  # we originate this very prefix: that route stands in for it
        if not state.active:
            if state.path is None:
                return None
            state.path = state.bandwidth_bytes_per_s = None
            return self.loc_rib.set_path(prefix, LOCAL_NAME, None)
        bandwidth = state.bandwidth(self._capacity_bytes_per_s)
        if state.path is not None and bandwidth == state.bandwidth_bytes_per_s:
            return None
        path = self._aggregate_path(bandwidth)
        state.bandwidth_bytes_per_s = bandwidth
        if path == state.path:
            return None  # same binary32 value: keep the installed object (identity counts)
        state.path = path
        return self.loc_rib.set_path(prefix, LOCAL_NAME, path)

    def _aggregate_path(self, bandwidth_bytes_per_s: float | None) -> Path:
        ext: tuple[LinkBandwidth, ...] = ()
        if bandwidth_bytes_per_s is not None:
            value = min(bandwidth_bytes_per_s, BINARY32_MAX)
            ext = (LinkBandwidth.from_bytes_per_s(value, self.config.asn),)
        attrs = PathAttributes(
            # deviation (RFC 4271 §9.2.2.2): ORIGIN IGP whatever the contributors' ORIGIN
            # (every route of an emulated fabric is IGP): one fixed attribute set per value.
            origin=Origin.IGP,
            # RFC 6472: no AS_SET; the AS_PATH information is dropped, so RFC 4271 §5.1.6
            # asks for ATOMIC_AGGREGATE, and §9.2.2.2 / §5.1.7 let us name ourselves in a
            # new AGGREGATOR.
            as_path=AsPath(),
            atomic_aggregate=True,
            aggregator=Aggregator(self.config.asn, self.config.router_id),
            ext_communities=ext,
        )
        return Path.build(self.local, attrs, None)

    def _capacity_bytes_per_s(self, source: str) -> float | None:
        nb = self.neighbors.get(source)
        capacity = None if nb is None else nb.config.link_capacity_bps
        return None if capacity is None else capacity / 8

    # --- session events -------------------------------------------------------------------

    def _handler(self, nb: Neighbor) -> Callable[[Session, SessionEvent], None]:
        def on_event(session: Session, event: SessionEvent) -> None:
            self._on_event(nb, session, event)

        return on_event

    def _on_event(self, nb: Neighbor, session: Session, event: SessionEvent) -> None:
        self._route_event(nb, session, event)
        for listener in self.session_events:
            listener(nb.config.name, event)

    def _route_event(self, nb: Neighbor, session: Session, event: SessionEvent) -> None:
        if isinstance(event, UpdateReceived):
            nb.updates_in += 1
            nb.session_updates_in += 1
            self._receive(nb, event.update)
        elif isinstance(event, UpdateWithdrawn):
            nb.updates_in += 1
            nb.session_updates_in += 1
            self._withdraw(nb, [p for ps in event.update.families().values() for p in ps])
            log.warning(
                "%s: treat-as-withdraw from %s: %s", self.config.name, nb.config.name, event.error
            )
        elif isinstance(event, FamilyDisabled):
            family = (event.afi, event.safi)
            self._withdraw(nb, [p for p in nb.adj_in.prefixes() if _family(p) == family])
            log.warning(
                "%s: %s disabled family %s: %s",
                self.config.name,
                nb.config.name,
                family,
                event.error,
            )
        elif isinstance(event, SessionEstablished):
            negotiated = event.negotiated
            nb.info = PeerInfo(
                nb.config.name,
                nb.config.address,
                negotiated.peer_as,
                negotiated.peer_router_id,
                ebgp=negotiated.peer_as != self.config.asn,
            )
            nb.established_at = time.monotonic()
            nb.session_updates_in = nb.session_updates_out = 0
            nb.adj_out.clear()
            log.info("%s: session to %s established", self.config.name, nb.config.name)
            self._refresh[nb.config.name] |= set(negotiated.families)
            self._schedule_flush()
        elif isinstance(event, SessionDown):
            if event.was_established:
                nb.session_updates_in = nb.session_updates_out = 0
                nb.flaps += 1
                nb.last_down = event.reason.value + (
                    f": {event.notification}" if event.notification else ""
                )
                log.info(
                    "%s: session to %s down: %s", self.config.name, nb.config.name, nb.last_down
                )
                self._withdraw(nb, nb.adj_in.prefixes())
                nb.adj_out.clear()
                nb.info = None
        elif isinstance(event, RouteRefreshReceived):
            family = (event.message.afi, event.message.safi)
            for prefix, _ in nb.adj_out.items():
                if _family(prefix) == family:
                    nb.adj_out.set(prefix, None)
            self._refresh[nb.config.name].add(family)
            self._schedule_flush()
        elif isinstance(event, StateChanged):
            log.debug(
                "%s: %s %s -> %s (%s)",
                self.config.name,
                session.name,
                event.old.value,
                event.new.value,
                event.cause,
            )

    def _receive(self, nb: Neighbor, update: Update) -> None:
        assert nb.info is not None
        changes: list[RouteChange | None] = []
        for prefix in update.withdrawn_all:
            nb.adj_in.set(prefix, None)
            changes.append(self.loc_rib.set_path(prefix, nb.config.name, None))
        if update.announced:
            attrs = update.attributes
            ok = self._import_ok(nb, attrs)
            policy = nb.config.import_policy.prefix_list
            groups: list[tuple[tuple[Prefix, ...], IPAddress | None]] = [
                (update.nlri, attrs.next_hop)
            ]
            if update.mp_reach is not None:
                groups.append((update.mp_reach.nlri, update.mp_reach.next_hop))
            for prefixes, hop in groups:
                # One Path per next hop of the UPDATE, shared by its prefixes (a Path holds
                # no prefix): that is most of a route's memory saved.
                shared = Path.build(nb.info, attrs, hop) if ok and prefixes else None
                for prefix in prefixes:
                    path = shared if policy is None or policy.permits(prefix) else None
                    # path None: rejected by import policy, as if withdrawn (RFC 4271 §9.1.2)
                    nb.adj_in.set(prefix, path)
                    changes.append(self.loc_rib.set_path(prefix, nb.config.name, path))
        self._apply(changes)

    def _import_ok(self, nb: Neighbor, attrs: PathAttributes) -> bool:
        path = attrs.as_path
        if path is None:
            return False
        # RFC 4271 §9.1.2: a route whose AS_PATH holds our AS is excluded (AS loop), unless
        # allowas-in permits that many occurrences.
        own = sum(1 for asn in path.asns() if asn == self.config.asn)
        return own <= nb.config.import_policy.allowas_in

    def _withdraw(self, nb: Neighbor, prefixes: Iterable[Prefix]) -> None:
        changes = []
        for prefix in prefixes:
            nb.adj_in.set(prefix, None)
            changes.append(self.loc_rib.set_path(prefix, nb.config.name, None))
        self._apply(changes)

    # --- RIB -> FIB -> export -------------------------------------------------------------

    def _apply(self, changes: Iterable[RouteChange | None]) -> None:
        touched = False
        aggregates: dict[Prefix, AggregateState] = {}
        for change in changes:
            if change is None:
                continue
            touched = True
            self._update_fib(change)
            self._dirty.add(change.prefix)
            if self.aggregates:
                for state in self.aggregates.route_changed(
                    change.prefix, change.new_best, change.new_multipath
                ):
                    aggregates[state.aggregate.prefix] = state
            for listener in self.route_events:
                listener(change)
        if touched:
            self._schedule_flush()
        if aggregates:
            # Once per burst, not per prefix. Whether a contributor is suppressed follows
            # its aggregate being active, which only changes with a contributor arriving or
            # leaving: those prefixes are already dirty, so no extra export is needed.
            self._sync_aggregates(aggregates.values())

    def _update_fib(self, change: RouteChange) -> FibChange | None:
        best = change.new_best
        if best is None or best.source.local or best.next_hop is None:
            return self.fib_table.remove(change.prefix)
        members = []
        key = []
        for p in change.new_multipath:
            if p.next_hop is not None:
                members.append((p.next_hop, p.link_bandwidth))
                key.append((p.hop_key, p.link_bandwidth))
        return self.fib_table.install(change.prefix, members, tuple(key))

    def _schedule_flush(self) -> None:
        if self._flush_handle is not None or not self.started:
            return
        loop = asyncio.get_running_loop()
        mrai = self.config.mrai_s
        if mrai > 0:
            wait = max(0.0, self._last_flush + mrai * self._rng.uniform(0.75, 1.0) - loop.time())
            self._flush_handle = loop.call_later(wait, self._flush)
        else:
            self._flush_handle = loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        self._last_flush = asyncio.get_running_loop().time()
        dirty, self._dirty = self._dirty, set()
        refresh, self._refresh = self._refresh, defaultdict(set)
        flush = _FlushState()
        ordered = sorted(dirty)
        for nb in self.neighbors.values():
            if not nb.established or nb.transport is None or nb.info is None:
                continue
            families = refresh.get(nb.config.name, set())
            prefixes: Iterable[Prefix] = ordered
            if families:
                more = {d.prefix for d in self.loc_rib if _family(d.prefix) in families}
                more |= {p for p, _ in nb.adj_out.items() if _family(p) in families}
                prefixes = sorted(more.union(dirty))
            self._export_to(nb, prefixes, flush)
        self._on_activity()

    def _export_to(self, nb: Neighbor, prefixes: Iterable[Prefix], flush: _FlushState) -> None:
        """Send ``nb`` what changed among ``prefixes`` (sorted), with what this flush has
        already worked out for other neighbors (``_FlushState``)."""
        assert nb.transport is not None
        negotiated = nb.peer.primary.negotiated
        if negotiated is None:
            return
        announce: dict[tuple[PathAttributes, IPAddress], list[Prefix]] = defaultdict(list)
        withdraw: dict[tuple[int, int], list[Prefix]] = defaultdict(list)
        config = nb.config
        signature = (
            id(config.export),
            config.remote_as,
            config.local_address,
            config.link_capacity_bps,
        )
        cache = flush.adverts.setdefault(signature, {})
        for prefix in prefixes:
            if _family(prefix) not in negotiated.families:
                continue
            advert = self._export_route(nb, prefix, cache, flush)
            if not nb.adj_out.set(prefix, advert):
                continue
            if advert is None:
                withdraw[_family(prefix)].append(prefix)
            else:
                announce[(advert.attributes, advert.next_hop)].append(prefix)
        codec = negotiated.codec
        messages: list[bytes] = []
        for family_prefixes in withdraw.values():
            messages += pack_withdraw(family_prefixes, codec)
        # IPv4 and IPv6 routes with the same attributes share an UPDATE where they fit
        # (pack_announce_dual); neighbors that get the same routes get the same bytes,
        # encoded once per flush.
        order: dict[PathAttributes, None] = {}
        ipv4: dict[PathAttributes, tuple[IPv4Address, list[Prefix]]] = {}
        ipv6: dict[PathAttributes, tuple[IPAddress, list[Prefix]]] = {}
        alone: list[tuple[PathAttributes, IPAddress, list[Prefix]]] = []
        for (attrs, hop), group in announce.items():
            order[attrs] = None
            if isinstance(hop, IPv4Address) and _family(group[0]) == IPV4_UNICAST:
                if attrs not in ipv4:
                    ipv4[attrs] = (hop, group)
                    continue
            elif attrs not in ipv6:
                ipv6[attrs] = (hop, group)
                continue
            alone.append((attrs, hop, group))  # one next hop per family and neighbor: rare
        for attrs in order:
            v4, v6 = ipv4.get(attrs), ipv6.get(attrs)
            key = (codec, id(attrs), v4 and (v4[0], tuple(v4[1])), v6 and (v6[0], tuple(v6[1])))
            packed = flush.packed.get(key)
            if packed is None:
                if v4 is not None and v6 is not None:
                    v4_attrs = replace(attrs, next_hop=v4[0])
                    packed = pack_announce_dual(v4_attrs, v4[1], v6[1], codec, next_hop=v6[0])
                elif v4 is not None:
                    packed = pack_announce(replace(attrs, next_hop=v4[0]), v4[1], codec)
                else:
                    assert v6 is not None
                    packed = pack_announce(attrs, v6[1], codec, next_hop=v6[0])
                flush.packed[key] = packed
            messages += packed
        for attrs, hop, group in alone:
            if isinstance(hop, IPv4Address) and _family(group[0]) == IPV4_UNICAST:
                messages += pack_announce(replace(attrs, next_hop=hop), group, codec)
            else:
                messages += pack_announce(attrs, group, codec, next_hop=hop)
        sent = nb.transport.send_updates(messages)
        nb.updates_out += sent
        nb.session_updates_out += sent

    def _export_route(
        self,
        nb: Neighbor,
        prefix: Prefix,
        cache: dict[tuple[int, ...], Advertised | None],
        flush: _FlushState,
    ) -> Advertised | None:
        """What we advertise to ``nb`` for ``prefix`` now, or None (module docstring).

        Everything but the prefix list, aggregate suppression and not sending a route back
        to where it came from depends only on the best path, the multipath set, the family
        and the neighbor's export signature (policy, AS, our address, link capacity), so
        ``cache`` (one per flush and signature) hands every prefix and every neighbor that
        share them the same ``Advertised`` object: one export computation and one copy in
        memory per UPDATE's worth of prefixes, however many neighbors get it. ``flush``
        also memoizes the aggregates that may suppress ``prefix`` and each prefix's cache
        key: they do not change during a flush, whatever the neighbor."""
        dest = self.loc_rib.get(prefix)
        if dest is None or dest.best is None:
            return None
        if dest.best.source.name == nb.config.name:
            return None  # not back to where it came from
        policy = nb.config.export
        if policy.prefix_list is not None and not policy.prefix_list.permits(prefix):
            return None
        if self.aggregates:
            suppressing = flush.summary.get(prefix)
            if suppressing is None:
                suppressing = flush.summary[prefix] = self.aggregates.suppressing(prefix)
            if any(agg.suppresses_toward(nb.config.name) for agg in suppressing):
                return None  # summary-only: the aggregate goes instead (aggregate.py)
        key = flush.keys.get(prefix)
        if key is None:
            key = (len(prefix.packed), id(dest.best), *map(id, dest.multipath))
            flush.keys[prefix] = key
        if key not in cache:
            cache[key] = self._export_path(nb, dest.best, dest.multipath, prefix)
        return cache[key]

    def _export_path(
        self, nb: Neighbor, best: Path, multipath: tuple[Path, ...], prefix: Prefix
    ) -> Advertised | None:
        policy = nb.config.export
        as_path = best.attributes.as_path or AsPath()
        if policy.sender_side_loop_detection and as_path.contains(nb.config.remote_as):
            return None  # the neighbor would reject it (RFC 4271 §9.1.2), so don't send it
        hop = self._next_hop(nb, prefix)
        if hop is None:
            return None
        attrs = best.attributes.for_propagation()
        communities = () if policy.strip_communities else attrs.communities
        communities = tuple(dict.fromkeys(communities + policy.set_communities))
        ext: tuple[ExtCommunity, ...] = tuple(
            c
            for c in attrs.ext_communities
            if not isinstance(c, LinkBandwidth)
            and (not isinstance(c, ExtendedCommunity) or c.transitive)
        )
        lb = self._bandwidth_for(nb, multipath)
        prepend = policy.prepend
        if self.drain_method is DrainMethod.LINK_BANDWIDTH_ZERO:
            lb = 0.0  # RFC 10005 §3.1: zero to drain a path for maintenance
        elif self.drain_method is DrainMethod.AS_PATH_PREPEND:
            prepend += self.drain_prepend
        if lb is not None:
            asn = self.config.asn if self.config.asn <= 0xFFFF else AS_TRANS
            ext += (LinkBandwidth.from_bytes_per_s(lb, asn, policy.link_bandwidth_transitive),)
        exported = replace(
            attrs,
            as_path=as_path.prepend(self.config.asn, 1 + prepend),
            next_hop=None,
            med=None,  # RFC 4271 §5.1.4: a received MED is not passed to other ASes
            local_pref=None,  # RFC 4271 §5.1.5: not sent to eBGP neighbors
            communities=communities,
            ext_communities=ext,
        )
        return Advertised(exported, hop)

    def _bandwidth_for(self, nb: Neighbor, multipath: tuple[Path, ...]) -> float | None:
        policy = nb.config.export
        capacity = nb.config.link_capacity_bps
        return readvertised_bandwidth(
            policy.link_bandwidth,
            multipath_bandwidths=[p.link_bandwidth for p in multipath],
            link_capacity_bytes_per_s=None if capacity is None else capacity / 8,
            fixed_bytes_per_s=None
            if policy.link_bandwidth_fixed_bps is None
            else policy.link_bandwidth_fixed_bps / 8,
        )

    def _next_hop(self, nb: Neighbor, prefix: Prefix) -> IPAddress | None:
        local = nb.config.local_address
        if len(prefix.packed) == 4:
            # An IPv4 route over an IPv6 session would need RFC 8950 next hops: not done.
            return local if local.version == 4 else None
        if local.version == 6:
            return local
        # An IPv6 route over an IPv4 session: the configured IPv6 next hop, else our IPv4
        # address mapped into IPv6 (RFC 4291 §2.5.5.2), as FRR does.
        if self.config.next_hop_ipv6 is not None:
            return self.config.next_hop_ipv6
        return ipv4_mapped(local)
