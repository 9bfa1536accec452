"""One table of BGP messages, and how to build and read each with bagemu, exabgp and scapy.

Each case is described once, as a library-neutral *spec* of plain values (prefix strings,
ASNs, bits per second). From a spec this module builds

- ``ours(spec)``: the bagemu dataclass, which is also what our decoder must return;
- ``exabgp_encode(spec)``: the message as exabgp 5.0.15 encodes it;
- ``scapy_packet(spec)``: the message as a scapy.contrib.bgp packet;
- ``expected_view(spec)``: what the message *means*, as a small dict;

and reads bytes back with ``exabgp_view(exabgp_decode(raw))`` and
``scapy_view(scapy_decode(raw))``, which map each library's objects onto that same dict,
so one comparison checks a decoder field by field.

Wire order. exabgp decides some of the layout itself: it sorts NLRI by (prefix length,
address), emits attributes by ascending type code with MP_REACH_NLRI / MP_UNREACH_NLRI
*after* the others, and keeps community lists in the order given. The table therefore lists
prefixes in exabgp's order (``UpdateSpec`` checks it), and the byte-for-byte comparison
encodes ours with ``EXABGP_LAYOUT`` (``mp_attributes_first=False``). Our default, RFC 7606
§5.1 MP-first layout is checked separately in the test module.

Library quirks handled here, each where it bites (see the comments there):
exabgp: logging must be disabled before decoding; LOCAL_PREF is dropped unless
local_as == peer_as; ``Bandwidth(asn, speed)`` packs 6 octets, so link bandwidth is handed
over as its 8 octets, and ``bandwidth.py`` must be imported for decoding; no type for a
32-octet IPv6 next hop; decoded communities come back sorted; shutdown communications come
back rewritten as text. scapy: 4-octet AS_PATH decoding is a module switch; attribute flags,
the Extended Length flag and MP_REACH's next-hop length are not computed; the ADD-PATH
heuristic misreads NLRI starting with 0.0.0.0/0; list fields stop at 100 items; a 4-octet
AGGREGATOR and all communities but the first are not dissected.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import struct
from dataclasses import dataclass, field
from typing import Any

# scapy logs "use_2_bytes_asn: True" through its own stderr handler on import.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

import scapy.contrib.bgp as sbgp  # noqa: E402
from exabgp.bgp.message import Message as ExaMessage  # noqa: E402
from exabgp.bgp.message.action import Action  # noqa: E402
from exabgp.bgp.message.direction import Direction  # noqa: E402
from exabgp.bgp.message.keepalive import KeepAlive as ExaKeepAlive  # noqa: E402
from exabgp.bgp.message.notification import Notification as ExaNotification  # noqa: E402
from exabgp.bgp.message.notification import Notify as ExaNotify  # noqa: E402
from exabgp.bgp.message.open import Open as ExaOpen  # noqa: E402
from exabgp.bgp.message.open.asn import ASN  # noqa: E402
from exabgp.bgp.message.open.capability import Capabilities, Capability, Negotiated  # noqa: E402
from exabgp.bgp.message.open.capability.asn4 import ASN4  # noqa: E402
from exabgp.bgp.message.open.capability.extended import ExtendedMessage  # noqa: E402
from exabgp.bgp.message.open.capability.mp import MultiProtocol  # noqa: E402
from exabgp.bgp.message.open.capability.refresh import (  # noqa: E402
    EnhancedRouteRefresh as ExaEnhancedRouteRefreshCap,
)
from exabgp.bgp.message.open.capability.refresh import (  # noqa: E402
    RouteRefresh as ExaRouteRefreshCap,
)
from exabgp.bgp.message.open.holdtime import HoldTime  # noqa: E402
from exabgp.bgp.message.open.routerid import RouterID  # noqa: E402
from exabgp.bgp.message.open.version import Version  # noqa: E402
from exabgp.bgp.message.refresh import RouteRefresh as ExaRouteRefresh  # noqa: E402
from exabgp.bgp.message.update import Update as ExaUpdate  # noqa: E402
from exabgp.bgp.message.update.attribute import (  # noqa: E402
    MED,
    SEQUENCE,
    SET,
    Aggregator,
    ASPath,
    AtomicAggregate,
    Attribute,
    Attributes,
    Communities,
    ExtendedCommunities,
    LocalPreference,
    NextHop,
    Origin,
)

# bandwidth.py is imported by nothing in exabgp itself: without this import 0x00/0x04 and
# 0x40/0x04 decode as anonymous ExtendedCommunity objects instead of Bandwidth.
from exabgp.bgp.message.update.attribute.community.extended.bandwidth import (  # noqa: E402
    Bandwidth,
)
from exabgp.bgp.message.update.attribute.community.extended.rt import (  # noqa: E402
    RouteTargetASN2Number,
)
from exabgp.bgp.message.update.attribute.community.initial.community import (  # noqa: E402
    Community,
)
from exabgp.bgp.message.update.eor import EOR  # noqa: E402
from exabgp.bgp.message.update.nlri.cidr import CIDR  # noqa: E402
from exabgp.bgp.message.update.nlri.inet import INET  # noqa: E402
from exabgp.bgp.neighbor import Neighbor  # noqa: E402
from exabgp.logger import log  # noqa: E402
from exabgp.protocol.family import AFI, SAFI  # noqa: E402
from exabgp.protocol.ip import IP  # noqa: E402
from scapy.config import conf as scapy_conf  # noqa: E402
from scapy.packet import NoPayload, Padding, Raw  # noqa: E402

from speakers import wire as codec  # noqa: E402
from speakers.wire import (  # noqa: E402
    AS_TRANS,
    AsPath,
    AsPathSegment,
    CapabilitiesParameter,
    CodecContext,
    EnhancedRouteRefreshCapability,
    ExtendedMessageCapability,
    FourOctetAsCapability,
    Keepalive,
    LinkBandwidth,
    Message,
    MpReachNlri,
    MpUnreachNlri,
    MultiprotocolCapability,
    Notification,
    Open,
    PathAttributes,
    Prefix,
    RouteRefresh,
    RouteRefreshCapability,
    SegmentType,
    Update,
)

# exabgp's UPDATE decoder calls log.debug() unguarded; the logger is None until set up.
log.disable()

EXABGP_LAYOUT = CodecContext(mp_attributes_first=False)
"""Our encoder with MP_REACH_NLRI / MP_UNREACH_NLRI appended, as exabgp lays them out."""

MAX_SEGMENT_ASNS = 255  # RFC 4271 §4.3: the segment length is one octet


def hexwire(text: str) -> bytes:
    """Bytes from hex laid out one field per line; ``#`` starts a comment."""
    return bytes.fromhex("".join(line.split("#", 1)[0] for line in text.splitlines()))


# --- the spec vocabulary ------------------------------------------------------------------


@dataclass(frozen=True)
class OpenSpec:
    """``capabilities``: ("multiprotocol", afi, safi), ("four-octet-as", asn),
    ("route-refresh",), ("enhanced-route-refresh",), ("extended-message",); one per
    optional parameter, in this order (the multiprotocol ones first and adjacent, as
    exabgp keeps them in one dict entry)."""

    asn: int
    hold_time: int
    router_id: str
    capabilities: tuple[tuple[Any, ...], ...] = ()

    def __post_init__(self) -> None:
        kinds = [c[0] for c in self.capabilities]
        n_mp = kinds.count("multiprotocol")
        assert kinds[:n_mp] == ["multiprotocol"] * n_mp, "multiprotocol capabilities go first"
        assert len(set(kinds[n_mp:])) == len(kinds[n_mp:]), "exabgp keeps one of each code"

    @property
    def my_as(self) -> int:
        """RFC 6793 §4.1: AS_TRANS in My AS for an ASN that needs 4 octets."""
        return self.asn if self.asn <= 0xFFFF else AS_TRANS


