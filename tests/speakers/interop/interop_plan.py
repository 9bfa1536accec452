"""What one interop lab holds: two links between bagemu and a peer daemon, four sessions,
the prefixes each side announces and the link bandwidth each side attaches.

Link 1 carries the sessions bagemu dials (the peer is passive): ``v4out`` over IPv4 and
``v6out`` over IPv6. Link 2 carries the sessions the peer dials (bagemu is passive):
``v4in`` and ``v6in``. IPv4 prefixes travel on the IPv4 sessions and IPv6 prefixes on the
IPv6 sessions (the peer offers one family per session: bagemu cannot put an IPv4 route
on an IPv6 session without RFC 8950 next hops, not done), so every prefix has two paths
each way, one per link, and UCMP has something to weigh on both sides.

Link bandwidth. bagemu exports ``cumulative`` (its default): min(the route's bandwidth,
the link's capacity). Its own prefixes carry 20 Gb/s; link 1's capacity is 10 Gb/s and
link 2's 1.6 Tb/s, so the peer should read 10 and 20 Gb/s, a 1:2 split. Link 1's
community is transitive (type 0x00, what FRR sends), link 2's non-transitive (0x40, what
RFC 10005 §2 defines), so each peer is shown both encodings. bagemu's AS is 4-octet (as
a BAG chassis's), so the community carries AS_TRANS (RFC 10005 §2). The peer attaches
1 Gb/s on link 1 and 3 Gb/s on link 2: bagemu's FIB should weigh them 1:3.

``WIDE`` is announced at run time with 800 Gb/s, a BAG link: 100 GB/s is over 2^32, the
range of a uint32 count of bytes/s (34.36 Gb/s), which some peers store it in.

Graceful restart (RFC 4724) is off unless the plan carries ``GracefulTimers``: then both
sides enable it with those timers (the graceful restart legs' own lab). Off elsewhere
because it changes what the other legs check: a killed side's routes would stay.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from netlab import LinkAddresses

from speakers.wire.prefix import IPAddress

G = 1e9
BAGEMU_AS = 4200000001
PEER_AS = 65002
AS_TRANS = 23456
BAGEMU_ORIGIN_BPS = 20 * G
LINK_CAPACITY_BPS = {1: 10 * G, 2: 1600 * G}
PEER_BPS = {1: 1 * G, 2: 3 * G}
WIDE_BPS = 800 * G

# Route data, not addresses of anything: documentation prefixes (RFC 5737, RFC 3849).
BAGEMU_PREFIXES = {4: "198.51.100.0/24", 6: "2001:db8:b::/64"}
PEER_PREFIXES = {4: "203.0.113.0/24", 6: "2001:db8:e::/64"}
WIDE = "198.51.101.0/24"


def f32(value: float) -> float:
    """``value`` as the IEEE binary32 the community carries."""
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


@dataclass(frozen=True, slots=True)
class Session:
    """One BGP session: its name (bagemu's neighbor name, the peer's protocol name), its
    transport family, who dials, its link and addresses, and its link bandwidths."""

    name: str
    version: int
    bagemu_dials: bool
    link: int
    bagemu_address: IPAddress
    peer_address: IPAddress
    capacity_bps: float  # bagemu's link capacity toward the peer: caps what it attaches
    transitive: bool  # bagemu's community: 0x00 (True) or 0x40 (False)
    peer_bps: float  # what the peer attaches toward bagemu

    def bagemu_bps(self, route_bps: float) -> float:
        """The bandwidth bagemu attaches here to a route of ``route_bps`` (cumulative)."""
        return min(route_bps, self.capacity_bps)


@dataclass(frozen=True, slots=True)
class GracefulTimers:
    """Both sides' graceful restart timers, seconds, short so the legs stay short:
    ``restart_time_s`` (what each advertises: how long the other keeps its routes while
    it is away), ``stalepath_time_s`` (how long a returned peer's stale routes wait for
    its End-of-RIB) and ``select_defer_time_s`` (how long a restarting side waits for its
    peers' End-of-RIB before selecting routes)."""

    restart_time_s: int = 30
    stalepath_time_s: int = 30
    select_defer_time_s: int = 20


@dataclass(frozen=True, slots=True)
class Plan:
    run_id: str
    sessions: tuple[Session, ...]
    bagemu_as: int = BAGEMU_AS
    peer_as: int = PEER_AS
    graceful: GracefulTimers | None = None  # graceful restart on both sides, or off

    @property
    def bagemu_router_id(self) -> str:
        return str(self.session("v4out").bagemu_address)

    @property
    def peer_router_id(self) -> str:
        return str(self.session("v4out").peer_address)

    def session(self, name: str) -> Session:
        (found,) = (s for s in self.sessions if s.name == name)
        return found

    def family(self, version: int) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.version == version)


def make_plan(
    run_id: str, links: dict[int, LinkAddresses], graceful: GracefulTimers | None = None
) -> Plan:
    """The lab's sessions over ``links`` 1 and 2 (bagemu on their left ends)."""
    sessions = []
    for link, dials in ((1, True), (2, False)):
        a = links[link]
        for version, mine, theirs in (
            (4, a.left_v4.ip, a.right_v4.ip),
            (6, a.left_v6.ip, a.right_v6.ip),
        ):
            sessions.append(
                Session(
                    name=f"v{version}{'out' if dials else 'in'}",
                    version=version,
                    bagemu_dials=dials,
                    link=link,
                    bagemu_address=mine,
                    peer_address=theirs,
                    capacity_bps=LINK_CAPACITY_BPS[link],
                    transitive=link == 1,
                    peer_bps=PEER_BPS[link],
                )
            )
    return Plan(run_id, tuple(sessions), graceful=graceful)


def bagemu_config(plan: Plan) -> str:
    """The bagemu speaker's YAML (README, "Speaker configuration")."""
    lines = [
        f"name: bagemu-{plan.run_id}",
        f"asn: {plan.bagemu_as}",
        f"router_id: {plan.bagemu_router_id}",
        f"listen: {{address: '{plan.bagemu_router_id}', port: 179}}",
        "hold_time_s: 9",
        "connect_retry_s: 0.5",
        "neighbors:",
    ]
    for s in plan.sessions:
        export = "{link_bandwidth: cumulative, link_bandwidth_transitive: %s}" % (
            "true" if s.transitive else "false"
        )
        lines.append(
            f"  - {{name: {s.name}, address: '{s.peer_address}', "
            f"local_address: '{s.bagemu_address}', remote_as: {plan.peer_as}, "
            f"link_capacity: {s.capacity_bps:.0f}, passive: {str(not s.bagemu_dials).lower()}, "
            f"export: {export}}}"
        )
    gr = plan.graceful
    if gr is not None:
        lines.append(
            f"graceful_restart: {{enabled: true, restart_time_s: {gr.restart_time_s}, "
            f"stalepath_time_s: {gr.stalepath_time_s}, "
            f"select_defer_time_s: {gr.select_defer_time_s}}}"
        )
    lines.append("originate:")
    for prefix in BAGEMU_PREFIXES.values():
        lines.append(f"  - {{prefix: '{prefix}', bandwidth: {BAGEMU_ORIGIN_BPS:.0f}}}")
    return "\n".join(lines) + "\n"
