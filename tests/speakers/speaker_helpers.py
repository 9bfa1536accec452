"""Build small topologies of real speakers on loopback and wait for them, without sleeps."""

from __future__ import annotations

import asyncio
import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from speakers.clock import Clock
from speakers.config import (
    Aggregate,
    ExportPolicy,
    GracefulRestart,
    ImportPolicy,
    NeighborConfig,
    Originate,
    SpeakerConfig,
)
from speakers.memnet import MemoryNetwork
from speakers.rib import MultipathConfig
from speakers.speaker import Speaker
from speakers.ucmp import MissingBandwidthMode, ReadvertiseMode
from speakers.wire import Prefix

PORT = 1179


@dataclass
class Node:
    name: str
    asn: int
    address: str
    originate: list[tuple[str, float | None]] = field(default_factory=list)
    missing: MissingBandwidthMode = MissingBandwidthMode.DEFAULT
    default_bandwidth_bps: float | None = None
    aggregates: tuple[Aggregate, ...] = ()
    extended_message: bool = False  # RFC 8654 offered
    graceful_restart: GracefulRestart = field(default_factory=GracefulRestart)  # RFC 4724


@dataclass
class Link:
    a: str
    b: str
    capacity_bps: float
    export_a: ReadvertiseMode = ReadvertiseMode.CUMULATIVE  # what a attaches towards b
    export_b: ReadvertiseMode = ReadvertiseMode.CUMULATIVE
    policy_a: ExportPolicy | None = None  # a's whole export policy towards b, if given
    policy_b: ExportPolicy | None = None
    import_a: ImportPolicy | None = None  # a's import policy for what b sends
    import_b: ImportPolicy | None = None
    limit_b: tuple[int, float | None] | None = None  # b's maximum-prefix (and restart) for a


class Fabric:
    """Speakers built from nodes and links; ``wait`` re-checks a condition on every FIB or
    route change anywhere, under a timeout."""

    def __init__(
        self,
        nodes: list[Node],
        links: list[Link],
        *,
        hold_time_s: int = 9,
        mrai_s: float = 0.0,
        memory: bool = False,
        clocks: dict[str, Clock] | None = None,
        processing_s: float = 0.0,
    ) -> None:
        """``memory``: run the sessions over the in-memory network instead of TCP;
        ``clocks``: a speaker's clock by name, where not the host's; ``processing_s``:
        every speaker's delay model (``SpeakerConfig.processing_s``)."""
        self.nodes = {n.name: n for n in nodes}
        self.network = MemoryNetwork(asyncio.get_running_loop()) if memory else None
        self.changed = asyncio.Event()
        if self.network is not None:
            self.network.on_quiet = self.changed.set
        self.speakers: dict[str, Speaker] = {}
        neighbors: dict[str, list[NeighborConfig]] = {n.name: [] for n in nodes}
        for link in links:
            sides = (
                (link.a, link.b, link.export_a, link.policy_a, link.import_a, None),
                (link.b, link.a, link.export_b, link.policy_b, link.import_b, link.limit_b),
            )
            for here, there, mode, policy, imp, limit in sides:
                h, t = self.nodes[here], self.nodes[there]
                neighbors[here].append(
                    NeighborConfig(
                        name=there,
                        address=ipaddress.ip_address(t.address),
                        remote_as=t.asn,
                        local_address=ipaddress.ip_address(h.address),
                        port=PORT,
                        link_capacity_bps=link.capacity_bps,
                        export=policy or ExportPolicy(link_bandwidth=mode),
                        import_policy=imp or ImportPolicy(),
                        max_prefixes=limit[0] if limit else None,
                        max_prefixes_restart_s=limit[1] if limit else None,
                    )
                )
        for n in nodes:
            cfg = SpeakerConfig(
                name=n.name,
                asn=n.asn,
                router_id=ipaddress.IPv4Address(n.address),
                listen_address=ipaddress.ip_address(n.address),
                listen_port=PORT,
                hold_time_s=hold_time_s,
                mrai_s=mrai_s,
                connect_retry_s=0.5,
                multipath=MultipathConfig(),
                missing_bandwidth=n.missing,
                default_bandwidth_bps=n.default_bandwidth_bps,
                neighbors=tuple(neighbors[n.name]),
                originate=tuple(Originate(Prefix.parse(p), bw) for p, bw in n.originate),
                aggregates=n.aggregates,
                extended_message=n.extended_message,
                graceful_restart=n.graceful_restart,
                processing_s=processing_s,
            )
            self.clocks = clocks or {}
            clock = self.clocks.get(n.name)
            speaker = Speaker(cfg, rng=random.Random(n.asn), network=self.network, clock=clock)
            self.speakers[n.name] = self._watched(speaker)

    def _watched(self, speaker: Speaker) -> Speaker:
        speaker.activity.append(self.changed.set)
        speaker.fib_table.subscribe(lambda change: self.changed.set())
        speaker.route_events.append(lambda change: self.changed.set())
        speaker.session_events.append(lambda name, event: self.changed.set())
        return speaker

    async def restart(
        self, name: str, *, graceful: bool, config: SpeakerConfig | None = None
    ) -> Speaker:
        """``name``'s process ends and a new one starts (with ``config`` if given).
        Graceful: it dies without a NOTIFICATION, its FIB left to the new one (RFC 4724);
        else it stops with a Cease and the new one starts from nothing."""
        old = self.speakers[name]
        preserved = None
        if graceful:
            preserved = old.fib_table.entries()
            old.close()
        else:
            await old.stop("restarting")
        node = self.nodes[name]
        new = Speaker(
            config or old.config,
            rng=random.Random(node.asn + 1),
            network=self.network,
            clock=self.clocks.get(name),
            preserved_fib=preserved,
        )
        self.speakers[name] = self._watched(new)
        await new.start()
        return new

    def __getitem__(self, name: str) -> Speaker:
        return self.speakers[name]

    async def start(self) -> None:
        for speaker in self.speakers.values():
            await speaker.start()

    def close(self) -> None:
        for speaker in self.speakers.values():
            speaker.close()

    async def wait(self, check: Callable[[], bool], timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self.changed.clear()
                await self.changed.wait()

    def quiet(self) -> bool:
        """Nothing on the in-memory network and no speaker with work queued."""
        in_flight = self.network.in_flight if self.network is not None else 0
        return not in_flight and not any(s.busy() for s in self.speakers.values())

    def weights(self, node: str, prefix: str) -> dict[str, int]:
        """Next-hop name -> integer weight in ``node``'s FIB for ``prefix``."""
        group = self.speakers[node].fib_table.lookup(Prefix.parse(prefix))
        if group is None:
            return {}
        by_addr = {ipaddress.ip_address(n.address): n.name for n in self.nodes.values()}
        return {by_addr.get(hop, str(hop)): w for hop, w in group.members}

    def established(self) -> bool:
        return all(
            s["state"] == "Established" for sp in self.speakers.values() for s in sp.sessions()
        )