@dataclass(frozen=True)
class KeepaliveSpec:
    pass


@dataclass(frozen=True)
class NotificationSpec:
    """``shutdown``: an RFC 8203 / RFC 9003 shutdown communication (then ``data`` is
    derived: a length octet and the UTF-8 text)."""

    code: int
    subcode: int
    data: bytes = b""
    shutdown: str | None = None

    @property
    def wire_data(self) -> bytes:
        if self.shutdown is None:
            return self.data
        text = self.shutdown.encode("utf-8")
        return bytes((len(text),)) + text


@dataclass(frozen=True)
class RouteRefreshSpec:
    afi: int
    safi: int
    subtype: int = 0  # RFC 7313 §3.2: 0 request, 1 BoRR, 2 EoRR


@dataclass(frozen=True)
class LinkBw:
    """RFC 10005 link bandwidth, given in bits per second as links are quoted."""

    bps: float
    asn: int
    transitive: bool

    @property
    def global_admin(self) -> int:
        """RFC 10005 §2: the AS, or AS_TRANS for one that needs 4 octets."""
        return self.asn if self.asn <= 0xFFFF else AS_TRANS

    @property
    def bytes_per_s(self) -> float:
        """The value on the wire: bytes per second, rounded to IEEE-754 binary32."""
        return struct.unpack("!f", struct.pack("!f", self.bps / 8))[0]

    @property
    def type_high(self) -> int:
        return 0x00 if self.transitive else 0x40  # RFC 10005 §2


@dataclass(frozen=True)
class RouteTarget:
    """RFC 4360 §4 route target, Two-Octet AS Specific (0x00/0x02)."""

    asn: int
    number: int


def _prefix_key(text: str) -> tuple[int, bytes]:
    """exabgp's NLRI sort key: prefix length first, then the address."""
    net = ipaddress.ip_network(text)
    return net.prefixlen, net.network_address.packed


@dataclass(frozen=True)
class UpdateSpec:
    """An UPDATE. ``withdrawn``/``nlri`` are the IPv4 body fields; ``mp_*`` are IPv6
    unicast in MP_REACH_NLRI / MP_UNREACH_NLRI. ``as_path`` segments are ("sequence" |
    "set", ASNs); a sequence longer than 255 ASNs is one entry here and two segments on
    the wire. ``communities``: "ASN:VALUE" or "no-export"."""

    withdrawn: tuple[str, ...] = ()
    nlri: tuple[str, ...] = ()
    origin: int | None = None
    as_path: tuple[tuple[str, tuple[int, ...]], ...] | None = None
    next_hop: str | None = None
    med: int | None = None
    local_pref: int | None = None
    atomic_aggregate: bool = False
    aggregator: tuple[int, str] | None = None
    communities: tuple[str, ...] = ()
    ext_communities: tuple[LinkBw | RouteTarget, ...] = ()
    mp_next_hop: str | None = None
    mp_link_local: str | None = None
    mp_nlri: tuple[str, ...] = ()
    mp_withdrawn: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("withdrawn", "nlri", "mp_nlri", "mp_withdrawn"):
            prefixes = getattr(self, name)
            for text in prefixes:  # the libraries print prefixes in canonical form
                assert str(ipaddress.ip_network(text)) == text, f"write {text} canonically"
            assert list(prefixes) == sorted(prefixes, key=_prefix_key), (
                f"{name}: list prefixes in exabgp's wire order (length, then address)"
            )
        # exabgp puts each of these in a message of its own (RFC 7606 §5.1).
        carriers = (self.withdrawn, self.nlri, self.mp_nlri, self.mp_withdrawn)
        assert sum(map(bool, carriers)) <= 1, "one NLRI carrier per UPDATE"

    @property
    def ibgp(self) -> bool:
        """exabgp sends LOCAL_PREF only when local_as == peer_as, and adds LOCAL_PREF 100
        when it is absent then; so a case with LOCAL_PREF is encoded as iBGP, one without
        as eBGP."""
        return self.local_pref is not None


Spec = OpenSpec | KeepaliveSpec | NotificationSpec | RouteRefreshSpec | UpdateSpec


def community_value(text: str) -> int:
    if text == "no-export":
        return 0xFFFFFF01  # RFC 1997
    high, low = text.split(":")
    return int(high) << 16 | int(low)


def wire_segments(as_path: tuple[tuple[str, tuple[int, ...]], ...]) -> list[tuple[int, list[int]]]:
    """(segment type, ASNs) as they go on the wire: RFC 4271 §4.3 caps a segment at 255
    ASNs, so a longer AS_SEQUENCE becomes consecutive segments (§5.1.2)."""
    out = []
    for kind, asns in as_path:
        code = {"set": 1, "sequence": 2}[kind]
        if code == 1:
            assert len(asns) <= MAX_SEGMENT_ASNS, "an AS_SET cannot be split"
        for i in range(0, len(asns), MAX_SEGMENT_ASNS):
            out.append((code, list(asns[i : i + MAX_SEGMENT_ASNS])))
    return out


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    spec: Spec
    wire: bytes | None = field(default=None, repr=False)  # pinned by hand where given
    scapy: bool = True  # False where scapy cannot express the message (see the case)


GBPS = 1e9
AS_A, AS_B = 4_200_000_001, 4_200_000_002  # 4-octet ASNs (RFC 6793)

