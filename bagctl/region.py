"""A running region: one ``Speaker`` per switch of a ``Topology``, controlled and measured.

``speaker_configs`` turns a topology into speaker configurations: each BGP node listens on
its loopback (``addresses.loopbacks``), has one neighbor per session bundle with the
bundle's capacity as link capacity, originates its GPU subnets with its host capacity as
link bandwidth, and announces its aggregates (summary-only) to its upper-tier neighbors.
On each bundle the upper-tier end is passive and the lower dials (the same tier: the name
that sorts first dials), so bring-up makes one connection per session, never a collision.

``Region`` runs those speakers in this process, over TCP on 127/8 or over the in-memory
network, and measures convergence: every operation returns a ``ConvergenceReport`` once
the region is quiescent, which is read from the speakers' own state, never a sleep: every
session that should be up is Established, no speaker has an export queued, and every byte
written has been read (the in-memory network's count, or TCP send/receive counters of both
ends). The report's ``converged_s`` runs from the operation to the last FIB change
anywhere (``FibChange.at_ns``).

Cold start brings every session up first and only then has every switch originate its
routes, as FRR's ``bgp update-delay`` or a fabric's staged bring-up holds updates back
until the peers are established: otherwise the first sessions up carry a storm of route
changes that the later ones (those between worker processes, over TCP, last of all)
undo, and the busy event loops slow the remaining handshakes further. The report covers
both phases, from the first listener to the last FIB change.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from speakers.memnet import MemoryNetwork
from speakers.session import State
from speakers.speaker import DrainMethod, Speaker
from speakers.wire import Prefix
from speakers.wire.prefix import IPAddress

from .shard import Shard, group_names
from .topology.configs import DEFAULT_PORT, next_hop_names, speaker_configs
from .topology.failures import Failures, members_capacity
from .topology.model import Bundle, Topology


def fib_names(speaker: Speaker, names: dict[IPAddress, str]) -> dict[str, dict[str, int]]:
    """A speaker's FIB as prefix -> next-hop node name -> integer weight."""
    return {str(p): group_names(group, names) for p, group in speaker.fib_table.entries()}


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


