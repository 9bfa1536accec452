"""A topology compiled into one ``speakers.SpeakerConfig`` per BGP node: what every runtime
runs, in whatever process or container a speaker lands.

Each BGP node listens on its own address (its loopback, ``addresses.loopbacks``, or a
container's address), has one neighbor per session bundle with the bundle's capacity as
link capacity, originates its GPU subnets with its host capacity as link bandwidth, and
announces its aggregates (summary-only) to its upper-tier neighbors. On each bundle the
upper-tier end is passive and the lower dials (the same tier: the name that sorts first
dials), so bring-up makes one connection per session, never a collision. With
``delays`` (on the region's clock), each speaker gets the topology's delay model: its
processing cost per message, and each neighbor the bundle's latency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address

from speakers.aggregate import Aggregate
from speakers.config import ExportPolicy, NeighborConfig, Originate, SpeakerConfig
from speakers.rib import MultipathConfig
from speakers.ucmp import MissingBandwidthMode, ReadvertiseMode
from speakers.wire.prefix import IPAddress, ipv4_mapped

from .addresses import loopbacks
from .model import Bundle, Topology

DEFAULT_PORT = 1179


def dialer(topo: Topology, b: Bundle) -> str:
    """The end of ``b`` that dials its session (module docstring)."""
    na, nb = topo.node(b.a), topo.node(b.b)
    if na.role.tier != nb.role.tier:
        return b.a if na.role.tier < nb.role.tier else b.b
    return min(b.a, b.b)


def next_hop_names(configs: Iterable[SpeakerConfig]) -> dict[IPAddress, str]:
    """Speaker name by the next hops its routes carry: its own address, and for IPv6
    routes over IPv4 sessions that address mapped into IPv6 (``speaker_configs``)."""
    names: dict[IPAddress, str] = {}
    for config in configs:
        names[config.listen_address] = config.name
        if config.listen_address.version == 4:
            names[ipv4_mapped(config.listen_address)] = config.name
    return names


def speaker_configs(
    topo: Topology,
    *,
    port: int = DEFAULT_PORT,
    addresses: Mapping[str, IPv4Address] | None = None,
    delays: bool = False,
) -> dict[str, SpeakerConfig]:
    """One speaker configuration per BGP node (module docstring). ``addresses``: each
    node's own address (listen, BGP Identifier, next hop) where it is not its loopback
    (a container's address: ``addresses.container_addresses``); ``delays``: with the
    topology's delay model (module docstring)."""
    lo = loopbacks(topo) if addresses is None else addresses
    d = topo.defaults
    neighbors: dict[str, list[NeighborConfig]] = {n.name: [] for n in topo.speakers()}
    exports = {
        mode: ExportPolicy(link_bandwidth=ReadvertiseMode(mode))
        for mode in {d.link_bandwidth, *(n.link_bandwidth for n in topo.nodes if n.link_bandwidth)}
    }
    export = {n.name: exports[n.link_bandwidth or d.link_bandwidth] for n in topo.speakers()}
    for b in topo.sessions():
        dials = dialer(topo, b)
        for here, there in ((b.a, b.b), (b.b, b.a)):
            neighbors[here].append(
                NeighborConfig(
                    name=there,
                    address=lo[there],
                    remote_as=topo.node(there).asn,
                    local_address=lo[here],
                    port=port,
                    link_capacity_bps=b.capacity_bps,
                    passive=here != dials,
                    md5_password=b.md5_password or d.md5_password,
                    max_prefixes=d.max_prefixes,
                    max_prefixes_restart_s=d.max_prefixes_restart_s,
                    ttl_security=d.ttl_security,
                    export=export[here],
                    latency_s=(d.latency_s if b.latency_s is None else b.latency_s)
                    if delays
                    else 0.0,
                )
            )
    # A node's aggregates replace its more-specifics toward its upper-tier neighbors only.
    upper: dict[str, frozenset[str]] = {
        n.name: frozenset(
            nb.name for nb in neighbors[n.name] if topo.node(nb.name).role.tier > n.role.tier
        )
        for n in topo.speakers()
    }
    out = {}
    for n in topo.speakers():
        bandwidth = n.host_capacity_bps or None
        out[n.name] = SpeakerConfig(
            name=n.name,
            asn=n.asn,
            router_id=lo[n.name],
            listen_address=lo[n.name],
            listen_port=port,
            hold_time_s=d.hold_time_s,
            connect_retry_s=d.connect_retry_s,
            mrai_s=d.mrai_s,
            multipath=MultipathConfig(max_paths_ebgp=d.max_paths),
            missing_bandwidth=MissingBandwidthMode(n.missing_bandwidth or d.missing_bandwidth),
            max_group_size=d.max_group_size,
            next_hop_ipv6=ipv4_mapped(lo[n.name]),
            neighbors=tuple(neighbors[n.name]),
            originate=tuple(Originate(p, bandwidth) for p in n.prefixes),
            aggregates=tuple(
                Aggregate(
                    a,
                    summary_only=True,
                    suppress_toward=upper[n.name],
                    complete_only=d.aggregate_complete_only,
                )
                for a in n.aggregates
            ),
            processing_s=d.processing_s if delays else 0.0,
            extended_message=d.extended_message,
            graceful_restart=d.graceful_restart,
        )
    return out


__all__ = ["DEFAULT_PORT", "dialer", "next_hop_names", "speaker_configs"]