CASES: list[Case] = [
    # --- OPEN ---
    Case(
        "open-as4-mp-v4-v6-route-refresh-extended-message",
        OpenSpec(
            asn=AS_A,
            hold_time=90,
            router_id="192.0.2.1",
            capabilities=(
                ("multiprotocol", 1, 1),
                ("multiprotocol", 2, 1),
                ("four-octet-as", AS_A),
                ("route-refresh",),
                ("extended-message",),
            ),
        ),
        wire=hexwire(
            """
            ffffffffffffffffffffffffffffffff  # marker
            003d                              # length 61
            01                                # type OPEN
            04                                # version 4
            5ba0                              # My AS 23456 = AS_TRANS (RFC 6793 §4.1)
            005a                              # hold time 90
            c0000201                          # BGP identifier 192.0.2.1
            20                                # optional parameters length 32
            02 06  01 04 0001 00 01           # capabilities: multiprotocol IPv4 unicast
            02 06  01 04 0002 00 01           # capabilities: multiprotocol IPv6 unicast
            02 06  41 04 fa56ea01             # capabilities: 4-octet AS 4200000001
            02 02  02 00                      # capabilities: route refresh
            02 02  06 00                      # capabilities: extended message (RFC 8654)
            """
        ),
    ),
    Case(
        "open-as2-enhanced-route-refresh",
        OpenSpec(
            asn=65001,
            hold_time=180,
            router_id="10.0.0.1",
            capabilities=(
                ("multiprotocol", 1, 1),
                ("route-refresh",),
                ("enhanced-route-refresh",),
                ("four-octet-as", 65001),
            ),
        ),
    ),
    Case(
        "open-as2-no-capabilities",
        OpenSpec(asn=65002, hold_time=0, router_id="198.51.100.7"),
    ),
    Case(
        "open-rfc9072-extended-optional-parameters",
        # 32 multiprotocol capabilities and the 4-octet AS one: 264 octets of optional
        # parameters, more than the 1-octet length holds, so RFC 9072 §2's form (255, 255,
        # a 2-octet length, 2-octet parameter lengths). scapy's BGPOpen has no RFC 9072
        # form (its lengths are one octet): exabgp alone checks this one.
        OpenSpec(
            asn=AS_B,
            hold_time=90,
            router_id="192.0.2.2",
            capabilities=(
                *(("multiprotocol", afi, safi) for afi in (1, 2) for safi in range(1, 17)),
                ("four-octet-as", AS_B),
            ),
        ),
        scapy=False,
    ),
    # --- KEEPALIVE ---
    Case("keepalive", KeepaliveSpec()),
    # --- NOTIFICATION ---
    Case(
        "notification-update-malformed-attribute-list-with-data",
        NotificationSpec(code=3, subcode=1, data=b"\x00\x01"),
    ),
    Case(
        "notification-header-bad-message-length",
        NotificationSpec(code=1, subcode=2, data=b"\x10\x01"),  # RFC 4271 §6.1: the Length
    ),
    Case("notification-hold-timer-expired", NotificationSpec(code=4, subcode=0)),
    Case(
        "notification-cease-shutdown-ascii",
        NotificationSpec(code=6, subcode=2, shutdown="maintenance: linecard 3 swap, back 02:00"),
    ),
    Case(
        "notification-cease-shutdown-utf8",
        NotificationSpec(code=6, subcode=2, shutdown="Wartung läuft ✓"),
        wire=hexwire(
            """
            ffffffffffffffffffffffffffffffff  # marker
            0028                              # length 40
            03                                # type NOTIFICATION
            06                                # error code: Cease
            02                                # subcode: Administrative Shutdown
            12                                # RFC 8203 length: 18 octets of UTF-8
            57617274756e67                    # "Wartung"
            20                                # " "
            6cc3a4756674                      # "läuft" (ä = c3 a4)
            20                                # " "
            e29c93                            # "✓" U+2713
            """
        ),
    ),
    Case(
        "notification-cease-reset-ascii",
        NotificationSpec(code=6, subcode=4, shutdown="policy change"),
    ),
    # --- ROUTE-REFRESH ---
    Case("route-refresh-ipv4", RouteRefreshSpec(afi=1, safi=1)),
    Case("route-refresh-ipv6", RouteRefreshSpec(afi=2, safi=1)),
    Case("route-refresh-ipv6-borr", RouteRefreshSpec(afi=2, safi=1, subtype=1)),  # RFC 7313
    # --- IPv4 UPDATE ---
    Case(
        "update-ipv4-all-attributes",
        UpdateSpec(
            nlri=("10.1.0.0/16", "10.0.0.0/24", "192.168.1.128/25"),
            origin=0,
            as_path=(("sequence", (65001, AS_A, AS_B)), ("set", (64512, 70000))),
            next_hop="192.0.2.254",
            med=50,
            local_pref=200,
            atomic_aggregate=True,
            aggregator=(AS_A, "192.0.2.1"),
            communities=("65001:100", "65001:200", "no-export"),
            ext_communities=(
                LinkBw(800 * GBPS, 65001, transitive=True),
                LinkBw(800 * GBPS, 65001, transitive=False),
                RouteTarget(65001, 100),
            ),
        ),
    ),
    Case(
        "update-ipv4-link-bandwidth-transitive-800g",
        UpdateSpec(
            nlri=("203.0.113.0/24",),
            origin=0,
            as_path=(("sequence", (65001,)),),
            next_hop="192.0.2.1",
            ext_communities=(LinkBw(800 * GBPS, 65001, transitive=True),),
        ),
    ),
    Case(
        "update-ipv4-link-bandwidth-non-transitive-432x800g",
        UpdateSpec(
            nlri=("198.51.100.0/24",),
            origin=0,
            as_path=(("sequence", (65001,)),),
            next_hop="192.0.2.1",
            ext_communities=(LinkBw(432 * 800 * GBPS, 65001, transitive=False),),
        ),
    ),
    Case(
        "update-ipv4-link-bandwidth-both-48pbps",
        UpdateSpec(
            nlri=("10.2.0.0/16",),
            origin=0,
            as_path=(("sequence", (65001, AS_A)),),
            next_hop="192.0.2.1",
            ext_communities=(
                LinkBw(48e15, 65001, transitive=True),
                LinkBw(800 * GBPS, 65002, transitive=False),
                RouteTarget(65001, 100),
            ),
        ),
        wire=hexwire(
            """
            ffffffffffffffffffffffffffffffff  # marker
            004d                              # length 77
            02                                # type UPDATE
            0000                              # withdrawn routes length 0
            0033                              # total path attribute length 51
            40 01 01  00                      # ORIGIN (well-known): IGP
            40 02 0a  02 02 0000fde9 fa56ea01 # AS_PATH: AS_SEQUENCE 65001 4200000001
            40 03 04  c0000201                # NEXT_HOP 192.0.2.1
            c0 10 18                          # EXTENDED_COMMUNITIES (optional transitive), 24
            00 04 fde9 59aa87bf               #   link bandwidth, transitive, AS 65001,
                                              #   48 Pb/s = 6e15 B/s as binary32 (RFC 10005 §2)
            40 04 fdea 51ba43b7               #   link bandwidth, non-transitive, AS 65002,
                                              #   800 Gb/s = 1e11 B/s as binary32
            00 02 fde9 00000064               #   route target 65001:100 (RFC 4360 §4)
            10 0a02                           # NLRI 10.2.0.0/16
            """
        ),
    ),
    Case(
        "update-ipv4-link-bandwidth-as-trans",
        UpdateSpec(
            nlri=("192.0.2.0/24",),
            origin=0,
            as_path=(("sequence", (AS_A,)),),
            next_hop="198.51.100.1",
            # RFC 10005 §2: a 4-octet AS does not fit the Global Administrator: AS_TRANS.
            ext_communities=(LinkBw(400 * GBPS, AS_A, transitive=True),),
        ),
    ),
    Case(
        "update-ipv4-default-route",
        UpdateSpec(
            nlri=("0.0.0.0/0", "10.0.0.0/24"),
            origin=2,
            as_path=(("sequence", (65001, 65002)),),
            next_hop="192.0.2.1",
            med=0,
            communities=("no-export",),
        ),
    ),
    Case(
        "update-ipv4-as-path-300-asns",
        UpdateSpec(
            nlri=("10.3.0.0/16",),
            origin=1,
            as_path=(("sequence", tuple(range(AS_A, AS_A + 300))),),
            next_hop="192.0.2.1",
        ),
    ),
    Case(
        "update-ipv4-communities-extended-length",
        UpdateSpec(
            nlri=("10.4.0.0/16",),
            origin=0,
            as_path=(("sequence", (65001,)),),
            next_hop="192.0.2.1",
            # 64 communities: a 256-octet value, one past what a 1-octet length holds, so
            # the attribute needs the Extended Length flag (RFC 4271 §4.3).
            communities=tuple(f"65001:{n}" for n in range(64)),
        ),
    ),
    Case(
        "update-ipv4-ibgp-empty-as-path",
        # RFC 4271 §5.1.2: a route originated into iBGP carries an empty AS_PATH.
        UpdateSpec(
            nlri=("10.5.0.0/16",),
            origin=0,
            as_path=(),
            next_hop="10.0.0.1",
            local_pref=100,
        ),
    ),
    # --- IPv6 UPDATE (MP_REACH_NLRI) ---
    Case(
        "update-ipv6-mp-reach-global",
        UpdateSpec(
            origin=0,
            as_path=(("sequence", (65001, AS_A)),),
            med=0,
            communities=("65001:300",),
            ext_communities=(LinkBw(800 * GBPS, 65001, transitive=True),),
            mp_next_hop="2001:db8::1",
            mp_nlri=("2001:db8::/32", "2001:db8:1::/48", "2001:db8:2::/64"),
        ),
    ),
    Case(
        "update-ipv6-mp-reach-global-and-link-local",
        UpdateSpec(
            origin=0,
            as_path=(("sequence", (65001,)),),
            med=0,
            local_pref=100,
            mp_next_hop="2001:db8::1",
            mp_link_local="fe80::1",
            mp_nlri=("2001:db8:1::/48", "2001:db8:2::/64"),
        ),
        wire=hexwire(
            """
            ffffffffffffffffffffffffffffffff  # marker
            006a                              # length 106
            02                                # type UPDATE
            0000                              # withdrawn routes length 0
            0053                              # total path attribute length 83
            40 01 01  00                      # ORIGIN: IGP
            40 02 06  02 01 0000fde9          # AS_PATH: AS_SEQUENCE 65001
            80 04 04  00000000                # MULTI_EXIT_DISC 0
            40 05 04  00000064                # LOCAL_PREF 100
            80 0e 35                          # MP_REACH_NLRI (optional), 53 octets
            0002 01                           #   AFI IPv6, SAFI unicast
            20                                #   next-hop length 32 (RFC 2545 §3)
            20010db8000000000000000000000001  #   global 2001:db8::1
            fe800000000000000000000000000001  #   link-local fe80::1
            00                                #   reserved
            30 20010db80001                   #   2001:db8:1::/48
            40 20010db800020000               #   2001:db8:2::/64
            """
        ),
    ),
    Case(
        "update-ipv6-mp-reach-extended-length",
        UpdateSpec(
            origin=0,
            as_path=(("sequence", (65001,)),),
            # 32 x /64 (9 octets each) and a 16-octet next hop: a 309-octet MP_REACH_NLRI.
            mp_next_hop="2001:db8::1",
            mp_nlri=tuple(str(ipaddress.ip_network(f"2001:db8:10:{n:x}::/64")) for n in range(32)),
        ),
    ),
    # --- withdrawals ---
    Case(
        "withdraw-ipv4",
        UpdateSpec(withdrawn=("10.1.0.0/16", "10.0.0.0/24", "192.168.1.128/25")),
    ),
    Case(
        "withdraw-ipv6-mp-unreach",
        UpdateSpec(mp_withdrawn=("2001:db8::/32", "2001:db8:1::/48", "2001:db8:2:3::/64")),
    ),
    Case(
        "withdraw-ipv6-mp-unreach-extended-length",
        # 40 x /48 (7 octets each): a 283-octet MP_UNREACH_NLRI, Extended Length.
        UpdateSpec(mp_withdrawn=tuple(f"2001:db8:{n:x}::/48" for n in range(0x100, 0x128))),
    ),
    Case("end-of-rib-ipv4", UpdateSpec()),  # RFC 4724 §2: an empty UPDATE
]