class Region:
    """A region's speakers in this process (module docstring)."""

    def __init__(
        self,
        topo: Topology,
        *,
        transport: str = "tcp",
        port: int = DEFAULT_PORT,
        seed: int = 1,
        on_progress: Callable[[int, int, int], None] | None = None,
    ) -> None:
        if transport not in ("tcp", "memory"):
            raise ValueError(f"transport {transport!r}: tcp or memory")
        self.topo = topo
        self.transport = transport
        self.port = port
        self.configs = speaker_configs(topo, port=port)
        self.names = next_hop_names(self.configs.values())  # node by next hop, for views
        self._wake = asyncio.Event()
        self.shard = Shard(self.configs, transport=transport, seed=seed, on_wake=self._wake.set)
        self.broken = Failures()
        self._on_progress = on_progress

    @property
    def speakers(self) -> dict[str, Speaker]:
        return self.shard.speakers

    @property
    def network(self) -> MemoryNetwork | None:
        return self.shard.network

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, timeout: float = 600.0) -> ConvergenceReport:
        """Start every speaker and wait for cold-start convergence."""
        return await self._measure("cold-start", self._start_all, timeout)

    async def _start_all(self) -> None:
        await self.shard.listen(originate=False)
        self.shard.start_sessions()
        while True:  # routes once every session is up (module docstring)
            self._wake.clear()
            up, expected = self.shard.ends()
            if up == expected:
                break
            if self._on_progress is not None:
                self._on_progress(up // 2, expected // 2, 0)
            await self._wake.wait()
        self.shard.originate()

    def close(self) -> None:
        self.shard.close()

    async def aclose(self) -> None:
        self.close()

    # --- operations (each returns when the region has converged) -------------------------

    def _bundle(self, a: str, b: str) -> Bundle:
        return self.topo.bundle(a, b)

    async def bundle_down(self, a: str, b: str, timeout: float = 120.0) -> ConvergenceReport:
        bundle = self._bundle(a, b)

        async def act() -> None:
            self.broken = self.broken.bundle_down(bundle)
            for here, there in ((bundle.a, bundle.b), (bundle.b, bundle.a)):
                if here in self.speakers:
                    self.shard.link_down(here, there)

        return await self._measure(f"bundle-down {a} {b}", act, timeout)

    async def bundle_up(self, a: str, b: str, timeout: float = 120.0) -> ConvergenceReport:
        bundle = self._bundle(a, b)

        async def act() -> None:
            self.broken = self.broken.bundle_up(bundle)
            for here, there in ((bundle.a, bundle.b), (bundle.b, bundle.a)):
                if here in self.speakers:
                    self.shard.link_up(here, there)

        return await self._measure(f"bundle-up {a} {b}", act, timeout)

    async def set_members(
        self, a: str, b: str, members_up: int, timeout: float = 120.0
    ) -> ConvergenceReport:
        """``members_up`` of the bundle's members work (0 < members_up <= members)."""
        bundle = self._bundle(a, b)
        capacity = members_capacity(bundle, members_up)

        async def act() -> None:
            self.broken = self.broken.with_members(bundle, members_up)
            for here, there in ((bundle.a, bundle.b), (bundle.b, bundle.a)):
                if here in self.speakers:
                    self.shard.set_capacity(here, there, capacity)

        return await self._measure(f"members {a} {b} {members_up}/{bundle.members}", act, timeout)

    async def drain(
        self, node: str, method: str = "link-bandwidth-zero", timeout: float = 120.0
    ) -> ConvergenceReport:
        self._speaker(node)
        DrainMethod(method)

        async def act() -> None:
            self.broken = self.broken.drain(node, method)
            self.shard.drain(node, method)

        return await self._measure(f"drain {node} {method}", act, timeout)

    async def undrain(self, node: str, timeout: float = 120.0) -> ConvergenceReport:
        self._speaker(node)

        async def act() -> None:
            self.broken = self.broken.undrain(node)
            self.shard.undrain(node)

        return await self._measure(f"undrain {node}", act, timeout)

    async def restart(self, node: str, timeout: float = 120.0) -> ConvergenceReport:
        """Stop the switch's speaker (a Cease to every neighbor) and start a fresh one."""
        self._speaker(node)

        async def act() -> None:
            self.broken = self.broken.undrain(node)  # a fresh speaker starts undrained
            await self.shard.restart(node)

        return await self._measure(f"restart {node}", act, timeout)

    async def flap(
        self, a: str, b: str, count: int, interval_s: float, timeout: float = 120.0
    ) -> ConvergenceReport:
        """Down and up ``count`` times, ``interval_s`` apart (real time: a flap's rhythm)."""
        bundle = self._bundle(a, b)
        ends = ((bundle.a, bundle.b), (bundle.b, bundle.a))

        async def act() -> None:
            for i in range(count):
                for here, there in ends:
                    self.shard.link_down(here, there)
                await asyncio.sleep(interval_s)
                for here, there in ends:
                    self.shard.link_up(here, there)
                if i < count - 1:
                    await asyncio.sleep(interval_s)

        return await self._measure(f"flap {a} {b} x{count}", act, timeout)

    def _speaker(self, node: str) -> Speaker:
        try:
            return self.speakers[node]
        except KeyError:
            raise KeyError(f"no BGP speaker {node!r} in region {self.topo.name}") from None

    # --- measurement --------------------------------------------------------------------

    def _expected_up(self) -> list[tuple[str, str]]:
        return [(b.a, b.b) for b in self.topo.sessions() if b.key not in self.broken.down]

    def sessions_established(self) -> tuple[int, int]:
        expected = self._expected_up()
        up = 0
        for a, b in expected:
            sa, sb = self.speakers[a].neighbors[b], self.speakers[b].neighbors[a]
            if (
                sa.peer.primary.state is State.ESTABLISHED
                and sb.peer.primary.state is State.ESTABLISHED
            ):
                up += 1
        return up, len(expected)

    def quiescent(self) -> bool:
        if self.shard.busy():
            return False
        up, expected = self.shard.ends()
        if up != expected:
            return False
        sent, received = self.shard.balance()
        return sent == received

    async def _measure(
        self, event: str, act: Callable[[], Awaitable[None]], timeout: float
    ) -> ConvergenceReport:
        self.shard.reset_counters()
        updates0 = self.shard.updates_sent()
        t0 = time.monotonic_ns()
        await act()
        async with asyncio.timeout(timeout):
            while True:
                self._wake.clear()
                if self.quiescent():
                    break
                if self._on_progress is not None:
                    up, expected = self.sessions_established()
                    self._on_progress(up, expected, self.shard.counters.fib_changes)
                await self._wake.wait()
        t1 = time.monotonic_ns()
        c = self.shard.counters
        up, expected = self.sessions_established()
        last = c.last_fib_ns if c.fib_changes else t0
        return ConvergenceReport(
            event=event,
            started_ns=t0,
            converged_s=max(0, last - t0) / 1e9,
            quiescent_s=(t1 - t0) / 1e9,
            fib_changes=c.fib_changes,
            updates_sent=self.shard.updates_sent() - updates0,
            prefixes_changed=len(c.prefixes),
            sessions_established=up,
            sessions_expected=expected,
        )

    # --- queries ------------------------------------------------------------------------

    async def fib_weights(self) -> dict[str, dict[str, dict[str, int]]]:
        """Every speaker's FIB: node -> prefix -> next-hop node -> integer weight (the
        verifier's actual side, ``bagctl.verify.FibSnapshot.from_names``)."""
        return {node: fib_names(s, self.names) for node, s in self.speakers.items()}

    async def fib_changes(self) -> dict[str, object]:
        """The last operation's FIB change stream (``Shard.change_stream``)."""
        return self.shard.change_stream(self.names)

    def failures(self) -> Failures:
        """What this region was told to break or drain and has not restored."""
        return self.broken

    def weights(self, node: str, prefix: Prefix | str) -> dict[str, int]:
        """Next-hop node name -> integer weight in ``node``'s FIB for ``prefix``."""
        p = prefix if isinstance(prefix, Prefix) else Prefix.parse(prefix)
        group = self._speaker(node).fib_table.lookup(p)
        if group is None:
            return {}
        return group_names(group, self.names)

    # --- inspection (bagctl show/status, the management bus) ----------------------------

    async def show(self, what: str, node: str, prefix: str | None = None) -> dict[str, object]:
        """``what`` (sessions, rib or fib) of ``node``, JSON-able (``bagctl.views``)."""
        from . import views

        if what not in views.SHOW_WHAT:
            raise ValueError(f"show {what!r}: one of {', '.join(views.SHOW_WHAT)}")
        speaker = self._speaker(node)
        if what == "sessions":
            if prefix is not None:
                raise ValueError("show sessions takes no prefix")
            entries = views.sessions_view(speaker)
        elif what == "rib":
            entries = views.rib_view(speaker, prefix)
        else:
            entries = views.fib_view(speaker, prefix)
        return {"node": node, "what": what, "prefix": prefix, what: entries}

    async def changed_nodes(self) -> set[str]:
        """Speakers whose FIB or sessions changed since the last call (all, the first time)."""
        return self.shard.take_dirty()

    async def status(self) -> dict[str, object]:
        up, expected = self.sessions_established() if self.speakers else (0, 0)
        return {
            "region": self.topo.name,
            "speakers": len(self.speakers),
            "sessions_established": up,
            "sessions_expected": expected,
            "bundles_down": [list(key) for key in sorted(self.broken.down)],
            "transport": self.transport,
        }


__all__ = ["ConvergenceReport", "Region"]
