"""A region's topology: switches (nodes), bundles between them, and what they originate.

Frozen dataclasses for the file format (``load.py`` reads YAML into them, ``dump.py``
writes them back), and ``Topology.graph()`` for the networkx view every computation uses
(figures in ``info.py``, checks in ``validate.py``, session addresses in ``addresses.py``).

Roles and tiers. NSF (non-scheduled Clos): ``rtsw`` (rack) -> ``ftsw`` (fabric) -> ``stsw``
(spine). DSF (scheduled fabric): ``rdsw`` (rack) and ``edsw`` (edge) are the interface
nodes and speak BGP; ``fdsw`` nodes form the cell fabric between them, which is scheduled
and carries no BGP: a bundle between an interface node and an FDSW is capacity only, and
the interface nodes peer over the fabric (``dsf_mesh`` bundles: RDSW-EDSW sessions whose
capacity is what the cell fabric gives that pair). ``bag``: the Backend Aggregation layer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from speakers.graceful import GracefulRestart
from speakers.ucmp import MissingBandwidthMode, ReadvertiseMode
from speakers.wire import Prefix

if TYPE_CHECKING:
    import networkx as nx


class Role(Enum):
    RTSW = "rtsw"
    FTSW = "ftsw"
    STSW = "stsw"
    RDSW = "rdsw"
    EDSW = "edsw"
    FDSW = "fdsw"
    BAG = "bag"

    @property
    def tier(self) -> int:
        """Height in the region: leaves 1, BAG 4 (routes go up, then down)."""
        return _TIERS[self]

    @property
    def speaks_bgp(self) -> bool:
        return self is not Role.FDSW

    @property
    def fabric_kind(self) -> str | None:
        if self in (Role.RTSW, Role.FTSW, Role.STSW):
            return "nsf"
        if self in (Role.RDSW, Role.EDSW, Role.FDSW):
            return "dsf"
        return None


_TIERS = {
    Role.RTSW: 1,
    Role.RDSW: 1,
    Role.FTSW: 2,
    Role.FDSW: 2,
    Role.STSW: 3,
    Role.EDSW: 3,
    Role.BAG: 4,
}


# The link-bandwidth policies a topology can name, region-wide or per node: every export
# mode but ``fixed``, whose value a topology has no field for.
EXPORT_MODES = tuple(m.value for m in ReadvertiseMode if m is not ReadvertiseMode.FIXED)
MISSING_MODES = tuple(m.value for m in MissingBandwidthMode)


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    role: Role
    asn: int
    region: str
    building: str = ""
    fabric: str = ""  # the L2 fabric (NSF or DSF zone) a non-BAG node belongs to
    plane: int | None = None
    host_capacity_bps: float = 0.0  # capacity facing GPUs (leaves)
    chassis_ports: int | None = None  # ports the chassis has (e.g. 432 for a BAG)
    prefixes: tuple[Prefix, ...] = ()
    # Summarization at a tier boundary: this node announces these in place of the more
    # specific prefixes it learns from below, toward its upper-tier neighbors only.
    aggregates: tuple[Prefix, ...] = ()
    # This switch's own link-bandwidth policy where it differs from the region's defaults
    # (None: the default): what it attaches when advertising (``ucmp.ReadvertiseMode``) and
    # how it weighs paths without a value (``ucmp.MissingBandwidthMode``). A lab rebuilt
    # from FRR configurations needs them per router (leaves sending num-multipaths, spines
    # passing values through).
    link_bandwidth: str | None = None
    missing_bandwidth: str | None = None


@dataclass(frozen=True, slots=True)
class Bundle:
    """A LAG of ``members`` links of ``member_speed_bps`` each; one eBGP session runs over
    it unless one end does not speak BGP (an FDSW), then it is capacity only."""

    a: str
    b: str
    members: int
    member_speed_bps: float
    kind: str = "link"  # "link", or "dsf_mesh" (capacity across a scheduled DSF fabric)
    latency_s: float | None = None  # one way, seconds (None: the region's default)
    md5_password: str | None = None  # TCP-MD5 key of its session (None: the region's)

    @property
    def capacity_bps(self) -> float:
        return self.members * self.member_speed_bps

    @property
    def key(self) -> tuple[str, str]:
        return (self.a, self.b) if self.a <= self.b else (self.b, self.a)


@dataclass(frozen=True, slots=True)
class Defaults:
    """Speaker policy defaults for every node of the region."""

    hold_time_s: int = 9
    connect_retry_s: float = 1.0
    mrai_s: float = 0.0
    missing_bandwidth: str = "default"
    max_group_size: int = 128
    link_bandwidth: str = "cumulative"
    max_paths: int = 64
    extended_message: bool = False  # RFC 8654 offered on every session
    # A node's aggregates are announced only while its contributors cover all of them
    # (speakers/aggregate.py "Complete only": RFC 7938 §8.2's hazard avoided).
    aggregate_complete_only: bool = False
    # Graceful restart (RFC 4724) on every session, with FRR's timers (speakers/graceful.py):
    # ``bagctl node restart NODE --graceful`` needs it on.
    graceful_restart: GracefulRestart = field(default_factory=GracefulRestart)
    # Protections on every session (a bundle may set its own TCP-MD5 key): maximum-prefix
    # (Cease 6/1 past it, RFC 4486; restarted after the time if one is set), GTSM (RFC 5082)
    # and TCP-MD5 (RFC 2385), the last two on TCP sessions only (memory ones have no IP).
    max_prefixes: int | None = None
    max_prefixes_restart_s: float | None = None
    ttl_security: bool = False
    md5_password: str | None = None
    # The delay model on the region's clock (speakers/transport/inputs.py, README "The
    # region's clock"): each message a switch receives costs it this much, one at a
    # time; a bundle delays each message by its latency (unless the bundle says).
    processing_s: float = 10e-6
    latency_s: float = 5e-6


_LOOPBACK_V4 = ipaddress.IPv4Network("127.64.0.0/10")
_LINK_V4 = ipaddress.IPv4Network("10.128.0.0/9")
_LINK_V6 = ipaddress.IPv6Network("fd00:ba9::/48")


@dataclass(frozen=True, slots=True)
class Addressing:
    """Pools for automatic, deterministic addresses (``addresses.py``)."""

    loopback_v4: ipaddress.IPv4Network = _LOOPBACK_V4
    link_v4: ipaddress.IPv4Network = _LINK_V4
    link_v6: ipaddress.IPv6Network = _LINK_V6


@dataclass(frozen=True)
class Topology:
    name: str
    nodes: tuple[Node, ...]
    bundles: tuple[Bundle, ...]
    defaults: Defaults = field(default_factory=Defaults)
    addressing: Addressing = field(default_factory=Addressing)
    description: str = ""

    def node(self, name: str) -> Node:
        return self._by_name()[name]

    def _by_name(self) -> dict[str, Node]:
        cached = self.__dict__.get("_names")
        if cached is None:
            cached = {n.name: n for n in self.nodes}
            object.__setattr__(self, "_names", cached)
        return cached

    def bundle(self, a: str, b: str) -> Bundle:
        """The bundle between ``a`` and ``b`` (either order); KeyError naming both ends."""
        cached: dict[tuple[str, str], Bundle] | None = self.__dict__.get("_bundles")
        if cached is None:
            cached = {bundle.key: bundle for bundle in self.bundles}
            object.__setattr__(self, "_bundles", cached)
        try:
            return cached[(a, b) if a <= b else (b, a)]
        except KeyError:
            raise KeyError(f"no bundle between {a!r} and {b!r} in region {self.name}") from None

    def speakers(self) -> Iterator[Node]:
        return (n for n in self.nodes if n.role.speaks_bgp)

    def sessions(self) -> Iterator[Bundle]:
        """Bundles that carry an eBGP session (both ends speak BGP)."""
        names = self._by_name()
        return (
            b for b in self.bundles if names[b.a].role.speaks_bgp and names[b.b].role.speaks_bgp
        )

    def graph(self) -> nx.Graph:
        """Undirected graph: nodes carry ``node`` (the Node), edges ``bundle`` and
        ``capacity`` (bits/s). Parallel bundles between two nodes are merged (capacity
        added), so ``validate.py`` refuses them first."""
        # Imported here: networkx is half the modules a process loads, and a compose
        # container's agent, which needs the model but no graph, starts faster without it.
        import networkx as nx

        g = nx.Graph(name=self.name)
        for n in self.nodes:
            g.add_node(n.name, node=n, role=n.role.value, tier=n.role.tier)
        for b in self.bundles:
            g.add_edge(b.a, b.b, bundle=b, capacity=b.capacity_bps)
        return g