# --- ours ---------------------------------------------------------------------------------


def _prefixes(texts: tuple[str, ...]) -> tuple[Prefix, ...]:
    return tuple(Prefix.parse(t) for t in texts)


def _our_capability(cap: tuple[Any, ...]):
    kind = cap[0]
    if kind == "multiprotocol":
        return MultiprotocolCapability(cap[1], cap[2])
    if kind == "four-octet-as":
        return FourOctetAsCapability(cap[1])
    return {
        "route-refresh": RouteRefreshCapability,
        "enhanced-route-refresh": EnhancedRouteRefreshCapability,
        "extended-message": ExtendedMessageCapability,
    }[kind]()


def ours(spec: Spec) -> Message:
    """The bagemu message for ``spec``: what we encode, and what our decoder must return."""
    if isinstance(spec, OpenSpec):
        return Open(
            my_as=spec.my_as,
            hold_time_s=spec.hold_time,
            bgp_identifier=ipaddress.IPv4Address(spec.router_id),
            parameters=tuple(
                CapabilitiesParameter((_our_capability(c),)) for c in spec.capabilities
            ),
        )
    if isinstance(spec, KeepaliveSpec):
        return Keepalive()
    if isinstance(spec, NotificationSpec):
        return Notification(spec.code, spec.subcode, spec.wire_data)
    if isinstance(spec, RouteRefreshSpec):
        return RouteRefresh(spec.afi, spec.safi, spec.subtype)
    assert isinstance(spec, UpdateSpec)
    ext: list[LinkBandwidth | codec.ExtendedCommunity] = []
    for c in spec.ext_communities:
        if isinstance(c, LinkBw):
            ext.append(LinkBandwidth.from_bps(c.bps, asn=c.asn, transitive=c.transitive))
        else:
            ext.append(codec.ExtendedCommunity(struct.pack("!BBHI", 0x00, 0x02, c.asn, c.number)))
    attrs = PathAttributes(
        origin=None if spec.origin is None else codec.Origin(spec.origin),
        as_path=None
        if spec.as_path is None
        else AsPath(
            tuple(
                AsPathSegment(
                    SegmentType.AS_SET if kind == "set" else SegmentType.AS_SEQUENCE, asns
                )
                for kind, asns in spec.as_path
            )
        ),
        next_hop=None if spec.next_hop is None else ipaddress.IPv4Address(spec.next_hop),
        med=spec.med,
        local_pref=spec.local_pref,
        atomic_aggregate=spec.atomic_aggregate,
        aggregator=None
        if spec.aggregator is None
        else codec.Aggregator(spec.aggregator[0], ipaddress.IPv4Address(spec.aggregator[1])),
        communities=tuple(community_value(c) for c in spec.communities),
        ext_communities=tuple(ext),
    )
    mp_reach = None
    if spec.mp_nlri:
        assert spec.mp_next_hop is not None
        mp_reach = MpReachNlri(
            afi=2,
            safi=1,
            next_hop=ipaddress.IPv6Address(spec.mp_next_hop),
            nlri=_prefixes(spec.mp_nlri),
            link_local=None
            if spec.mp_link_local is None
            else ipaddress.IPv6Address(spec.mp_link_local),
        )
    mp_unreach = None
    if spec.mp_withdrawn:
        mp_unreach = MpUnreachNlri(afi=2, safi=1, withdrawn=_prefixes(spec.mp_withdrawn))
    return Update(
        withdrawn=_prefixes(spec.withdrawn),
        attributes=attrs,
        nlri=_prefixes(spec.nlri),
        mp_reach=mp_reach,
        mp_unreach=mp_unreach,
    )


# --- exabgp -------------------------------------------------------------------------------

_EXA_CAPABILITY_NAMES = {
    Capability.CODE.ROUTE_REFRESH: "route-refresh",
    Capability.CODE.ENHANCED_ROUTE_REFRESH: "enhanced-route-refresh",
    Capability.CODE.EXTENDED_MESSAGE: "extended-message",
}


def exabgp_negotiated(*, ibgp: bool = False, asn4: bool = True) -> Negotiated:
    """A Negotiated as after two OPENs offering IPv4 and IPv6 unicast and (unless
    ``asn4`` is False) 4-octet ASNs.

    ``local_as``/``peer_as`` only matter to encoding: exabgp drops LOCAL_PREF unless they
    are equal, and adds LOCAL_PREF 100 when they are and it is absent."""
    neg = Negotiated(Neighbor())  # Neighbor() is read only for the AIGP capability
    neg.asn4 = asn4
    neg.families = [(AFI.ipv4, SAFI.unicast), (AFI.ipv6, SAFI.unicast)]
    neg.msg_size = 4096
    neg.local_as = ASN(65001)
    neg.peer_as = ASN(65001 if ibgp else 65002)
    return neg


