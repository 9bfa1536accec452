"""The flow-level check: real packets hashed hop by hop over the FIBs' WCMP groups.

``FibSnapshot`` says which weights each switch holds; this module asks what those weights do
to traffic. A switch does not split bytes by weight: it hashes each packet's 5-tuple and
picks one member of the group's member table, so a flow sticks to one path and the split is
only statistically the weighted one. ``make_flows`` builds N random flows (TCP and UDP, IPv4
and IPv6, as scapy packets), ``walk_flows`` routes each one hop by hop as a switch would
(delivery, longest-prefix match, hash, member), and ``check_groups`` compares every group's
per-member flow counts with its weights (chi-square), so a group whose hashed split does not
follow its weights (polarization, a wrong member table, claimed weights the switch does not
apply) is named.

The hash (a user must be able to reproduce a member choice by hand)::

    key    = src_addr || dst_addr || proto || src_port || dst_port
             addresses in network order (4 + 4 octets for IPv4, 16 + 16 for IPv6), the IP
             protocol in 1 octet (6 TCP, 17 UDP), ports as 2 network-order octets each:
             13 octets for IPv4, 37 for IPv6
    seed   = zlib.crc32(switch_name.encode("utf-8"))              # per switch
    h      = fmix32(zlib.crc32(key, seed))                         # seed = CRC starting value
    fmix32(x): x ^= x >> 16; x = x * 0x85EBCA6B mod 2**32; x ^= x >> 13;
               x = x * 0xC2B2AE35 mod 2**32; x ^= x >> 16       # MurmurHash3's finalizer
    table  = next hops sorted by name, each repeated weight times (weight <= 0: absent)
    member = table[h % len(table)]

Why the finalizer: CRC-32 is affine over GF(2), so ``crc32(key, s1) ^ crc32(key, s2)``
depends only on ``len(key)``: for every flow of one family, two switches' CRCs differ by one
constant XOR whatever their seeds (a starting value and prefixed seed bytes are the same
thing for a CRC). With a power-of-two member table (weights 3:1 make a 4-entry table) the
low bits pick the member, so the second switch's choice is a fixed function of the first's:
the flows a switch sent to one member all take the same few members at the next hop
(polarization). A seed alone cannot decorrelate a linear hash; ``fmix32``'s multiplications
are not GF(2)-linear and make the two switches' choices independent. Hardware does the same
with per-switch hash offsets, polynomials or non-linear mixing. The tests show all three
cases (equal seeds, CRC seeds alone, seeds with the finalizer).
"""

from __future__ import annotations

import ipaddress
import math
import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Packet
from scapy.utils import RawPcapWriter

from bagctl.verify.fibview import FibSnapshot, Weights, parse_prefix
from speakers.wire import Prefix

if TYPE_CHECKING:
    from bagctl.topology.model import Topology

DEFAULT_FLOWS = 10_000  # scapy builds ~10,000 packets/s: N is what a check can afford
DEFAULT_ALPHA = 0.001
MIN_EXPECTED = 5.0  # Cochran's rule: chi-square is trusted when every expected count >= 5
LINKTYPE_RAW = 101  # pcap link type "raw IP": IPv4 and IPv6 packets side by side

TCP_PROTO = 6
UDP_PROTO = 17

_MASK32 = 0xFFFF_FFFF

HashFn = Callable[[bytes, int], int]  # (5-tuple key, switch seed) -> hash
SeedFn = Callable[[str], int]  # switch name -> seed


# ---------------------------------------------------------------------------------------
# The 5-tuple and the hash


class FiveTuple(NamedTuple):
    src: str
    dst: str
    proto: int
    sport: int
    dport: int

    def key(self) -> bytes:
        """The hash input: ``src || dst || proto || sport || dport`` (see the module doc)."""
        return (
            ipaddress.ip_address(self.src).packed
            + ipaddress.ip_address(self.dst).packed
            + bytes([self.proto])
            + self.sport.to_bytes(2, "big")
            + self.dport.to_bytes(2, "big")
        )


