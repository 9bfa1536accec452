"""Malformed input, one table: each case is the wire bytes and the exact verdict the RFCs ask for.

Every input is hex, one field per line with a comment naming the field (the style of
gobgp's ``Test_MalformedUpdateMsg``), built on a few helpers: ``message`` frames a body
with marker, length and type; ``update_msg`` / ``open_msg`` lay out the body fields of a
valid baseline UPDATE / OPEN, and each case breaks one field. The baselines are cases too,
to show that the harness accepts valid input.

A verdict names, for an error: the exception class; the NOTIFICATION code/subcode (and
data, where the RFC fixes it) that ``to_notification()`` must give; the IANA names
``str(err)`` must print; for UPDATEs the RFC 7606 action, the faults in ``problems``
(attribute type, subcode, action) and what ``err.update`` must hold. For accepted input:
the decoded message, which must re-encode to the same bytes, and any further checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv6Address

import pytest

from speakers.wire import (
    Aggregator,
    AsPath,
    BgpError,
    CapabilitiesParameter,
    CodecContext,
    ErrorAction,
    LinkBandwidth,
    Message,
    MessageHeaderError,
    MpReachNlri,
    MultiprotocolCapability,
    Open,
    OpenMessageError,
    Origin,
    PathAttributes,
    Prefix,
    RawAttribute,
    RouteRefreshMessageError,
    UnknownCapability,
    Update,
    UpdateMessageError,
    decode_message,
    encode_message,
)

DISCARD = ErrorAction.ATTRIBUTE_DISCARD
WITHDRAW = ErrorAction.TREAT_AS_WITHDRAW
AFI_SAFI_DISABLE = ErrorAction.AFI_SAFI_DISABLE
RESET = ErrorAction.SESSION_RESET

DEFAULT = CodecContext()
EXTENDED = CodecContext(extended_message=True)  # RFC 8654: both sides sent the capability

# "code / subcode" as the IANA registries (RFC 4271 §4.5, RFC 7313 §5) name them.
NAMES: dict[tuple[int, int], str] = {
    (1, 1): "Message Header Error / Connection Not Synchronized",
    (1, 2): "Message Header Error / Bad Message Length",
    (1, 3): "Message Header Error / Bad Message Type",
    (2, 0): "OPEN Message Error / Unspecific",
    (2, 1): "OPEN Message Error / Unsupported Version Number",
    (2, 2): "OPEN Message Error / Bad Peer AS",
    (2, 3): "OPEN Message Error / Bad BGP Identifier",
    (2, 4): "OPEN Message Error / Unsupported Optional Parameter",
    (2, 6): "OPEN Message Error / Unacceptable Hold Time",
    (3, 1): "UPDATE Message Error / Malformed Attribute List",
    (3, 2): "UPDATE Message Error / Unrecognized Well-known Attribute",
    (3, 3): "UPDATE Message Error / Missing Well-known Attribute",
    (3, 4): "UPDATE Message Error / Attribute Flags Error",
    (3, 5): "UPDATE Message Error / Attribute Length Error",
    (3, 6): "UPDATE Message Error / Invalid ORIGIN Attribute",
    (3, 8): "UPDATE Message Error / Invalid NEXT_HOP Attribute",
    (3, 9): "UPDATE Message Error / Optional Attribute Error",
    (3, 10): "UPDATE Message Error / Invalid Network Field",
    (3, 11): "UPDATE Message Error / Malformed AS_PATH",
    (7, 1): "ROUTE-REFRESH Message Error / Invalid Message Length",
}


# --- framing ------------------------------------------------------------------------------


def x(*fields: str) -> bytes:
    """Hex fields concatenated into bytes."""
    return bytes.fromhex("".join(fields))


def u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


MARKER = "ff" * 16
OPEN, UPDATE = 1, 2


def message(msg_type: int, body: bytes) -> bytes:
    """Header (RFC 4271 §4.1) + body, the Length field computed."""
    return (
        x(MARKER)  # Marker: all ones
        + u16(19 + len(body))  # Length: header included
        + bytes((msg_type,))  # Type
        + body
    )


# --- the baseline UPDATE: every attribute bagemu types, valid -----------------------------

ORIGIN = x(
    "40",  # flags: well-known, transitive
    "01",  # type: ORIGIN
    "01",  # length 1
    "00",  # IGP
)
AS_PATH = x(
    "40",  # flags: well-known, transitive
    "02",  # type: AS_PATH
    "0a",  # length 10
    "02",  # segment type: AS_SEQUENCE
    "02",  # segment length: 2 ASNs
    "0000fde9",  # AS 65001 (4 octets: RFC 6793, the default context)
    "0000fdea",  # AS 65002
)
NEXT_HOP = x(
    "40",  # flags: well-known, transitive
    "03",  # type: NEXT_HOP
    "04",  # length 4
    "c0000201",  # 192.0.2.1
)
MED = x(
    "80",  # flags: optional, non-transitive
    "04",  # type: MULTI_EXIT_DISC
    "04",  # length 4
    "00000064",  # 100
)
LOCAL_PREF = x(
    "40",  # flags: well-known, transitive
    "05",  # type: LOCAL_PREF
    "04",  # length 4
    "000000c8",  # 200
)
ATOMIC_AGGREGATE = x(
    "40",  # flags: well-known, transitive
    "06",  # type: ATOMIC_AGGREGATE
    "00",  # length 0
)
AGGREGATOR = x(
    "c0",  # flags: optional, transitive
    "07",  # type: AGGREGATOR
    "08",  # length 8
    "0000fde9",  # AS 65001
    "c0000201",  # 192.0.2.1
)
COMMUNITIES = x(
    "c0",  # flags: optional, transitive
    "08",  # type: COMMUNITIES
    "04",  # length 4
    "fde90064",  # 65001:100
)


def link_bandwidth(value: str, *, transitive: bool = True) -> str:
    """One RFC 10005 §2 extended community (8 octets) as hex."""
    return "".join(
        (
            "00" if transitive else "40",  # type: Two-Octet AS-Specific (0x40: non-transitive)
            "04",  # subtype: link bandwidth
            "fde9",  # Global Administrator: AS 65001
            value,  # Local Administrator: IEEE-754 binary32, bytes per second
        )
    )


def ext_communities(*communities: str) -> bytes:
    value = x(*communities)
    return (
        x(
            "c0",  # flags: optional, transitive
            "10",  # type: EXTENDED_COMMUNITIES
        )
        + bytes((len(value),))  # length
        + value
    )


LB_800G = link_bandwidth("51ba43b7")  # 1e11 B/s = 800 Gb/s
EXT_COMMUNITIES = ext_communities(LB_800G)

BASE_ATTR_LIST = (
    ORIGIN,
    AS_PATH,
    NEXT_HOP,
    MED,
    LOCAL_PREF,
    ATOMIC_AGGREGATE,
    AGGREGATOR,
    COMMUNITIES,
    EXT_COMMUNITIES,
)
BASE_ATTRS = b"".join(BASE_ATTR_LIST)
BASE_NLRI = x(
    "18",  # prefix length 24
    "0a0102",  # 10.1.2.0
    "10",  # prefix length 16
    "0a03",  # 10.3.0.0
)


def swap(old: bytes, new: bytes, *more: bytes) -> bytes:
    """The baseline attributes with ``old`` replaced by ``new`` in place (``more``: further
    old, new pairs)."""
    changes = dict(zip((old, *more[::2]), (new, *more[1::2]), strict=True))
    return b"".join(changes.get(a, a) for a in BASE_ATTR_LIST)


def drop(old: bytes) -> bytes:
    return b"".join(a for a in BASE_ATTR_LIST if a != old)


def update_msg(
    attrs: bytes = BASE_ATTRS,
    nlri: bytes = BASE_NLRI,
    withdrawn: bytes = b"",
    *,
    wlen: int | None = None,
    alen: int | None = None,
) -> bytes:
    """An UPDATE, body fields in order (RFC 4271 §4.3); lengths computed unless given."""
    return message(
        UPDATE,
        u16(len(withdrawn) if wlen is None else wlen)  # Withdrawn Routes Length
        + withdrawn  # Withdrawn Routes
        + u16(len(attrs) if alen is None else alen)  # Total Path Attribute Length
        + attrs  # Path Attributes
        + nlri,  # Network Layer Reachability Information
    )


BASE_PREFIXES = (Prefix.parse("10.1.2.0/24"), Prefix.parse("10.3.0.0/16"))
BASE_PATH = PathAttributes(
    origin=Origin.IGP,
    as_path=AsPath.sequence(65001, 65002),
    next_hop=IPv4Address("192.0.2.1"),
    med=100,
    local_pref=200,
    atomic_aggregate=True,
    aggregator=Aggregator(65001, IPv4Address("192.0.2.1")),
    communities=(0xFDE90064,),
    ext_communities=(LinkBandwidth.from_bps(800e9, asn=65001),),
)
BASELINE = Update(attributes=BASE_PATH, nlri=BASE_PREFIXES)
WITHDRAW_BASE = Update(withdrawn=BASE_PREFIXES)  # what treat-as-withdraw must withdraw


def baseline_with(**changes: object) -> Update:
    return replace(BASELINE, attributes=replace(BASE_PATH, **changes))


def filler_prefixes(octets: int) -> tuple[Prefix, ...]:
    """Prefixes whose NLRI takes exactly ``octets`` (>= 2) octets: host routes
    100.64.x.y/32 (5 octets each), then one or two shorter prefixes for the remainder."""
    hosts = []
    while octets > 6:
        hosts.append(Prefix(bytes((100, 64)) + u16(len(hosts)), 32))
        octets -= 5
    tail = {
        2: ("11.0.0.0/8",),
        3: ("11.1.0.0/16",),
        4: ("11.2.1.0/24",),
        5: ("11.3.2.1/32",),
        6: ("11.0.0.0/8", "11.2.1.0/24"),
    }[octets]
    return (*hosts, *map(Prefix.parse, tail))


def nlri_octets(prefixes: tuple[Prefix, ...]) -> bytes:
    """RFC 4271 §4.3: a length octet, then the fewest octets holding that many bits."""
    return b"".join(bytes((p.length,)) + p.packed[: (p.length + 7) // 8] for p in prefixes)


def big_update(total: int) -> tuple[bytes, Update]:
    """A valid UPDATE of exactly ``total`` octets (the baseline plus filler NLRI), and its
    decoded form."""
    filler = filler_prefixes(total - len(update_msg()))
    wire = update_msg(nlri=BASE_NLRI + nlri_octets(filler))
    assert len(wire) == total
    return wire, replace(BASELINE, nlri=BASE_PREFIXES + filler)


UPDATE_4096, UPDATE_4096_DECODED = big_update(4096)
UPDATE_4097, UPDATE_4097_DECODED = big_update(4097)


# --- the IPv6 UPDATE: NLRI in MP_REACH_NLRI only, hence no NEXT_HOP (RFC 4760 §3) ----------

MP_REACH_V6 = x(
    "80",  # flags: optional, non-transitive
    "0e",  # type: MP_REACH_NLRI
    "1a",  # length 26
    "0002",  # AFI: IPv6
    "01",  # SAFI: unicast
    "10",  # Length of Next Hop Network Address: 16
    "20010db8000000000000000000000001",  # next hop 2001:db8::1
    "00",  # Reserved
    "20",  # prefix length 32
    "20010db8",  # 2001:db8::
)
V6_UPDATE = Update(
    attributes=PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(65001, 65002)),
    mp_reach=MpReachNlri(2, 1, IPv6Address("2001:db8::1"), (Prefix.parse("2001:db8::/32"),)),
)


def v6_update_msg(reach: bytes = MP_REACH_V6) -> bytes:
    """MP_REACH_NLRI first (RFC 7606 §5.1), then ORIGIN and AS_PATH; no body NLRI."""
    return update_msg(reach + ORIGIN + AS_PATH, b"")


# --- the baseline OPEN --------------------------------------------------------------------

OPEN_PARAMS = x(
    "02",  # parameter type: Capabilities (RFC 5492)
    "06",  # parameter length 6
    "01",  # capability: Multiprotocol (RFC 4760 §8)
    "04",  # capability length 4
    "0001",  # AFI: IPv4
    "00",  # Reserved
    "01",  # SAFI: unicast
    "02",  # parameter type: Capabilities
    "06",  # parameter length 6
    "41",  # capability: 4-octet AS (RFC 6793)
    "04",  # capability length 4
    "0000fde9",  # AS 65001
)
BASE_OPEN = Open.build(65001, 90, "192.0.2.1", (MultiprotocolCapability(1, 1),))


def open_msg(
    *,
    version: str = "04",
    my_as: str = "fde9",  # 65001
    hold_time: str = "005a",  # 90 s
    identifier: str = "c0000201",  # 192.0.2.1
    opt_len: str | None = None,  # computed when None
    params: bytes = OPEN_PARAMS,
) -> bytes:
    """An OPEN, body fields in order (RFC 4271 §4.2)."""
    return message(
        OPEN,
        x(
            version,  # Version
            my_as,  # My Autonomous System
            hold_time,  # Hold Time
            identifier,  # BGP Identifier
            opt_len if opt_len is not None else f"{len(params):02x}",  # Opt Parm Len
        )
        + params,  # Optional Parameters
    )


def big_open(total: int) -> tuple[bytes, Open]:
    """A valid OPEN of exactly ``total`` octets, and its decoded form: RFC 9072 extended
    optional parameters, each one Capabilities parameter holding one private-use
    (code 128) capability."""
    params, decoded = b"", []
    left = total - 19 - 10 - 3  # header, fixed fields, RFC 9072 length fields
    while left > 0:
        # 5 octets of headers per parameter, whose length stays <= 255 (253 for the value);
        # never leave fewer than 5 octets for the next parameter.
        size = left - 5 if left <= 258 else min(253, left - 10)
        params += (
            x("02")  # parameter type: Capabilities
            + u16(2 + size)  # parameter length (2 octets, RFC 9072 §2)
            + x("80")  # capability code 128 (private use)
            + bytes((size,))  # capability length
            + bytes(size)  # capability value
        )
        decoded.append(CapabilitiesParameter((UnknownCapability(128, bytes(size)),)))
        left -= 5 + size
    wire = message(
        OPEN,
        x(
            "04",  # Version
            "fde9",  # My Autonomous System: 65001
            "005a",  # Hold Time: 90 s
            "c0000201",  # BGP Identifier: 192.0.2.1
            "ff",  # Non-Ext OP Len: 255 (RFC 9072 §2)
            "ff",  # Non-Ext OP Type: 255 (RFC 9072 §2)
        )
        + u16(len(params))  # Extended Opt. Parm. Length
        + params,
    )
    assert len(wire) == total
    return wire, Open(65001, 90, IPv4Address("192.0.2.1"), tuple(decoded))


OPEN_4096, OPEN_4096_DECODED = big_open(4096)
OPEN_4097, _ = big_open(4097)


# --- attributes broken one field at a time ------------------------------------------------

ORIGIN_FLAGS_C0 = x(
    "c0",  # flags 0xc0: optional set on a well-known attribute
    "01",  # type: ORIGIN
    "01",  # length 1
    "00",  # IGP
)
AS_PATH_FLAGS_80 = (
    x("80")  # flags 0x80: optional, non-transitive (must be 0x40)
    + AS_PATH[1:]  # type, length, value: as in the baseline
)
NEXT_HOP_FLAGS_60 = (
    x("60")  # flags 0x60: well-known transitive with Partial set
    + NEXT_HOP[1:]  # type, length, value: as in the baseline
)
ORIGIN_VALUE_3 = x(
    "40",  # flags
    "01",  # type: ORIGIN
    "01",  # length 1
    "03",  # value 3: undefined
)
ORIGIN_LENGTH_2 = x(
    "40",  # flags
    "01",  # type: ORIGIN
    "02",  # length 2: must be 1
    "0000",  # value
)
NEXT_HOP_LENGTH_3 = x(
    "40",  # flags
    "03",  # type: NEXT_HOP
    "03",  # length 3: must be 4
    "c00002",  # value
)
NEXT_HOP_LENGTH_5 = x(
    "40",  # flags
    "03",  # type: NEXT_HOP
    "05",  # length 5: must be 4
    "c000020100",  # value
)
NEXT_HOP_ZERO = x(
    "40",  # flags
    "03",  # type: NEXT_HOP
    "04",  # length 4
    "00000000",  # 0.0.0.0: not a unicast host address
)
NEXT_HOP_MULTICAST = x(
    "40",  # flags
    "03",  # type: NEXT_HOP
    "04",  # length 4
    "e0000001",  # 224.0.0.1: multicast
)
MED_LENGTH_3 = x(
    "80",  # flags
    "04",  # type: MULTI_EXIT_DISC
    "03",  # length 3: must be 4
    "000064",  # value
)
LOCAL_PREF_LENGTH_5 = x(
    "40",  # flags
    "05",  # type: LOCAL_PREF
    "05",  # length 5: must be 4
    "000000c800",  # value
)
ATOMIC_AGGREGATE_LENGTH_1 = x(
    "40",  # flags
    "06",  # type: ATOMIC_AGGREGATE
    "01",  # length 1: must be 0
    "00",  # a stray octet
)
AGGREGATOR_LENGTH_7 = x(
    "c0",  # flags
    "07",  # type: AGGREGATOR
    "07",  # length 7: must be 8 with 4-octet ASNs
    "0000fde9",  # AS 65001
    "c00002",  # 3 octets of an address
)
COMMUNITIES_LENGTH_0 = x(
    "c0",  # flags
    "08",  # type: COMMUNITIES
    "00",  # length 0
)
COMMUNITIES_LENGTH_6 = x(
    "c0",  # flags
    "08",  # type: COMMUNITIES
    "06",  # length 6: not a multiple of 4
    "fde90064",  # 65001:100
    "fde9",  # half a community
)
EXT_COMMUNITIES_LENGTH_12 = x(
    "c0",  # flags
    "10",  # type: EXTENDED_COMMUNITIES
    "0c",  # length 12: not a multiple of 8
    LB_800G,  # 8 octets
    "00000000",  # half a community
)
EXT_COMMUNITIES_LENGTH_0 = x(
    "c0",  # flags
    "10",  # type: EXTENDED_COMMUNITIES
    "00",  # length 0
)
EXT_COMMUNITIES_OVERRUN = x(
    "c0",  # flags
    "10",  # type: EXTENDED_COMMUNITIES
    "10",  # length 16: runs 8 octets past the Total Path Attribute Length
    LB_800G,  # the 8 octets there are
)
UNKNOWN_WELL_KNOWN = x(
    "40",  # flags: well-known, transitive
    "63",  # type 99: unknown
    "02",  # length 2
    "abcd",  # value
)
UNKNOWN_OPTIONAL_TRANSITIVE = x(
    "c0",  # flags: optional, transitive
    "63",  # type 99: unknown
    "02",  # length 2
    "abcd",  # value
)
AS4_PATH_FROM_NEW = x(
    "c0",  # flags: optional, transitive
    "11",  # type 17: AS4_PATH
    "06",  # length 6
    "02",  # segment type: AS_SEQUENCE
    "01",  # segment length: 1 ASN
    "fa56ea01",  # AS 4200000001
)
UNKNOWN_OPTIONAL_NON_TRANSITIVE = x(
    "80",  # flags: optional, non-transitive
    "63",  # type 99: unknown
    "02",  # length 2
    "abcd",  # value
)
MP_REACH_NEXT_HOP_LENGTH_15 = x(
    "80",  # flags: optional, non-transitive
    "0e",  # type: MP_REACH_NLRI
    "19",  # length 25
    "0002",  # AFI: IPv6
    "01",  # SAFI: unicast
    "0f",  # Length of Next Hop Network Address: 15 (16 or 32 expected)
    "20010db80000000000000000000000",  # 15 octets
    "00",  # Reserved
    "20",  # prefix length 32
    "20010db8",  # 2001:db8::
)
MP_REACH_NEXT_HOP_LENGTH_4 = x(
    "80",  # flags: optional, non-transitive
    "0e",  # type: MP_REACH_NLRI
    "0e",  # length 14
    "0002",  # AFI: IPv6
    "01",  # SAFI: unicast
    "04",  # Length of Next Hop Network Address: 4 (16 or 32 expected)
    "c0000201",  # 192.0.2.1
    "00",  # Reserved
    "20",  # prefix length 32
    "20010db8",  # 2001:db8::
)
MP_REACH_LENGTH_4 = x(
    "80",  # flags: optional, non-transitive
    "0e",  # type: MP_REACH_NLRI
    "04",  # length 4: fewer than 5
    "0002",  # AFI: IPv6
    "01",  # SAFI: unicast
    "10",  # Length of Next Hop Network Address, and nothing more
)
MP_REACH_PREFIX_LENGTH_129 = x(
    "80",  # flags: optional, non-transitive
    "0e",  # type: MP_REACH_NLRI
    "27",  # length 39
    "0002",  # AFI: IPv6
    "01",  # SAFI: unicast
    "10",  # Length of Next Hop Network Address: 16
    "20010db8000000000000000000000001",  # next hop 2001:db8::1
    "00",  # Reserved
    "81",  # prefix length 129
    "20010db800000000000000000000000000",  # 17 octets
)
MP_REACH_FLAGS_40 = (
    x("40")  # flags 0x40: well-known transitive (must be 0x80)
    + MP_REACH_V6[1:]  # type, length, value: as in the valid one
)
MP_UNREACH_LENGTH_2 = x(
    "80",  # flags: optional, non-transitive
    "0f",  # type: MP_UNREACH_NLRI
    "02",  # length 2: AFI, no SAFI
    "0002",  # AFI: IPv6
)
WITHDRAWN_V4 = x(
    "10",  # prefix length 16
    "0a09",  # 10.9.0.0
)


def lb_update(*communities: str) -> bytes:
    """The baseline with these link-bandwidth communities in EXTENDED_COMMUNITIES."""
    return update_msg(swap(EXT_COMMUNITIES, ext_communities(*communities)))


def lb(bits: int, transitive: bool = True) -> LinkBandwidth:
    return LinkBandwidth(bits, 65001, transitive)


# --- verdicts -----------------------------------------------------------------------------

Problem = tuple[int | None, int, ErrorAction]  # (attribute type code, subcode, action)


@dataclass(frozen=True)
class Verdict:
    """What decoding must do. ``error`` None: decode to ``decoded``, re-encode to the input,
    pass ``check``. Otherwise raise ``error`` whose NOTIFICATION is ``code``/``subcode``
    and ``data`` (None: the RFC does not fix it, not checked)."""

    error: type[BgpError] | None = None
    code: int = 0
    subcode: int = 0
    data: bytes | None = None
    action: ErrorAction = RESET
    afi_safi: tuple[int, int] | None = None
    problems: tuple[Problem, ...] | None = None  # None: not checked
    update: Update | None = None  # exact err.update (attribute discard)
    withdraw: Update | None = None  # err.update.as_withdraw() (treat-as-withdraw)
    decoded: Message | None = None
    check: Callable[[Message], None] | None = None
    ctx: CodecContext = DEFAULT


def accepts(
    decoded: Message,
    *,
    check: Callable[[Message], None] | None = None,
    ctx: CodecContext = DEFAULT,
) -> Verdict:
    return Verdict(decoded=decoded, check=check, ctx=ctx)


def rejects(
    error: type[BgpError],
    code: int,
    subcode: int,
    data: bytes | None = None,
    *,
    ctx: CodecContext = DEFAULT,
) -> Verdict:
    """A header, OPEN or ROUTE-REFRESH error: always a session reset."""
    return Verdict(error, code, subcode, data, ctx=ctx)


def update_error(
    action: ErrorAction,
    subcode: int,
    data: bytes | None = None,
    *,
    problems: tuple[Problem, ...] | None = None,
    update: Update | None = None,
    withdraw: Update | None = None,
    afi_safi: tuple[int, int] | None = None,
) -> Verdict:
    return Verdict(
        UpdateMessageError,
        3,
        subcode,
        data,
        action=action,
        afi_safi=afi_safi,
        problems=problems,
        update=update,
        withdraw=withdraw,
    )


def treat_as_withdraw(attr_type: int | None, subcode: int, data: bytes | None = None) -> Verdict:
    """One fault whose RFC 7606 action is treat-as-withdraw: the baseline NLRI withdrawn."""
    return update_error(
        WITHDRAW,
        subcode,
        data,
        problems=((attr_type, subcode, WITHDRAW),),
        withdraw=WITHDRAW_BASE,
    )


def afi_safi_disable(attribute: bytes) -> Verdict:
    """RFC 7606 §7.11 / RFC 4760 §7: disable IPv6 unicast; a reset would send 3/9 with the
    attribute (RFC 4271 §6.3)."""
    return update_error(
        AFI_SAFI_DISABLE,
        9,
        attribute,
        problems=((14, 9, AFI_SAFI_DISABLE),),
        afi_safi=(2, 1),
    )


def bandwidth(usable: tuple[bool, ...], effective: float | None) -> Callable[[Message], None]:
    """RFC 10005 §4 on the decoded path: which link-bandwidth values a receiver may use,
    and the effective bytes/s it weights the path by (None: no usable value)."""

    def check(msg: Message) -> None:
        assert isinstance(msg, Update)
        lbs = msg.attributes.ext_communities
        assert all(type(c) is LinkBandwidth for c in lbs)
        assert tuple(c.usable for c in lbs if type(c) is LinkBandwidth) == usable
        got = msg.attributes.link_bandwidth_bytes_per_s
        if effective is None:
            assert got is None
        else:
            assert got == effective

    return check


def propagated_flags(*flags: int) -> Callable[[Message], None]:
    """The flags of the uninterpreted attributes left by ``for_propagation()``."""

    def check(msg: Message) -> None:
        assert isinstance(msg, Update)
        assert tuple(a.flags for a in msg.attributes.for_propagation().other) == flags

    return check


# --- the table ----------------------------------------------------------------------------

CASES = [
    # ======== accepted input: the harness decodes and re-encodes valid messages ==========
    # RFC 4271 §4.3: a valid UPDATE carrying every attribute bagemu types.
    pytest.param(update_msg(), accepts(BASELINE), id="baseline-update"),
    # RFC 4760 §3, RFC 7606 §3 d: NEXT_HOP is only mandatory with body NLRI.
    pytest.param(v6_update_msg(), accepts(V6_UPDATE), id="mp-reach-only-without-next-hop"),
    # RFC 4271 §4.2: a valid OPEN.
    pytest.param(open_msg(), accepts(BASE_OPEN), id="baseline-open"),
    # RFC 4271 §4.2: hold time 0 (no keepalives) is acceptable.
    pytest.param(
        open_msg(hold_time="0000"),  # Hold Time: 0
        accepts(replace(BASE_OPEN, hold_time_s=0)),
        id="open-hold-time-0-accepted",
    ),
    # RFC 4271 §4.2: hold time 3, the smallest non-zero one, is acceptable.
    pytest.param(
        open_msg(hold_time="0003"),  # Hold Time: 3
        accepts(replace(BASE_OPEN, hold_time_s=3)),
        id="open-hold-time-3-accepted",
    ),
    # RFC 4271 §4.1: 4096 octets is the largest message without RFC 8654.
    pytest.param(UPDATE_4096, accepts(UPDATE_4096_DECODED), id="update-4096-accepted"),
    # RFC 8654 §4: with Extended Message negotiated an UPDATE may exceed 4096 octets.
    pytest.param(
        UPDATE_4097,
        accepts(UPDATE_4097_DECODED, ctx=EXTENDED),
        id="update-4097-extended-message-accepted",
    ),
    # RFC 8654 §4, RFC 9072 §2: an OPEN of exactly 4096 octets is fine.
    pytest.param(
        OPEN_4096,
        accepts(OPEN_4096_DECODED, ctx=EXTENDED),
        id="open-4096-extended-message-accepted",
    ),
    # RFC 4271 §5, §9.1.4: an unknown optional transitive attribute is kept and passed on
    # with its Partial bit set.
    pytest.param(
        update_msg(BASE_ATTRS + UNKNOWN_OPTIONAL_TRANSITIVE),
        accepts(
            baseline_with(other=(RawAttribute(0xC0, 99, x("abcd")),)),
            check=propagated_flags(0xE0),
        ),
        id="unknown-optional-transitive-kept-partial-on-propagation",
    ),
    # RFC 4271 §5: an unknown optional non-transitive attribute is not passed on.
    pytest.param(
        update_msg(BASE_ATTRS + UNKNOWN_OPTIONAL_NON_TRANSITIVE),
        accepts(
            baseline_with(other=(RawAttribute(0x80, 99, x("abcd")),)),
            check=propagated_flags(),
        ),
        id="unknown-optional-non-transitive-dropped-on-propagation",
    ),
    # ======== link bandwidth (RFC 10005 §4): bad values are ignored, never errors =========
    # RFC 10005 §4 (local policy for NaN): the community is ignored, the route is not.
    pytest.param(
        lb_update(link_bandwidth("7fc00000")),  # NaN
        accepts(
            baseline_with(ext_communities=(lb(0x7FC00000),)),
            check=bandwidth((False,), None),
        ),
        id="link-bandwidth-nan-ignored",
    ),
    # RFC 10005 §4: a negative value SHALL be ignored.
    pytest.param(
        lb_update(link_bandwidth("bf800000")),  # -1.0
        accepts(
            baseline_with(ext_communities=(lb(0xBF800000),)),
            check=bandwidth((False,), None),
        ),
        id="link-bandwidth-negative-ignored",
    ),
    # RFC 10005 §4 (local policy for the infinities): ignored.
    pytest.param(
        lb_update(link_bandwidth("7f800000")),  # +inf
        accepts(
            baseline_with(ext_communities=(lb(0x7F800000),)),
            check=bandwidth((False,), None),
        ),
        id="link-bandwidth-plus-inf-ignored",
    ),
    pytest.param(
        lb_update(link_bandwidth("ff800000")),  # -inf
        accepts(
            baseline_with(ext_communities=(lb(0xFF800000),)),
            check=bandwidth((False,), None),
        ),
        id="link-bandwidth-minus-inf-ignored",
    ),
    # RFC 10005 §4: an ignored value does not hide a valid one on the same path.
    pytest.param(
        lb_update(
            link_bandwidth("7fc00000"),  # NaN
            link_bandwidth("4f1502f9"),  # 2.5e9 B/s (20 Gb/s)
        ),
        accepts(
            baseline_with(ext_communities=(lb(0x7FC00000), lb(0x4F1502F9))),
            check=bandwidth((False, True), 2.5e9),
        ),
        id="link-bandwidth-nan-plus-valid-uses-valid",
    ),
    pytest.param(
        lb_update(
            link_bandwidth("bf800000"),  # -1.0
            link_bandwidth("4f1502f9"),  # 2.5e9 B/s
        ),
        accepts(
            baseline_with(ext_communities=(lb(0xBF800000), lb(0x4F1502F9))),
            check=bandwidth((False, True), 2.5e9),
        ),
        id="link-bandwidth-negative-plus-valid-uses-valid",
    ),
    # RFC 10005 §4: several values: the lowest wins, whatever the transitivity.
    pytest.param(
        lb_update(
            link_bandwidth("4f1502f9"),  # transitive, 2.5e9 B/s
            link_bandwidth("4eb2d05e", transitive=False),  # non-transitive, 1.5e9 B/s
        ),
        accepts(
            baseline_with(ext_communities=(lb(0x4F1502F9), lb(0x4EB2D05E, False))),
            check=bandwidth((True, True), 1.5e9),
        ),
        id="link-bandwidth-lowest-wins-non-transitive",
    ),
    pytest.param(
        lb_update(
            link_bandwidth("4f1502f9", transitive=False),  # non-transitive, 2.5e9 B/s
            link_bandwidth("4eb2d05e"),  # transitive, 1.5e9 B/s
        ),
        accepts(
            baseline_with(ext_communities=(lb(0x4F1502F9, False), lb(0x4EB2D05E))),
            check=bandwidth((True, True), 1.5e9),
        ),
        id="link-bandwidth-lowest-wins-transitive",
    ),
    # RFC 10005 §4: zero MUST NOT be considered malformed; it is the lowest.
    pytest.param(
        lb_update(
            link_bandwidth("4f1502f9"),  # 2.5e9 B/s
            link_bandwidth("00000000"),  # 0.0
        ),
        accepts(
            baseline_with(ext_communities=(lb(0x4F1502F9), lb(0))),
            check=bandwidth((True, True), 0.0),
        ),
        id="link-bandwidth-zero-valid-and-lowest",
    ),
    # RFC 10005 §4: -0.0 is a zero, not a negative value.
    pytest.param(
        lb_update(
            link_bandwidth("80000000"),  # -0.0
            link_bandwidth("4f1502f9"),  # 2.5e9 B/s
        ),
        accepts(
            baseline_with(ext_communities=(lb(0x80000000), lb(0x4F1502F9))),
            check=bandwidth((True, True), 0.0),
        ),
        id="link-bandwidth-negative-zero-is-zero",
    ),
    # ======== message header (RFC 4271 §6.1) ==============================================
    # RFC 4271 §6.1: the marker is not all ones.
    pytest.param(
        x(
            "ff" * 15 + "fe",  # Marker: last octet 0xfe
            "0013",  # Length: 19
            "04",  # Type: KEEPALIVE
        ),
        rejects(MessageHeaderError, 1, 1),
        id="header-bad-marker",
    ),
    # RFC 4271 §6.1: Length < 19; Data is the erroneous Length field.
    pytest.param(
        x(
            MARKER,  # Marker
            "0012",  # Length: 18
            "04",  # Type: KEEPALIVE
        ),
        rejects(MessageHeaderError, 1, 2, x("0012")),
        id="header-length-18",
    ),
    # RFC 4271 §4.1, §6.1: Length > 4096 without RFC 8654.
    pytest.param(
        UPDATE_4097,  # Length: 4097, a valid UPDATE otherwise
        rejects(MessageHeaderError, 1, 2, x("1001")),
        id="header-update-4097-default-context",
    ),
    # RFC 8654 §4: an OPEN never exceeds 4096 octets, Extended Message or not.
    pytest.param(
        OPEN_4097,  # Length: 4097, a valid OPEN otherwise
        rejects(MessageHeaderError, 1, 2, x("1001"), ctx=EXTENDED),
        id="header-open-4097-extended-message",
    ),
    # RFC 4271 §6.1: an unknown Type; Data is the erroneous Type field.
    pytest.param(
        x(
            MARKER,  # Marker
            "0013",  # Length: 19
            "06",  # Type: 6, unassigned
        ),
        rejects(MessageHeaderError, 1, 3, x("06")),
        id="header-type-6",
    ),
    # RFC 4271 §4.4, §6.1: a KEEPALIVE is exactly 19 octets.
    pytest.param(
        x(
            MARKER,  # Marker
            "0014",  # Length: 20
            "04",  # Type: KEEPALIVE
            "00",  # a stray octet
        ),
        rejects(MessageHeaderError, 1, 2, x("0014")),
        id="header-keepalive-length-20",
    ),
    # RFC 4271 §4.5, §6.1: a NOTIFICATION is at least 21 octets.
    pytest.param(
        x(
            MARKER,  # Marker
            "0014",  # Length: 20
            "03",  # Type: NOTIFICATION
            "06",  # Error code: Cease, no subcode
        ),
        rejects(MessageHeaderError, 1, 2, x("0014")),
        id="header-notification-length-20",
    ),
    # RFC 4271 §4.3, §6.1: an UPDATE is at least 23 octets.
    pytest.param(
        x(
            MARKER,  # Marker
            "0016",  # Length: 22
            "02",  # Type: UPDATE
            "0000",  # Withdrawn Routes Length: 0
            "00",  # half a Total Path Attribute Length
        ),
        rejects(MessageHeaderError, 1, 2, x("0016")),
        id="header-update-length-22",
    ),
    # RFC 4271 §4.2, §6.1: an OPEN is at least 29 octets.
    pytest.param(
        x(
            MARKER,  # Marker
            "001c",  # Length: 28
            "01",  # Type: OPEN
            "04",  # Version
            "fde9",  # My Autonomous System
            "005a",  # Hold Time
            "c0000201",  # BGP Identifier, and no Opt Parm Len
        ),
        rejects(MessageHeaderError, 1, 2, x("001c")),
        id="header-open-length-28",
    ),
    # ======== OPEN (RFC 4271 §6.2) ========================================================
    # RFC 4271 §6.2: Data is the 2-octet version supported (the smallest above the bid).
    pytest.param(
        open_msg(version="03"),  # Version: 3
        rejects(OpenMessageError, 2, 1, x("0004")),
        id="open-version-3",
    ),
    # RFC 4271 §4.2, §6.2: a hold time of 1 or 2 seconds is unacceptable.
    pytest.param(
        open_msg(hold_time="0001"),  # Hold Time: 1
        rejects(OpenMessageError, 2, 6),
        id="open-hold-time-1",
    ),
    pytest.param(
        open_msg(hold_time="0002"),  # Hold Time: 2
        rejects(OpenMessageError, 2, 6),
        id="open-hold-time-2",
    ),
    # RFC 4271 §6.2, RFC 6286 §2.1: the BGP Identifier must be non-zero.
    pytest.param(
        open_msg(identifier="00000000"),  # BGP Identifier: 0.0.0.0
        rejects(OpenMessageError, 2, 3),
        id="open-identifier-0.0.0.0",
    ),
    # RFC 7607 §2: AS 0 in My AS is Bad Peer AS.
    pytest.param(
        open_msg(my_as="0000"),  # My Autonomous System: 0
        rejects(OpenMessageError, 2, 2),
        id="open-my-as-0",
    ),
    # RFC 4271 §6.2 (RFC 5492 deprecates type 1, Authentication).
    pytest.param(
        open_msg(
            params=OPEN_PARAMS
            + x(
                "01",  # parameter type: 1, Authentication (deprecated)
                "02",  # parameter length 2
                "abcd",  # value
            )
        ),
        rejects(OpenMessageError, 2, 4),
        id="open-optional-parameter-type-1",
    ),
    # RFC 4271 §6.2, RFC 5492 §4: a malformed Capabilities parameter -> subcode 0.
    pytest.param(
        open_msg(
            params=x(
                "02",  # parameter type: Capabilities
                "06",  # parameter length 6
                "41",  # capability: 4-octet AS
                "08",  # capability length 8: runs 4 octets past the parameter
                "0000fde9",  # AS 65001
            )
        ),
        rejects(OpenMessageError, 2, 0),
        id="open-capability-overruns-parameter",
    ),
    # RFC 6793 §3: the 4-octet AS capability's value is 4 octets.
    pytest.param(
        open_msg(
            params=x(
                "02",  # parameter type: Capabilities
                "05",  # parameter length 5
                "41",  # capability: 4-octet AS
                "03",  # capability length 3: must be 4
                "00fde9",  # 3 octets
            )
        ),
        rejects(OpenMessageError, 2, 0),
        id="open-four-octet-as-capability-length-3",
    ),
    # RFC 4271 §6.2: the Optional Parameters Length disagrees with what follows.
    pytest.param(
        open_msg(opt_len="14"),  # Opt Parm Len: 20, only 16 octets follow
        rejects(OpenMessageError, 2, 0),
        id="open-optional-parameters-length-mismatch",
    ),
    # ======== ROUTE-REFRESH (RFC 7313 §5) =================================================
    # RFC 7313 §5: a body other than 4 octets; Data is the complete message.
    pytest.param(
        x(
            MARKER,  # Marker
            "0018",  # Length: 24
            "05",  # Type: ROUTE-REFRESH
            "0001",  # AFI: IPv4
            "00",  # Message Subtype: normal
            "01",  # SAFI: unicast
            "00",  # a stray octet
        ),
        rejects(RouteRefreshMessageError, 7, 1, x(MARKER, "0018", "05", "0001", "00", "01", "00")),
        id="route-refresh-body-length-5",
    ),
    # ======== UPDATE framing: the NLRI cannot be located -> session reset =================
    # RFC 4271 §6.3, unchanged by RFC 7606 §3 b.
    pytest.param(
        update_msg(wlen=0x0100),  # Withdrawn Routes Length: 256, far past the message
        update_error(RESET, 1, problems=((None, 1, RESET),)),
        id="update-withdrawn-length-overrun",
    ),
    pytest.param(
        update_msg(alen=len(BASE_ATTRS) + len(BASE_NLRI) + 1),  # Total Path Attribute Length
        update_error(RESET, 1, problems=((None, 1, RESET),)),
        id="update-total-attribute-length-overrun",
    ),
    # RFC 7606 §5.3, §3 j: a syntactically incorrect NLRI field.
    pytest.param(
        update_msg(
            nlri=x(
                "21",  # prefix length 33
                "0a0102030a",  # 5 octets
            )
        ),
        update_error(RESET, 10, problems=((None, 10, RESET),)),
        id="update-nlri-prefix-length-33",
    ),
    pytest.param(
        update_msg(
            withdrawn=x(
                "18",  # prefix length 24: needs 3 octets
                "0a",  # only 1 left in the Withdrawn Routes field
            )
        ),
        update_error(RESET, 10, problems=((None, 10, RESET),)),
        id="update-withdrawn-prefix-overruns-field",
    ),
    # ======== UPDATE: attribute list vs Total Path Attribute Length (RFC 7606 §4) =========
    # RFC 7606 §4 second case: too few octets left for an attribute header.
    pytest.param(
        update_msg(
            BASE_ATTRS
            + x(
                "40",  # flags, and nothing more
            )
        ),
        treat_as_withdraw(None, 1),
        id="update-truncated-attribute-1-octet",
    ),
    pytest.param(
        update_msg(
            BASE_ATTRS
            + x(
                "40",  # flags
                "08",  # type, and no length
            )
        ),
        treat_as_withdraw(None, 1),
        id="update-truncated-attribute-2-octets",
    ),
    # RFC 7606 §4 first case; RFC 4271 §6.3: Data is the erroneous attribute.
    pytest.param(
        update_msg(swap(EXT_COMMUNITIES, EXT_COMMUNITIES_OVERRUN)),
        treat_as_withdraw(16, 5, EXT_COMMUNITIES_OVERRUN),
        id="update-attribute-length-overruns-attributes",
    ),
    # ======== UPDATE: attribute flags (RFC 7606 §3 c; RFC 4271 §6.3: Data is the attribute)
    pytest.param(
        update_msg(swap(ORIGIN, ORIGIN_FLAGS_C0)),
        treat_as_withdraw(1, 4, ORIGIN_FLAGS_C0),
        id="update-origin-flags-0xc0",
    ),
    pytest.param(
        update_msg(swap(AS_PATH, AS_PATH_FLAGS_80)),
        treat_as_withdraw(2, 4, AS_PATH_FLAGS_80),
        id="update-as-path-flags-0x80",
    ),
    pytest.param(
        update_msg(swap(NEXT_HOP, NEXT_HOP_FLAGS_60)),
        treat_as_withdraw(3, 4, NEXT_HOP_FLAGS_60),
        id="update-next-hop-flags-0x60-partial",
    ),
    # ======== UPDATE: missing well-known attributes (RFC 7606 §3 d) =======================
    # RFC 4271 §6.3: Data is the type code of the missing attribute.
    pytest.param(
        update_msg(drop(ORIGIN)),
        treat_as_withdraw(1, 3, x("01")),
        id="update-missing-origin",
    ),
    pytest.param(
        update_msg(drop(AS_PATH)),
        treat_as_withdraw(2, 3, x("02")),
        id="update-missing-as-path",
    ),
    pytest.param(
        update_msg(drop(NEXT_HOP)),
        treat_as_withdraw(3, 3, x("03")),
        id="update-missing-next-hop-with-ipv4-nlri",
    ),
    # ======== UPDATE: repeated attributes (RFC 7606 §3 g) =================================
    # RFC 7606 §3 g: all but the first occurrence discarded; RFC 4271 §6.3: 3/1.
    pytest.param(
        update_msg(
            swap(
                ORIGIN,
                ORIGIN
                + x(
                    "40",  # flags
                    "01",  # type: ORIGIN, again
                    "01",  # length 1
                    "02",  # INCOMPLETE (the first said IGP)
                ),
            )
        ),
        update_error(DISCARD, 1, problems=((1, 1, DISCARD),), update=BASELINE),
        id="update-origin-twice-first-kept",
    ),
    # RFC 7606 §3 g: MP_REACH_NLRI more than once -> session reset.
    pytest.param(
        update_msg(MP_REACH_V6 + MP_REACH_V6 + ORIGIN + AS_PATH, b""),
        update_error(RESET, 1, problems=((None, 1, RESET),)),
        id="update-mp-reach-twice",
    ),
    # ======== UPDATE: malformed AS_PATH (RFC 7606 §7.2, RFC 7607 §2) ======================
    pytest.param(
        update_msg(
            swap(
                AS_PATH,
                x(
                    "40",  # flags
                    "02",  # type: AS_PATH
                    "06",  # length 6
                    "05",  # segment type 5: undefined
                    "01",  # segment length 1
                    "0000fde9",  # AS 65001
                ),
            )
        ),
        treat_as_withdraw(2, 11),
        id="update-as-path-segment-type-5",
    ),
    pytest.param(
        update_msg(
            swap(
                AS_PATH,
                x(
                    "40",  # flags
                    "02",  # type: AS_PATH
                    "02",  # length 2
                    "02",  # segment type: AS_SEQUENCE
                    "00",  # segment length 0
                ),
            )
        ),
        treat_as_withdraw(2, 11),
        id="update-as-path-zero-length-segment",
    ),
    pytest.param(
        update_msg(
            swap(
                AS_PATH,
                x(
                    "40",  # flags
                    "02",  # type: AS_PATH
                    "06",  # length 6
                    "02",  # segment type: AS_SEQUENCE
                    "02",  # segment length 2: 8 octets, 4 in the attribute
                    "0000fde9",  # AS 65001
                ),
            )
        ),
        treat_as_withdraw(2, 11),
        id="update-as-path-segment-overrun",
    ),
    pytest.param(
        update_msg(
            swap(
                AS_PATH,
                x(
                    "40",  # flags
                    "02",  # type: AS_PATH
                    "07",  # length 7
                    "02",  # segment type: AS_SEQUENCE
                    "01",  # segment length 1
                    "0000fde9",  # AS 65001
                    "02",  # a single trailing octet
                ),
            )
        ),
        treat_as_withdraw(2, 11),
        id="update-as-path-trailing-octet",
    ),
    # RFC 7607 §2: AS 0 in AS_PATH is malformed.
    pytest.param(
        update_msg(
            swap(
                AS_PATH,
                x(
                    "40",  # flags
                    "02",  # type: AS_PATH
                    "0a",  # length 10
                    "02",  # segment type: AS_SEQUENCE
                    "02",  # segment length 2
                    "0000fde9",  # AS 65001
                    "00000000",  # AS 0
                ),
            )
        ),
        treat_as_withdraw(2, 11),
        id="update-as-path-as-0",
    ),
    # ======== UPDATE: ORIGIN (RFC 7606 §7.1; RFC 4271 §6.3: Data is the attribute) ========
    pytest.param(
        update_msg(swap(ORIGIN, ORIGIN_VALUE_3)),
        treat_as_withdraw(1, 6, ORIGIN_VALUE_3),
        id="update-origin-value-3",
    ),
    pytest.param(
        update_msg(swap(ORIGIN, ORIGIN_LENGTH_2)),
        treat_as_withdraw(1, 5, ORIGIN_LENGTH_2),
        id="update-origin-length-2",
    ),
    # ======== UPDATE: NEXT_HOP (RFC 7606 §7.3; RFC 4271 §6.3: Data is the attribute) ======
    pytest.param(
        update_msg(swap(NEXT_HOP, NEXT_HOP_LENGTH_3)),
        treat_as_withdraw(3, 5, NEXT_HOP_LENGTH_3),
        id="update-next-hop-length-3",
    ),
    pytest.param(
        update_msg(swap(NEXT_HOP, NEXT_HOP_LENGTH_5)),
        treat_as_withdraw(3, 5, NEXT_HOP_LENGTH_5),
        id="update-next-hop-length-5",
    ),
    pytest.param(
        update_msg(swap(NEXT_HOP, NEXT_HOP_ZERO)),
        treat_as_withdraw(3, 8, NEXT_HOP_ZERO),
        id="update-next-hop-0.0.0.0",
    ),
    pytest.param(
        update_msg(swap(NEXT_HOP, NEXT_HOP_MULTICAST)),
        treat_as_withdraw(3, 8, NEXT_HOP_MULTICAST),
        id="update-next-hop-224.0.0.1",
    ),
    # ======== UPDATE: MED, LOCAL_PREF (RFC 7606 §7.4, §7.5) ===============================
    pytest.param(
        update_msg(swap(MED, MED_LENGTH_3)),
        treat_as_withdraw(4, 5, MED_LENGTH_3),
        id="update-med-length-3",
    ),
    pytest.param(
        update_msg(swap(LOCAL_PREF, LOCAL_PREF_LENGTH_5)),
        treat_as_withdraw(5, 5, LOCAL_PREF_LENGTH_5),
        id="update-local-pref-length-5",
    ),
    # ======== UPDATE: attribute discard (RFC 7606 §7.6, §7.7) =============================
    pytest.param(
        update_msg(swap(ATOMIC_AGGREGATE, ATOMIC_AGGREGATE_LENGTH_1)),
        update_error(
            DISCARD,
            5,
            ATOMIC_AGGREGATE_LENGTH_1,
            problems=((6, 5, DISCARD),),
            update=baseline_with(atomic_aggregate=False),
        ),
        id="update-atomic-aggregate-length-1-discarded",
    ),
    pytest.param(
        update_msg(swap(AGGREGATOR, AGGREGATOR_LENGTH_7)),
        update_error(
            DISCARD,
            5,
            AGGREGATOR_LENGTH_7,
            problems=((7, 5, DISCARD),),
            update=baseline_with(aggregator=None),
        ),
        id="update-aggregator-length-7-discarded",
    ),
    # ======== UPDATE: COMMUNITIES (RFC 7606 §7.8), EXTENDED_COMMUNITIES (§7.14) ===========
    # RFC 4271 §6.3: Optional Attribute Error, Data is the attribute.
    pytest.param(
        update_msg(swap(COMMUNITIES, COMMUNITIES_LENGTH_0)),
        treat_as_withdraw(8, 9, COMMUNITIES_LENGTH_0),
        id="update-communities-length-0",
    ),
    pytest.param(
        update_msg(swap(COMMUNITIES, COMMUNITIES_LENGTH_6)),
        treat_as_withdraw(8, 9, COMMUNITIES_LENGTH_6),
        id="update-communities-length-6",
    ),
    pytest.param(
        update_msg(swap(EXT_COMMUNITIES, EXT_COMMUNITIES_LENGTH_12)),
        treat_as_withdraw(16, 9, EXT_COMMUNITIES_LENGTH_12),
        id="update-ext-communities-length-12",
    ),
    pytest.param(
        update_msg(swap(EXT_COMMUNITIES, EXT_COMMUNITIES_LENGTH_0)),
        treat_as_withdraw(16, 9, EXT_COMMUNITIES_LENGTH_0),
        id="update-ext-communities-length-0",
    ),
    # ======== UPDATE: MP_REACH_NLRI, MP_UNREACH_NLRI (RFC 7606 §5.3, §7.11; RFC 4760 §7) ==
    # RFC 7606 §7.11: a next-hop length the family does not allow -> AFI/SAFI disable.
    pytest.param(
        v6_update_msg(MP_REACH_NEXT_HOP_LENGTH_15),
        afi_safi_disable(MP_REACH_NEXT_HOP_LENGTH_15),
        id="update-mp-reach-v6-next-hop-length-15",
    ),
    pytest.param(
        v6_update_msg(MP_REACH_NEXT_HOP_LENGTH_4),
        afi_safi_disable(MP_REACH_NEXT_HOP_LENGTH_4),
        id="update-mp-reach-v6-next-hop-length-4",
    ),
    # RFC 7606 §5.3: MP_REACH_NLRI shorter than 5 octets, AFI/SAFI still readable.
    pytest.param(
        v6_update_msg(MP_REACH_LENGTH_4),
        afi_safi_disable(MP_REACH_LENGTH_4),
        id="update-mp-reach-length-4",
    ),
    # RFC 7606 §7.11: the NLRI in MP_REACH_NLRI is syntactically incorrect.
    pytest.param(
        v6_update_msg(MP_REACH_PREFIX_LENGTH_129),
        afi_safi_disable(MP_REACH_PREFIX_LENGTH_129),
        id="update-mp-reach-v6-prefix-length-129",
    ),
    # RFC 7606 §3 c: MP_REACH_NLRI is optional non-transitive; the family is readable.
    pytest.param(
        v6_update_msg(MP_REACH_FLAGS_40),
        afi_safi_disable(MP_REACH_FLAGS_40),
        id="update-mp-reach-flags-0x40",
    ),
    # RFC 7606 §5.3: MP_UNREACH_NLRI too short to hold AFI and SAFI -> session reset;
    # RFC 4760 §7: Optional Attribute Error with the attribute (RFC 4271 §6.3).
    pytest.param(
        update_msg(MP_UNREACH_LENGTH_2, b""),
        update_error(RESET, 9, MP_UNREACH_LENGTH_2, problems=((15, 9, RESET),)),
        id="update-mp-unreach-length-2",
    ),
    # ======== UPDATE: AS4_PATH from a 4-octet-AS speaker (RFC 6793 §4.1, §6) ==============
    # Between two NEW speakers AS_PATH is exact: an AS4_PATH is discarded (and logged),
    # never kept nor passed on; the route itself stands.
    pytest.param(
        update_msg(BASE_ATTRS + AS4_PATH_FROM_NEW),
        update_error(DISCARD, 9, problems=((17, 9, DISCARD),), update=BASELINE),
        id="update-as4-path-from-a-4-octet-speaker-discarded",
    ),
    # ======== UPDATE: unrecognized well-known attribute (RFC 4271 §6.3) ===================
    pytest.param(
        update_msg(BASE_ATTRS + UNKNOWN_WELL_KNOWN),
        update_error(RESET, 2, UNKNOWN_WELL_KNOWN),
        id="update-unrecognized-well-known-attribute",
    ),
    # ======== UPDATE: no reachable NLRI (RFC 7606 §5.2) ===================================
    # RFC 7606 §5.2: attributes but no NLRI, and a fault whose approach is not attribute
    # discard -> session reset. The NOTIFICATION is the base one for the fault (RFC 7606
    # §2 "session reset" is RFC 4271's behaviour): Invalid ORIGIN, Data the attribute.
    pytest.param(
        update_msg(ORIGIN_VALUE_3 + AS_PATH + NEXT_HOP, b"", WITHDRAWN_V4),
        update_error(RESET, 6, ORIGIN_VALUE_3),
        id="update-withdraw-only-bad-origin-resets",
    ),
    # RFC 7606 §5.2: attribute discard alone is not escalated.
    pytest.param(
        update_msg(ORIGIN + AS_PATH + NEXT_HOP + ATOMIC_AGGREGATE_LENGTH_1, b"", WITHDRAWN_V4),
        update_error(
            DISCARD,
            5,
            ATOMIC_AGGREGATE_LENGTH_1,
            problems=((6, 5, DISCARD),),
            update=Update(
                withdrawn=(Prefix.parse("10.9.0.0/16"),),
                attributes=PathAttributes(
                    origin=Origin.IGP,
                    as_path=AsPath.sequence(65001, 65002),
                    next_hop=IPv4Address("192.0.2.1"),
                ),
            ),
        ),
        id="update-withdraw-only-bad-atomic-aggregate-discarded",
    ),
    # ======== UPDATE: several faults (RFC 7606 §3 h: the strongest approach wins) =========
    pytest.param(
        update_msg(swap(MED, MED_LENGTH_3, AGGREGATOR, AGGREGATOR_LENGTH_7)),
        update_error(
            WITHDRAW,
            5,
            MED_LENGTH_3,
            problems=((4, 5, WITHDRAW), (7, 5, DISCARD)),
            withdraw=WITHDRAW_BASE,
        ),
        id="update-discard-plus-withdraw-is-withdraw",
    ),
]


@pytest.mark.parametrize(("wire", "want"), CASES)
def test_malformed(wire: bytes, want: Verdict) -> None:
    if want.error is None:
        msg = decode_message(wire, want.ctx)
        assert msg == want.decoded
        assert encode_message(msg, want.ctx) == wire  # kept as received
        if want.check is not None:
            want.check(msg)
        return

    with pytest.raises(BgpError) as info:
        decode_message(wire, want.ctx)
    err = info.value
    assert type(err) is want.error, repr(err)
    note = err.to_notification()
    assert (note.code, note.subcode) == (want.code, want.subcode), str(err)
    assert (err.code, err.subcode) == (want.code, want.subcode)
    if want.data is not None:
        assert note.data.hex() == want.data.hex()
    name = NAMES[(want.code, want.subcode)]
    assert str(err).startswith(f"{name}: ")
    assert str(note).startswith(name)
    assert err.action == want.action, str(err)

    if not isinstance(err, UpdateMessageError):
        return
    assert err.afi_safi == want.afi_safi
    if want.problems is not None:
        got = Counter((p.attr_type, p.subcode, p.action) for p in err.problems)
        assert got == Counter(want.problems), str(err)
    if want.update is not None:
        assert err.update == want.update
    if want.withdraw is not None:
        assert err.update is not None
        assert err.update.nlri == want.withdraw.withdrawn  # the NLRI to withdraw was found
        assert err.update.as_withdraw() == want.withdraw