def _exa_inet(text: str, action: int, nexthop: Any = None) -> INET:
    net = ipaddress.ip_network(text)
    afi = AFI.ipv4 if net.version == 4 else AFI.ipv6
    nlri = INET(afi, SAFI.unicast, action)
    nlri.cidr = CIDR(net.network_address.packed, net.prefixlen)
    if nexthop is not None:
        nlri.nexthop = nexthop
    return nlri


def _exa_link_bandwidth(c: LinkBw) -> Bandwidth:
    # exabgp's Bandwidth(asn, speed) packs only pack('!Hf', asn, speed): 6 octets without
    # the type and subtype. It cannot encode link bandwidth by itself, so it is handed the
    # whole community (built here with struct, not with our LinkBandwidth). scapy, which
    # computes the binary32 itself, is the independent encoder for this value.
    raw = struct.pack("!BBHf", c.type_high, 0x04, c.global_admin, c.bps / 8)
    return Bandwidth(c.global_admin, c.bytes_per_s, raw)


def exabgp_encode(spec: Spec, *, asn4: bool = True) -> bytes:
    """The one message exabgp 5.0.15 emits for ``spec`` (on a session with 4-octet ASNs
    unless ``asn4`` is False)."""
    if isinstance(spec, OpenSpec):
        caps = Capabilities()  # a dict by code: one optional parameter per capability
        for cap in spec.capabilities:
            if cap[0] == "multiprotocol":
                caps.setdefault(Capability.CODE.MULTIPROTOCOL, MultiProtocol()).append(
                    (AFI.create(cap[1]), SAFI.create(cap[2]))
                )
            elif cap[0] == "four-octet-as":
                caps[Capability.CODE.FOUR_BYTES_ASN] = ASN4(cap[1])
            elif cap[0] == "route-refresh":
                caps[Capability.CODE.ROUTE_REFRESH] = ExaRouteRefreshCap()
            elif cap[0] == "enhanced-route-refresh":
                caps[Capability.CODE.ENHANCED_ROUTE_REFRESH] = ExaEnhancedRouteRefreshCap()
            else:
                caps[Capability.CODE.EXTENDED_MESSAGE] = ExtendedMessage()
        # message() writes asn.trans(): AS_TRANS for a 4-octet ASN.
        return ExaOpen(
            Version(4), ASN(spec.asn), HoldTime(spec.hold_time), RouterID(spec.router_id), caps
        ).message()
    if isinstance(spec, KeepaliveSpec):
        return ExaKeepAlive().message()
    if isinstance(spec, NotificationSpec):
        # Notify() with str data encodes it as ASCII (adding the RFC 8203 length octet for
        # 6/2 and 6/4); bytes go out verbatim, which is the only way to send UTF-8 text.
        return ExaNotify(spec.code, spec.subcode, spec.wire_data).message()
    if isinstance(spec, RouteRefreshSpec):
        return ExaRouteRefresh(spec.afi, spec.safi, spec.subtype).message()
    assert isinstance(spec, UpdateSpec)
    if not (spec.withdrawn or spec.nlri or spec.mp_nlri or spec.mp_withdrawn):
        return EOR(AFI.ipv4, SAFI.unicast).message()
    attrs = Attributes()
    if spec.origin is not None:
        attrs.add(Origin(spec.origin))
    if spec.as_path is not None:
        # exabgp splits a segment of more than 255 ASNs itself (ASPath._segment).
        attrs.add(
            ASPath(
                [
                    (SET if kind == "set" else SEQUENCE)([ASN(a) for a in asns])
                    for kind, asns in spec.as_path
                ]
            )
        )
    if spec.next_hop is not None:
        # The body NEXT_HOP is an attribute of its own; nlri.nexthop does not create it.
        attrs.add(NextHop(spec.next_hop))
    if spec.med is not None:
        attrs.add(MED(spec.med))
    if spec.local_pref is not None:
        attrs.add(LocalPreference(spec.local_pref))
    if spec.atomic_aggregate:
        attrs.add(AtomicAggregate())
    if spec.aggregator is not None:
        attrs.add(Aggregator(ASN(spec.aggregator[0]), IP.create(spec.aggregator[1])))
    if spec.communities:
        attrs.add(
            Communities(
                [Community(struct.pack("!I", community_value(c))) for c in spec.communities]
            )
        )
    if spec.ext_communities:
        attrs.add(
            ExtendedCommunities(
                [
                    _exa_link_bandwidth(c)
                    if isinstance(c, LinkBw)
                    else RouteTargetASN2Number(ASN(c.asn), c.number)
                    for c in spec.ext_communities
                ]
            )
        )
    nlris = [_exa_inet(p, Action.WITHDRAW) for p in spec.withdrawn + spec.mp_withdrawn]
    if spec.nlri:
        nh = IP.create(spec.next_hop)
        nlris += [_exa_inet(p, Action.ANNOUNCE, nh) for p in spec.nlri]
    if spec.mp_nlri:
        if spec.mp_link_local is None:
            nh = IP.create(spec.mp_next_hop)
        else:
            # exabgp has no type for a global + link-local next hop (RFC 2545 §3); an IP
            # whose packed form is the 32 octets encodes it correctly.
            both = IP.pton(spec.mp_next_hop) + IP.pton(spec.mp_link_local)
            nh = IP.create(spec.mp_next_hop, both)
        nlris += [_exa_inet(p, Action.ANNOUNCE, nh) for p in spec.mp_nlri]
    neg = exabgp_negotiated(ibgp=spec.ibgp, asn4=asn4)
    messages = list(ExaUpdate(nlris, attrs).messages(neg))
    assert len(messages) == 1, f"exabgp produced {len(messages)} messages"
    return messages[0]


def exabgp_decode(raw: bytes, negotiated: Negotiated | None = None) -> Any:
    """exabgp's object for one whole message (exabgp has no header-level entry point)."""
    assert raw[:16] == b"\xff" * 16
    length, msg_type = struct.unpack("!HB", raw[16:19])
    assert length == len(raw)
    neg = negotiated or exabgp_negotiated()
    # A fresh Negotiated, so exabgp's one-entry attribute cache cannot answer for us.
    return ExaMessage.unpack(msg_type, raw[19:], Direction.IN, neg)


_EXA_SHUTDOWN = re.compile(rb'^Shutdown Communication: "(.*)"$', re.DOTALL)