def five_tuple(packet: Packet) -> FiveTuple:
    """The 5-tuple of an IPv4 or IPv6 TCP/UDP scapy packet (the protocol from the L4
    layer's class, so IPv6 extension headers do not change it)."""
    l3 = packet.getlayer(IP) or packet.getlayer(IPv6)
    if l3 is None:
        raise ValueError(f"not an IP packet: {packet.summary()}")
    tcp = packet.getlayer(TCP)
    l4 = tcp if tcp is not None else packet.getlayer(UDP)
    if l4 is None:
        raise ValueError(f"not a TCP or UDP packet: {packet.summary()}")
    proto = TCP_PROTO if tcp is not None else UDP_PROTO
    return FiveTuple(str(l3.src), str(l3.dst), proto, int(l4.sport), int(l4.dport))


def switch_seed(name: str) -> int:
    """A switch's hash seed: CRC-32 of its name, so every switch differs and a rerun agrees."""
    return zlib.crc32(name.encode("utf-8"))


def fmix32(x: int) -> int:
    """MurmurHash3's 32-bit finalizer: a non-linear bijection on 32-bit integers."""
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & _MASK32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & _MASK32
    return x ^ (x >> 16)


def flow_hash(key: bytes | Packet, seed: int) -> int:
    """``fmix32(zlib.crc32(key, seed))``: the 32-bit hash a switch seeded ``seed`` gives the
    flow whose 5-tuple key is ``key`` (or a packet's, extracted; slow, for one-offs)."""
    if isinstance(key, Packet):
        key = five_tuple(key).key()
    return fmix32(zlib.crc32(key, seed & _MASK32))


def member_table(weights: Weights) -> tuple[str, ...]:
    """The WCMP member table: next hops sorted by name, each ``weight`` times; members
    of weight <= 0 take no entry (they carry no traffic)."""
    return tuple(m for m in sorted(weights) for _ in range(max(int(weights[m]), 0)))


def select_member(table: Sequence[str], h: int) -> str:
    """``table[h % len(table)]``; an empty table is a black hole, not a choice."""
    if not table:
        raise ValueError("empty member table")
    return table[h % len(table)]


# ---------------------------------------------------------------------------------------
# Flows


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


# ---------------------------------------------------------------------------------------
# Walking the flows


class Hop(NamedTuple):
    node: str
    prefix: Prefix  # the FIB entry the node matched
    next_hop: str


@dataclass(frozen=True)
class Trace:
    """One flow's path: ``outcome`` is "delivered" (at ``path[-1]``), "black-hole" (at
    ``path[-1]``, ``reason`` "no-route" or "empty-group") or "loop" (``cycle``)."""

    flow: Flow
    path: tuple[str, ...]
    hops: tuple[Hop, ...]
    outcome: str
    reason: str = ""
    prefix: Prefix | None = None  # black hole: the FIB entry, or the flow's prefix
    cycle: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlackHole:
    node: str
    prefix: Prefix  # the matched FIB entry (empty group) or the flow's prefix (no route)
    reason: str  # "no-route" or "empty-group"
    flows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "prefix": str(self.prefix),
            "reason": self.reason,
            "flows": self.flows,
        }


@dataclass(frozen=True)
class Loop:
    cycle: tuple[str, ...]  # the nodes of the cycle in order, from the smallest name
    prefix: Prefix  # the flows' destination prefix
    flows: int

    def as_dict(self) -> dict[str, Any]:
        return {"cycle": list(self.cycle), "prefix": str(self.prefix), "flows": self.flows}


@dataclass(frozen=True)
class GroupCount:
    """How many flows a node's group for ``prefix`` sent to each member."""

    node: str
    prefix: Prefix
    weights: Mapping[str, int]
    counts: Mapping[str, int]

    @property
    def flows(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "prefix": str(self.prefix),
            "weights": dict(sorted(self.weights.items())),
            "counts": dict(sorted(self.counts.items())),
        }


