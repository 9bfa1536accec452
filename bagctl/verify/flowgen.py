"""Random flows for the flow-level check, built as real packets.

``make_flows`` draws N flows over a set of demands (TCP and UDP, IPv4 and IPv6, each a
scapy packet: what a capture would hold), ``flows_for_pairs`` builds one flow per pair the
caller drew, ``flows_for_matrix`` does either for a traffic matrix, and ``write_pcap``
writes them so other tools can replay or inspect them.
Everything is drawn from one seeded ``random.Random``: the same arguments give the same
flows, so a failing check can be rerun.

A ``Flow`` takes its hash key and destination from the packet once, when it is made, so
``flowwalk.py`` routes bytes and never touches scapy again.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Packet
from scapy.utils import RawPcapWriter

from speakers.wire import Prefix

from .fibview import parse_prefix
from .hashing import FiveTuple, five_tuple
from .traffic import TrafficMatrix, draw_pairs

if TYPE_CHECKING:
    from ..topology.model import Topology

LINKTYPE_RAW = 101  # pcap link type "raw IP": IPv4 and IPv6 packets side by side


class Demand(NamedTuple):
    """Traffic from ``src_node`` to ``dst_prefix``; ``weight``: its share of the flows."""

    src_node: str
    dst_prefix: Prefix
    weight: float = 1.0


@dataclass(frozen=True)
class Flow:
    """One flow: its first packet, the node that sends it, the prefix it is for.

    ``key`` (the hash input) and ``dst`` (the packed destination) are taken from the
    packet once, here, so routing a flow hashes bytes and never touches scapy. Flows
    compare by source node, destination prefix and 5-tuple."""

    src_node: str
    dst_prefix: Prefix
    packet: Packet = field(compare=False, repr=False)
    key: bytes = field(init=False)
    dst: bytes = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        t = five_tuple(self.packet)
        object.__setattr__(self, "key", t.key())
        object.__setattr__(self, "dst", ipaddress.ip_address(t.dst).packed)

    @property
    def five_tuple(self) -> FiveTuple:
        return five_tuple(self.packet)


def owners_of(topology: Topology) -> dict[str, tuple[Prefix, ...]]:
    """``node -> prefixes it originates`` from a ``Topology``: where traffic is delivered."""
    return {n.name: tuple(n.prefixes) for n in topology.nodes}


def random_address(prefix: Prefix, rng: random.Random) -> bytes:
    """A uniformly random address inside ``prefix`` (any host bits, network and broadcast
    included: a FIB does not treat them apart)."""
    width = len(prefix.packed) * 8
    base = int.from_bytes(prefix.packed, "big")
    return (base | rng.getrandbits(width - prefix.length)).to_bytes(len(prefix.packed), "big")


def _demands(sources: Iterable[Demand | tuple[Any, ...]]) -> list[Demand]:
    out = []
    for s in sources:
        d = Demand(*s)
        out.append(Demand(d.src_node, parse_prefix(d.dst_prefix), float(d.weight)))
    if not out:
        raise ValueError("no demand to make flows for")
    return out


def _source_prefixes(owners: Mapping[str, Iterable[Prefix]], d: Demand) -> list[Prefix]:
    family = len(d.dst_prefix.packed)
    own = [p for p in owners.get(d.src_node, ()) if len(p.packed) == family]
    if not own:
        kind = "IPv4" if family == 4 else "IPv6"
        raise ValueError(f"{d.src_node} originates no {kind} prefix to send {d.dst_prefix} from")
    return own


def _packet(src: bytes, dst: bytes, tcp: bool, sport: int, dport: int) -> Packet:
    l3 = (IP if len(src) == 4 else IPv6)(
        src=str(ipaddress.ip_address(src)), dst=str(ipaddress.ip_address(dst))
    )
    return l3 / (TCP if tcp else UDP)(sport=sport, dport=dport)


def make_flows(
    n: int,
    sources: Iterable[Demand | tuple[Any, ...]],
    seed: int,
    *,
    owners: Mapping[str, Iterable[Prefix]],
) -> list[Flow]:
    """``n`` random flows over the demands ``sources`` (``(src_node, dst_prefix[, weight])``;
    pairs drawn in proportion to their weights, uniform by default).

    Each flow's source address is a random host of one of ``src_node``'s prefixes of the
    destination's family (``owners``: node -> prefixes, see ``owners_of``), its destination
    a random host of ``dst_prefix``; TCP or UDP with equal odds, source port in
    1024-65535, destination port in 1-65535. ``random.Random(seed)`` draws everything:
    the same arguments give the same flows."""
    demands = _demands(sources)
    rng = random.Random(seed)
    picks = rng.choices(demands, weights=[d.weight for d in demands], k=n)
    return _flows_for(picks, rng, owners)


def flows_for_pairs(
    pairs: Iterable[Demand | tuple[Any, ...]],
    seed: int,
    *,
    owners: Mapping[str, Iterable[Prefix]],
) -> list[Flow]:
    """One flow per given (src_node, dst_prefix) pair, in order (the caller has drawn
    the pairs, e.g. from a matrix too big to list pair by pair); addresses, protocol and
    ports drawn as ``make_flows`` draws them."""
    return _flows_for(_demands(pairs), random.Random(seed), owners)


def _flows_for(
    picks: list[Demand], rng: random.Random, owners: Mapping[str, Iterable[Prefix]]
) -> list[Flow]:
    src_prefixes = {d: _source_prefixes(owners, d) for d in set(picks)}
    flows = []
    for d in picks:
        src = random_address(rng.choice(src_prefixes[d]), rng)
        dst = random_address(d.dst_prefix, rng)
        tcp = rng.random() < 0.5
        packet = _packet(src, dst, tcp, rng.randint(1024, 65535), rng.randint(1, 65535))
        flows.append(Flow(d.src_node, d.dst_prefix, packet))
    return flows


def flows_for_matrix(
    matrix: TrafficMatrix, n: int, seed: int, *, owners: Mapping[str, Iterable[Prefix]]
) -> list[Flow]:
    """``n`` flows drawn in proportion to ``matrix``'s demands: the gravity matrix pair by
    pair from its bundles (``draw_pairs``, never its per-pair table: prometheus has 47
    million pairs), a matrix file over its listed demands (``make_flows``)."""
    if matrix.explicit is None:
        return flows_for_pairs(draw_pairs(matrix, n, seed), seed, owners=owners)
    sources = [Demand(src, p, rate) for p, d in matrix.demands.items() for src, rate in d.items()]
    return make_flows(n, sources, seed, owners=owners)


def write_pcap(path: str | Path, flows: Iterable[Flow]) -> int:
    """Write one packet per flow to a pcap (link type raw IP, so IPv4 and IPv6 share the
    file; timestamps are the flow's index in microseconds, so the file is reproducible).
    Returns the packet count. ``scapy.utils.rdpcap`` reads it back."""
    count = 0
    with RawPcapWriter(str(path), linktype=LINKTYPE_RAW) as writer:
        writer.write_header(None)  # write_packet() alone writes records, not the header
        for i, flow in enumerate(flows):
            writer.write_packet(bytes(flow.packet), sec=i // 1_000_000, usec=i % 1_000_000)
            count += 1
    return count