def exabgp_view(obj: Any) -> dict[str, Any]:
    """What exabgp understood, in ``expected_view``'s terms."""
    if isinstance(obj, ExaOpen):
        caps: list[tuple[Any, ...]] = []
        for code, cap in obj.capabilities.items():
            if code == Capability.CODE.MULTIPROTOCOL:
                caps += [("multiprotocol", int(afi), int(safi)) for afi, safi in cap]
            elif code == Capability.CODE.FOUR_BYTES_ASN:
                caps.append(("four-octet-as", int(cap)))
            else:
                caps.append((_EXA_CAPABILITY_NAMES.get(code, f"unknown-{int(code)}"),))
        return {
            "message": "open",
            "version": int(obj.version),
            "my_as": int(obj.asn),
            "hold_time": int(obj.hold_time),
            "router_id": str(obj.router_id),
            "capabilities": caps,
        }
    if isinstance(obj, ExaKeepAlive):
        return {"message": "keepalive"}
    if isinstance(obj, ExaNotification):
        view: dict[str, Any] = {"message": "notification", "code": obj.code}
        view["subcode"] = obj.subcode
        if (obj.code, obj.subcode) in ((6, 2), (6, 4)):
            # exabgp rewrites a shutdown communication's data into display text.
            match = _EXA_SHUTDOWN.match(obj.data)
            view["shutdown"] = match.group(1).decode("utf-8") if match else obj.data
        else:
            view["data"] = bytes(obj.data)
        return view
    if isinstance(obj, ExaRouteRefresh):
        return {
            "message": "route-refresh",
            "afi": int(obj.afi),
            "safi": int(obj.safi),
            "subtype": int(obj.reserved),
        }
    if isinstance(obj, EOR):
        if (obj.nlris[0].afi, obj.nlris[0].safi) == (AFI.ipv4, SAFI.unicast):
            return {"message": "update"}
        unreach = {"afi": int(obj.nlris[0].afi), "safi": int(obj.nlris[0].safi), "withdrawn": []}
        return {"message": "update", "mp_unreach": unreach}
    assert isinstance(obj, ExaUpdate), type(obj)
    return _exabgp_update_view(obj)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _exabgp_update_view(upd: ExaUpdate) -> dict[str, Any]:
    view: dict[str, Any] = {"message": "update"}
    v4 = [n for n in upd.nlris if n.afi == AFI.ipv4]
    v6 = [n for n in upd.nlris if n.afi == AFI.ipv6]
    assert len(v4) + len(v6) == len(upd.nlris), "only unicast families expected"
    for n in upd.nlris:
        assert n.safi == SAFI.unicast
    withdrawn = [n.cidr.prefix() for n in v4 if n.action == Action.WITHDRAW]
    announced = [n for n in v4 if n.action == Action.ANNOUNCE]
    if withdrawn:
        view["withdrawn"] = withdrawn
    if announced:
        view["nlri"] = [n.cidr.prefix() for n in announced]
    mp_withdrawn = [n.cidr.prefix() for n in v6 if n.action == Action.WITHDRAW]
    mp_announced = [n for n in v6 if n.action == Action.ANNOUNCE]
    if mp_withdrawn:
        view["mp_unreach"] = {"afi": 2, "safi": 1, "withdrawn": mp_withdrawn}
    if mp_announced:
        # A 32-octet next hop is split in two and every prefix reported once per next hop.
        view["mp_reach"] = {
            "afi": 2,
            "safi": 1,
            "next_hops": _unique([str(n.nexthop) for n in mp_announced]),
            "nlri": _unique([n.cidr.prefix() for n in mp_announced]),
        }
    a = upd.attributes
    known = {
        Attribute.CODE.ORIGIN,
        Attribute.CODE.AS_PATH,
        Attribute.CODE.NEXT_HOP,
        Attribute.CODE.MED,
        Attribute.CODE.LOCAL_PREF,
        Attribute.CODE.ATOMIC_AGGREGATE,
        Attribute.CODE.AGGREGATOR,
        Attribute.CODE.AS4_AGGREGATOR,
        Attribute.CODE.COMMUNITY,
        Attribute.CODE.EXTENDED_COMMUNITY,
    }
    assert set(a) <= known, f"unexpected attributes (or RFC 7606 verdicts): {set(a) - known}"
    if Attribute.CODE.ORIGIN in a:
        view["origin"] = int(a[Attribute.CODE.ORIGIN].origin)
    if Attribute.CODE.AS_PATH in a:
        view["as_path"] = [
            (seg.ID, [int(asn) for asn in seg]) for seg in a[Attribute.CODE.AS_PATH].aspath
        ]
    if Attribute.CODE.NEXT_HOP in a:
        view["next_hop"] = str(a[Attribute.CODE.NEXT_HOP])
        for n in announced:
            assert str(n.nexthop) == view["next_hop"]
    if Attribute.CODE.MED in a:
        view["med"] = int(a[Attribute.CODE.MED].med)
    if Attribute.CODE.LOCAL_PREF in a:
        view["local_pref"] = int(a[Attribute.CODE.LOCAL_PREF].localpref)
    if Attribute.CODE.ATOMIC_AGGREGATE in a:
        view["atomic_aggregate"] = True
    for code in (Attribute.CODE.AGGREGATOR, Attribute.CODE.AS4_AGGREGATOR):
        # On a 2-octet session exabgp files the AGGREGATOR it rebuilt from AS4_AGGREGATOR
        # (RFC 6793 §4.2.3) under the AS4_AGGREGATOR code.
        if code in a:
            assert "aggregator" not in view
            agg = a[code]
            view["aggregator"] = (int(agg.asn), str(agg.speaker))
    if Attribute.CODE.COMMUNITY in a:
        view["communities"] = sorted(
            struct.unpack("!I", c.community)[0] for c in a[Attribute.CODE.COMMUNITY].communities
        )
    if Attribute.CODE.EXTENDED_COMMUNITY in a:
        ecs = []
        for c in a[Attribute.CODE.EXTENDED_COMMUNITY].communities:
            raw = bytes(c.community)
            if isinstance(c, Bandwidth):
                # exabgp reads both 0x00/0x04 and 0x40/0x04 as Bandwidth; the type octet
                # (RFC 4360 §2: the T bit, 0x40, set means non-transitive) stays in .community.
                ecs.append(("link-bandwidth", not raw[0] & 0x40, int(c.asn), float(c.speed)))
            elif isinstance(c, RouteTargetASN2Number):
                ecs.append(("route-target", int(c.asn), int(c.number)))
            else:
                ecs.append(("raw", raw.hex()))
        view["ext_communities"] = sorted(ecs)
    return view


# --- scapy --------------------------------------------------------------------------------

# Attribute flags (RFC 4271 §4.3). scapy does not derive them: type_flags defaults to 0x80
# (optional) for every attribute and None crashes, and Extended Length is never set for you.
WELL_KNOWN, OPTIONAL, OPT_TRANSITIVE, EXTENDED_LENGTH = 0x40, 0x80, 0xC0, 0x10
_SCAPY_GENERIC_CAPS = {"route-refresh": 2, "extended-message": 6, "enhanced-route-refresh": 70}


def _attr(flags: int, code: int, value: Any = None) -> sbgp.BGPPathAttr:
    if value is not None and len(bytes(value)) > 255:
        flags |= EXTENDED_LENGTH
    return sbgp.BGPPathAttr(type_flags=flags, type_code=code, attribute=value)


def _scapy_capability(cap: tuple[Any, ...]) -> Any:
    if cap[0] == "multiprotocol":
        return sbgp.BGPCapMultiprotocol(afi=cap[1], safi=cap[2])
    if cap[0] == "four-octet-as":
        return sbgp.BGPCapFourBytesASN(asn=cap[1])
    # No dedicated classes: capabilities without a value are generic ones.
    return sbgp.BGPCapGeneric(code=_SCAPY_GENERIC_CAPS[cap[0]])