@dataclass(frozen=True)
class FlowResult:
    """What ``walk_flows`` saw: outcomes, per-group member counts, per-link flow counts."""

    flows: int
    delivered: int
    delivered_at: Mapping[str, int]
    black_holes: tuple[BlackHole, ...]
    loops: tuple[Loop, ...]
    groups: Mapping[tuple[str, Prefix], GroupCount]
    links: Mapping[tuple[str, str], int]  # directed (node, next hop) -> flows

    def as_dict(self) -> dict[str, Any]:
        return {
            "flows": self.flows,
            "delivered": self.delivered,
            "delivered_at": dict(sorted(self.delivered_at.items())),
            "black_holes": [b.as_dict() for b in self.black_holes],
            "loops": [lp.as_dict() for lp in self.loops],
            "groups": [self.groups[k].as_dict() for k in sorted(self.groups)],
            "links": [{"from": a, "to": b, "flows": n} for (a, b), n in sorted(self.links.items())],
        }


def _canonical_cycle(cycle: Sequence[str]) -> tuple[str, ...]:
    """The same cycle entered anywhere reads the same: rotated to start at its least name."""
    i = min(range(len(cycle)), key=cycle.__getitem__)
    return tuple(cycle[i:]) + tuple(cycle[:i])


class _Router:
    """Per-walk caches (owned-prefix index, member tables, seeds) for hop-by-hop routing."""

    def __init__(
        self,
        fib: FibSnapshot,
        owners: Mapping[str, Iterable[Prefix]],
        seed_of: SeedFn,
        hash_fn: HashFn,
    ) -> None:
        self.fib = fib
        # The owned prefixes as a FIB of empty groups: its LPM index answers "delivered?".
        self.owned = FibSnapshot({n: {p: {} for p in ps} for n, ps in owners.items()})
        self.seed_of = seed_of
        self.hash_fn = hash_fn
        self.seeds: dict[str, int] = {}
        self.tables: dict[tuple[str, Prefix], tuple[str, ...]] = {}

    def table(self, node: str, prefix: Prefix, weights: Weights) -> tuple[str, ...]:
        t = self.tables.get((node, prefix))
        if t is None:
            t = self.tables[(node, prefix)] = member_table(weights)
        return t

    def seed(self, node: str) -> int:
        s = self.seeds.get(node)
        if s is None:
            s = self.seeds[node] = self.seed_of(node)
        return s

    def trace(self, flow: Flow) -> Trace:
        node, path, hops = flow.src_node, [flow.src_node], []
        while True:
            if self.owned.lookup(node, flow.dst) is not None:
                return Trace(flow, tuple(path), tuple(hops), "delivered")
            hit = self.fib.lookup(node, flow.dst)
            if hit is None:
                return Trace(
                    flow, tuple(path), tuple(hops), "black-hole", "no-route", flow.dst_prefix
                )
            prefix, weights = hit
            table = self.table(node, prefix, weights)
            if not table:
                return Trace(flow, tuple(path), tuple(hops), "black-hole", "empty-group", prefix)
            nxt = select_member(table, self.hash_fn(flow.key, self.seed(node)))
            hops.append(Hop(node, prefix, nxt))
            if nxt in path:
                cycle = _canonical_cycle(path[path.index(nxt) :])
                return Trace(flow, tuple(path), tuple(hops), "loop", cycle=cycle)
            path.append(nxt)
            node = nxt


def trace_flow(
    fib: FibSnapshot,
    owners: Mapping[str, Iterable[Prefix]],
    flow: Flow,
    *,
    seed_of: SeedFn = switch_seed,
    hash_fn: HashFn = flow_hash,
) -> Trace:
    """One flow's path through ``fib`` (what ``walk_flows`` does for each flow)."""
    return _Router(fib, owners, seed_of, hash_fn).trace(flow)