def _scapy_ext_community(c: LinkBw | RouteTarget) -> sbgp.BGPPAExtCommunity:
    if isinstance(c, LinkBw):
        # scapy has no link-bandwidth class; FlowSpec traffic-rate has the same layout (a
        # 2-octet AS and an IEEE-754 binary32, RFC 5575) and packs the float itself.
        return sbgp.BGPPAExtCommunity(
            type_high=c.type_high,
            type_low=0x04,
            value=sbgp.BGPPAExtCommTrafficRate(id=c.global_admin, rate=c.bps / 8),
        )
    return sbgp.BGPPAExtCommunity(
        type_high=0x00,
        type_low=0x02,
        value=sbgp.BGPPAExtCommTwoOctetASSpecific(
            global_administrator=c.asn, local_administrator=c.number
        ),
    )


def scapy_packet(spec: Spec, *, mp_first: bool = False) -> Any:
    """The scapy packet for ``spec``; ``mp_first`` puts MP_(UN)REACH_NLRI first."""
    if isinstance(spec, OpenSpec):
        return sbgp.BGPHeader(type=1) / sbgp.BGPOpen(
            version=4,
            my_as=spec.my_as,
            hold_time=spec.hold_time,
            bgp_id=spec.router_id,
            opt_params=[
                sbgp.BGPOptParam(param_value=_scapy_capability(c)) for c in spec.capabilities
            ],
        )
    if isinstance(spec, KeepaliveSpec):
        return sbgp.BGPKeepAlive()
    if isinstance(spec, NotificationSpec):
        # No RFC 8203 helper: the length octet is part of wire_data.
        return sbgp.BGPHeader(type=3) / sbgp.BGPNotification(
            error_code=spec.code, error_subcode=spec.subcode, data=spec.wire_data
        )
    if isinstance(spec, RouteRefreshSpec):
        return sbgp.BGPHeader(type=5) / sbgp.BGPRouteRefresh(
            afi=spec.afi, subtype=spec.subtype, safi=spec.safi
        )
    assert isinstance(spec, UpdateSpec)
    attrs = []
    if spec.origin is not None:
        attrs.append(_attr(WELL_KNOWN, 1, sbgp.BGPPAOrigin(origin=spec.origin)))
    if spec.as_path is not None:
        # Segments of at most 255 ASNs are ours to cut: scapy writes what it is given.
        segments = [
            sbgp.BGPPAAS4BytesPath.ASPathSegment(segment_type=kind, segment_value=asns)
            for kind, asns in wire_segments(spec.as_path)
        ]
        attrs.append(_attr(WELL_KNOWN, 2, sbgp.BGPPAAS4BytesPath(segments=segments)))
    if spec.next_hop is not None:
        attrs.append(_attr(WELL_KNOWN, 3, sbgp.BGPPANextHop(next_hop=spec.next_hop)))
    if spec.med is not None:
        attrs.append(_attr(OPTIONAL, 4, sbgp.BGPPAMultiExitDisc(med=spec.med)))
    if spec.local_pref is not None:
        attrs.append(_attr(WELL_KNOWN, 5, sbgp.BGPPALocalPref(local_pref=spec.local_pref)))
    if spec.atomic_aggregate:
        attrs.append(_attr(WELL_KNOWN, 6))
    if spec.aggregator is not None:
        # BGPPAAggregator has a 2-octet AS; the AS4_AGGREGATOR layout is the 4-octet one.
        asn, speaker = spec.aggregator
        agg = sbgp.BGPPAAS4Aggregator(aggregator_asn=asn, speaker_address=speaker)
        attrs.append(_attr(OPT_TRANSITIVE, 7, agg))
    if spec.communities:
        # BGPPACommunity holds one community: stack them.
        value = sbgp.BGPPACommunity(community=community_value(spec.communities[0]))
        for c in spec.communities[1:]:
            value = value / sbgp.BGPPACommunity(community=community_value(c))
        attrs.append(_attr(OPT_TRANSITIVE, 8, value))
    if spec.ext_communities:
        ecs = [_scapy_ext_community(c) for c in spec.ext_communities]
        attrs.append(_attr(OPT_TRANSITIVE, 16, sbgp.BGPPAExtComms(extended_communities=ecs)))
    mp = []
    if spec.mp_nlri:
        nlri = [sbgp.BGPNLRI_IPv6(prefix=p) for p in spec.mp_nlri]
        # nh_addr_len is not computed, and it selects which next-hop fields exist.
        if spec.mp_link_local is None:
            reach = sbgp.BGPPAMPReachNLRI(
                afi=2, safi=1, nh_addr_len=16, nh_v6_addr=spec.mp_next_hop, nlri=nlri
            )
        else:
            reach = sbgp.BGPPAMPReachNLRI(
                afi=2,
                safi=1,
                nh_addr_len=32,
                nh_v6_global=spec.mp_next_hop,
                nh_v6_link_local=spec.mp_link_local,
                nlri=nlri,
            )
        mp.append(_attr(OPTIONAL, 14, reach))
    if spec.mp_withdrawn:
        routes = [sbgp.BGPNLRI_IPv6(prefix=p) for p in spec.mp_withdrawn]
        unreach = sbgp.BGPPAMPUnreachNLRI(
            afi=2, safi=1, afi_safi_specific=sbgp.BGPPAMPUnreachNLRI_IPv6(withdrawn_routes=routes)
        )
        mp.append(_attr(OPTIONAL, 15, unreach))
    return sbgp.BGPHeader(type=2) / sbgp.BGPUpdate(
        withdrawn_routes=[sbgp.BGPNLRI_IPv4(prefix=p) for p in spec.withdrawn],
        path_attr=mp + attrs if mp_first else attrs + mp,
        nlri=[sbgp.BGPNLRI_IPv4(prefix=p) for p in spec.nlri],
    )


def scapy_configure(monkeypatch: Any) -> None:
    """Module switches scapy's BGP dissector needs, undone by ``monkeypatch`` afterwards."""
    # Read at dissect time: AS_PATH with 4-octet ASNs (the default is a 2-octet speaker).
    monkeypatch.setattr(sbgp.bgp_module_conf, "use_2_bytes_asn", False)
    # scapy guesses ADD-PATH (RFC 7911) per NLRI field with a wireshark-derived heuristic
    # and guesses wrong when 0.0.0.0/0 comes first (exabgp always sorts it first): the
    # update-ipv4-default-route case dissects as one ADD-PATH prefix with path id 1575424.
    # No session here negotiates ADD-PATH, so switch the guess off.
    monkeypatch.setattr(sbgp, "detect_add_path_prefix46", lambda s, max_bit_length: False)
    # A list field stops dissecting at conf.max_list_count items (100), a guard against
    # hostile input, and falls back to Raw for the whole UPDATE: an AS_PATH segment may
    # hold 255 ASNs.
    monkeypatch.setattr(scapy_conf, "max_list_count", MAX_SEGMENT_ASNS)


def scapy_decode(raw: bytes) -> Any:
    return sbgp.BGP(raw)