def walk_flows(
    fib: FibSnapshot,
    owners: Mapping[str, Iterable[Prefix]],
    flows: Iterable[Flow],
    *,
    seed_of: SeedFn = switch_seed,
    hash_fn: HashFn = flow_hash,
) -> FlowResult:
    """Route every flow hop by hop from its source node.

    At a node: the destination inside a prefix the node owns (``owners``) -> delivered;
    else longest-prefix match in its FIB: no entry, or a group with no member of positive
    weight -> black hole; else ``hash_fn(flow.key, seed_of(node))`` picks a member of the
    member table (see the module doc), and a member already on the path closes a loop.
    ``seed_of`` and ``hash_fn`` are there to emulate other hardware (or, in tests, a
    polarizing one)."""
    router = _Router(fib, owners, seed_of, hash_fn)
    delivered: Counter[str] = Counter()
    holes: Counter[tuple[str, Prefix, str]] = Counter()
    loops: Counter[tuple[tuple[str, ...], Prefix]] = Counter()
    members: dict[tuple[str, Prefix], Counter[str]] = {}
    links: Counter[tuple[str, str]] = Counter()
    total = 0
    for flow in flows:
        total += 1
        t = router.trace(flow)
        for hop in t.hops:
            members.setdefault((hop.node, hop.prefix), Counter())[hop.next_hop] += 1
            links[(hop.node, hop.next_hop)] += 1
        if t.outcome == "delivered":
            delivered[t.path[-1]] += 1
        elif t.outcome == "black-hole":
            assert t.prefix is not None
            holes[(t.path[-1], t.prefix, t.reason)] += 1
        else:
            loops[(t.cycle, flow.dst_prefix)] += 1
    groups = {
        k: GroupCount(k[0], k[1], dict(fib.entries[k[0]][k[1]]), dict(c))
        for k, c in sorted(members.items())
    }
    return FlowResult(
        flows=total,
        delivered=sum(delivered.values()),
        delivered_at=dict(delivered),
        black_holes=tuple(BlackHole(n, p, r, c) for (n, p, r), c in sorted(holes.items())),
        loops=tuple(Loop(cy, p, c) for (cy, p), c in sorted(loops.items())),
        groups=groups,
        links=dict(sorted(links.items())),
    )


# ---------------------------------------------------------------------------------------
# The chi-square check


@dataclass(frozen=True)
class GroupTest:
    """One group's counts against its weights: Pearson's chi-square goodness of fit.

    ``worst`` is the member whose observed share is farthest from its expected share."""

    node: str
    prefix: Prefix
    flows: int
    expected: Mapping[str, float]  # share per member, from the weights
    observed: Mapping[str, float]  # share per member, from the hashed flows
    statistic: float  # inf when flows took a member of no weight (JSON: null)
    p_value: float
    worst: str
    outlier: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "prefix": str(self.prefix),
            "flows": self.flows,
            "expected": dict(self.expected),
            "observed": dict(self.observed),
            "statistic": self.statistic if math.isfinite(self.statistic) else None,
            "p_value": self.p_value,
            "worst": self.worst,
        }


@dataclass(frozen=True)
class FlowReport:
    """``walk_flows``'s result with every testable group's chi-square test.

    Multiple testing: each group is one test at ``alpha``, so with ``groups_tested`` groups
    about ``alpha * groups_tested`` outliers are expected by chance even with a perfect
    hash (``expected_false_outliers``). ``bonferroni=True`` tests each group at
    ``alpha / groups_tested`` instead (family-wise error <= alpha); ``threshold`` is the
    level used."""

    result: FlowResult
    tests: tuple[GroupTest, ...]
    skipped: int  # groups seen but not tested (one member, too few flows, no claim)
    alpha: float
    bonferroni: bool
    threshold: float

    @property
    def outliers(self) -> tuple[GroupTest, ...]:
        return tuple(t for t in self.tests if t.outlier)

    @property
    def expected_false_outliers(self) -> float:
        return self.threshold * len(self.tests)

    def as_dict(self) -> dict[str, Any]:
        return self.result.as_dict() | {
            "alpha": self.alpha,
            "bonferroni": self.bonferroni,
            "threshold": self.threshold,
            "groups_tested": len(self.tests),
            "groups_skipped": self.skipped,
            "expected_false_outliers": self.expected_false_outliers,
            "p_values": [
                {"node": t.node, "prefix": str(t.prefix), "flows": t.flows, "p_value": t.p_value}
                for t in self.tests
            ],
            "outliers": [t.as_dict() for t in self.outliers],
        }