def scapy_view(pkt: Any) -> dict[str, Any]:
    """What scapy dissected, in ``expected_view``'s terms."""
    layer = pkt
    while not isinstance(layer, NoPayload):
        # Nothing left over, or dissection gave up (scapy then keeps the rest as Raw).
        assert not isinstance(layer, Raw | Padding), f"scapy did not dissect: {pkt!r}"
        layer = layer.payload
    if pkt.haslayer(sbgp.BGPOpen):
        o = pkt[sbgp.BGPOpen]
        caps: list[tuple[Any, ...]] = []
        names = {v: k for k, v in _SCAPY_GENERIC_CAPS.items()}
        for param in o.opt_params:
            assert param.param_type == 2
            cap = param.param_value
            if isinstance(cap, sbgp.BGPCapMultiprotocol):
                caps.append(("multiprotocol", cap.afi, cap.safi))
            elif isinstance(cap, sbgp.BGPCapFourBytesASN):
                caps.append(("four-octet-as", cap.asn))
            else:
                assert cap.length == 0 and cap.cap_data == b""
                caps.append((names.get(cap.code, f"unknown-{cap.code}"),))
        return {
            "message": "open",
            "version": o.version,
            "my_as": o.my_as,
            "hold_time": o.hold_time,
            "router_id": o.bgp_id,
            "capabilities": caps,
        }
    if isinstance(pkt, sbgp.BGPKeepAlive):
        return {"message": "keepalive"}
    if pkt.haslayer(sbgp.BGPNotification):
        n = pkt[sbgp.BGPNotification]
        data = n.data or b""
        view: dict[str, Any] = {"message": "notification", "code": n.error_code}
        view["subcode"] = n.error_subcode
        if (n.error_code, n.error_subcode) in ((6, 2), (6, 4)):
            # scapy keeps the data raw: read the RFC 8203 length octet here.
            assert data[0] == len(data) - 1
            view["shutdown"] = data[1:].decode("utf-8")
        else:
            view["data"] = data
        return view
    if pkt.haslayer(sbgp.BGPRouteRefresh):
        r = pkt[sbgp.BGPRouteRefresh]
        return {"message": "route-refresh", "afi": r.afi, "safi": r.safi, "subtype": r.subtype}
    return _scapy_update_view(pkt[sbgp.BGPUpdate])


def _scapy_update_view(u: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"message": "update"}
    for name in ("withdrawn_routes", "nlri"):
        for n in getattr(u, name):
            assert type(n) is sbgp.BGPNLRI_IPv4, "ADD-PATH misdetection"
    if u.withdrawn_routes:
        view["withdrawn"] = [n.prefix for n in u.withdrawn_routes]
    if u.nlri:
        view["nlri"] = [n.prefix for n in u.nlri]
    for pa in u.path_attr:
        code = pa.type_code
        value = bytes(pa.attribute) if pa.attribute is not None else b""
        if code == 1:
            view["origin"] = pa.attribute.origin
        elif code == 2:
            view["as_path"] = [
                (s.segment_type, list(s.segment_value)) for s in pa.attribute.segments
            ]
        elif code == 3:
            view["next_hop"] = pa.attribute.next_hop
        elif code == 4:
            view["med"] = pa.attribute.med
        elif code == 5:
            view["local_pref"] = pa.attribute.local_pref
        elif code == 6:
            assert value == b""
            view["atomic_aggregate"] = True
        elif code == 7:
            # Dissected with the 2-octet class whatever its length: re-read 8 octets as
            # the 4-octet layout.
            assert len(value) == 8
            agg = sbgp.BGPPAAS4Aggregator(value)
            view["aggregator"] = (agg.aggregator_asn, agg.speaker_address)
        elif code == 8:
            # Only the first community is dissected (the rest is a Raw payload).
            view["communities"] = sorted(struct.unpack("!%dI" % (len(value) // 4), value))
        elif code == 16:
            ecs = []
            for ec in pa.attribute.extended_communities:
                raw = bytes(ec.value)
                if ec.type_low == 0x04 and ec.type_high in (0x00, 0x40):
                    # Dissected as Two-Octet AS Specific with an integer Local
                    # Administrator: the binary32 is read from the octets.
                    asn, bw = struct.unpack("!Hf", raw)
                    ecs.append(("link-bandwidth", ec.type_high == 0x00, asn, bw))
                elif (ec.type_high, ec.type_low) == (0x00, 0x02):
                    ecs.append(
                        (
                            "route-target",
                            ec.value.global_administrator,
                            ec.value.local_administrator,
                        )
                    )
                else:
                    ecs.append(("raw", (bytes((ec.type_high, ec.type_low)) + raw).hex()))
            view["ext_communities"] = sorted(ecs)
        elif code == 14:
            mp = pa.attribute
            if mp.nh_addr_len == 16:
                next_hops = [mp.nh_v6_addr]
            else:
                assert mp.nh_addr_len == 32
                next_hops = [mp.nh_v6_global, mp.nh_v6_link_local]
            view["mp_reach"] = {
                "afi": mp.afi,
                "safi": mp.safi,
                "next_hops": next_hops,
                "nlri": [n.prefix for n in mp.nlri],
            }
        elif code == 15:
            mp = pa.attribute
            spec = mp.afi_safi_specific
            routes = spec.withdrawn_routes if spec is not None else []
            for n in routes:
                assert type(n) is sbgp.BGPNLRI_IPv6, "ADD-PATH misdetection"
            view["mp_unreach"] = {
                "afi": mp.afi,
                "safi": mp.safi,
                "withdrawn": [n.prefix for n in routes],
            }
        else:
            raise AssertionError(f"unexpected attribute {code}")
    return view


# --- the expected meaning -----------------------------------------------------------------


def expected_view(spec: Spec) -> dict[str, Any]:
    """What every decoder must find in the message ``spec`` describes.

    Communities and extended communities are compared sorted, because exabgp sorts them
    on decode; their wire order is pinned by the byte-for-byte comparison."""
    if isinstance(spec, OpenSpec):
        return {
            "message": "open",
            "version": 4,
            "my_as": spec.my_as,
            "hold_time": spec.hold_time,
            "router_id": spec.router_id,
            "capabilities": list(spec.capabilities),
        }
    if isinstance(spec, KeepaliveSpec):
        return {"message": "keepalive"}
    if isinstance(spec, NotificationSpec):
        view: dict[str, Any] = {"message": "notification", "code": spec.code}
        view["subcode"] = spec.subcode
        if spec.shutdown is not None:
            view["shutdown"] = spec.shutdown
        else:
            view["data"] = spec.data
        return view
    if isinstance(spec, RouteRefreshSpec):
        return {
            "message": "route-refresh",
            "afi": spec.afi,
            "safi": spec.safi,
            "subtype": spec.subtype,
        }
    assert isinstance(spec, UpdateSpec)
    view = {"message": "update"}
    if spec.withdrawn:
        view["withdrawn"] = list(spec.withdrawn)
    if spec.nlri:
        view["nlri"] = list(spec.nlri)
    if spec.origin is not None:
        view["origin"] = spec.origin
    if spec.as_path is not None:
        view["as_path"] = wire_segments(spec.as_path)
    if spec.next_hop is not None:
        view["next_hop"] = spec.next_hop
    if spec.med is not None:
        view["med"] = spec.med
    if spec.local_pref is not None:
        view["local_pref"] = spec.local_pref
    if spec.atomic_aggregate:
        view["atomic_aggregate"] = True
    if spec.aggregator is not None:
        view["aggregator"] = spec.aggregator
    if spec.communities:
        view["communities"] = sorted(community_value(c) for c in spec.communities)
    if spec.ext_communities:
        view["ext_communities"] = sorted(
            ("link-bandwidth", c.transitive, c.global_admin, c.bytes_per_s)
            if isinstance(c, LinkBw)
            else ("route-target", c.asn, c.number)
            for c in spec.ext_communities
        )
    if spec.mp_nlri:
        next_hops = [spec.mp_next_hop]
        if spec.mp_link_local is not None:
            next_hops.append(spec.mp_link_local)
        view["mp_reach"] = {
            "afi": 2,
            "safi": 1,
            "next_hops": next_hops,
            "nlri": list(spec.mp_nlri),
        }
    if spec.mp_withdrawn:
        view["mp_unreach"] = {"afi": 2, "safi": 1, "withdrawn": list(spec.mp_withdrawn)}
    return view