def _testable(weights: Mapping[str, int], counts: Mapping[str, int]) -> bool:
    """Chi-square needs two members or more and every expected count >= ``MIN_EXPECTED``
    (Cochran's rule); a flow counted on a member of no weight is always testable (and
    always an outlier)."""
    positive = {m: w for m, w in weights.items() if w > 0}
    if any(c > 0 and m not in positive for m, c in counts.items()):
        return True
    n, total = sum(counts.values()), sum(positive.values())
    if len(positive) < 2 or n == 0:
        return False
    return min(positive.values()) * n / total >= MIN_EXPECTED


def _chi_square(weights: Mapping[str, int], counts: Mapping[str, int]) -> tuple[float, float]:
    from scipy.stats import chisquare  # scipy is slow to import; only a check needs it

    positive = {m: w for m, w in weights.items() if w > 0}
    if any(c > 0 and m not in positive for m, c in counts.items()):
        return float("inf"), 0.0  # a member the weights give nothing got flows
    n, total = sum(counts.values()), sum(positive.values())
    members = sorted(positive)
    observed = [counts.get(m, 0) for m in members]
    expected = [n * positive[m] / total for m in members]
    res = chisquare(observed, expected)
    return float(res.statistic), float(res.pvalue)


def _shares(values: Mapping[str, float], members: Iterable[str]) -> dict[str, float]:
    total = sum(values.get(m, 0) for m in members) or 1
    return {m: values.get(m, 0) / total for m in members}


def _group_test(
    node: str, prefix: Prefix, weights: Mapping[str, int], counts: Mapping[str, int]
) -> GroupTest:
    members = sorted({m for m, w in weights.items() if w > 0} | set(counts))
    expected = _shares({m: max(w, 0) for m, w in weights.items()}, members)
    observed = _shares(counts, members)
    worst = max(members, key=lambda m: (abs(observed[m] - expected[m]), m))
    statistic, p = _chi_square(weights, counts)
    return GroupTest(
        node, prefix, sum(counts.values()), expected, observed, statistic, p, worst, False
    )


def check_groups(
    result: FlowResult,
    *,
    alpha: float = DEFAULT_ALPHA,
    bonferroni: bool = False,
    claimed: FibSnapshot | None = None,
) -> FlowReport:
    """Chi-square every group that saw enough flows (``_testable``): the per-member counts
    against the counts its weights predict. ``claimed`` compares with other weights than
    the ones the flows were hashed on (e.g. what a controller intended); a group it has no
    entry for is skipped. Outliers: p < ``alpha`` (``alpha / groups tested`` with
    ``bonferroni``)."""
    candidates = []
    skipped = 0
    for (node, prefix), g in result.groups.items():
        weights = g.weights if claimed is None else claimed.group(node, prefix)
        if weights is None or not _testable(weights, g.counts):
            skipped += 1
            continue
        candidates.append(_group_test(node, prefix, weights, g.counts))
    threshold = alpha / len(candidates) if bonferroni and candidates else alpha
    tests = tuple(replace(t, outlier=t.p_value < threshold) for t in candidates)
    return FlowReport(result, tests, skipped, alpha, bonferroni, threshold)


def check_flows(
    fib: FibSnapshot,
    owners: Mapping[str, Iterable[Prefix]],
    sources: Iterable[Demand | tuple[Any, ...]],
    *,
    n: int = DEFAULT_FLOWS,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    bonferroni: bool = False,
) -> FlowReport:
    """``make_flows`` -> ``walk_flows`` -> ``check_groups`` in one call."""
    flows = make_flows(n, sources, seed, owners=owners)
    return check_groups(walk_flows(fib, owners, flows), alpha=alpha, bonferroni=bonferroni)
