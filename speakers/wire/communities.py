"""Communities (RFC 1997), extended communities (RFC 4360) and link bandwidth (RFC 10005).

Link bandwidth is the one extended community bagemu routes by: each switch derives its
UCMP next-hop weights from it. RFC 10005 §2 fixes its encoding (a Two-Octet AS-Specific
extended community, type 0x00 transitive or 0x40 non-transitive, subtype 0x04, the AS in
the Global Administrator, an IEEE-754 binary32 in **bytes** per second in the Local
Administrator); §4 fixes how a receiver copes with bad or several values.

``LinkBandwidth`` keeps the 32 raw bits of the float rather than a Python float: the
bits round-trip exactly (a NaN's payload included), compare and hash as integers, and the
float is computed when asked. Values in bits per second, as engineers speak of links
(800G, a 432 x 800G chassis, 48 Pbps), are converted at the edges.

Receive side, applied here because they are properties of the values alone:
- RFC 10005 §4: a negative value SHALL be ignored (the community, not the route).
- RFC 10005 is silent on NaN and the infinities; as local policy we ignore them too,
  since no weight can be derived from them (as rustbgpd does). -0.0 counts as zero.
- RFC 10005 §4: several link-bandwidth communities on one path: use the lowest value,
  zero included, whatever their transitivity.
- RFC 10005 §4: zero MUST NOT be treated as malformed.

Re-advertisement (RFC 10005 §3.3) is the speaker's business, not the codec's: when the
next hop changes, strip, pass or regenerate the community per session configuration
(§3.3.1); when it does not change, pass it unchanged (§3.3.2, SHOULD NOT change).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from .constants import (
    AS_TRANS,
    EXT_SUBTYPE_LINK_BANDWIDTH,
    EXT_TYPE_TWO_OCTET_AS_NON_TRANSITIVE,
    EXT_TYPE_TWO_OCTET_AS_TRANSITIVE,
    MAX_ASN_2,
)
from .encode_error import EncodeError

_F32 = struct.Struct(">f")
_U32 = struct.Struct(">I")
_LB_STRUCT = struct.Struct(">BBHI")

# RFC 1997 well-known communities, and RFC 8326 / RFC 7999 ones in common use.
WELL_KNOWN_COMMUNITIES: dict[int, str] = {
    0xFFFF0000: "graceful-shutdown",  # RFC 8326
    0xFFFF029A: "blackhole",  # RFC 7999
    0xFFFFFF01: "no-export",
    0xFFFFFF02: "no-advertise",
    0xFFFFFF03: "no-export-subconfed",
    0xFFFFFF04: "no-peer",  # RFC 3765
}


def community_str(value: int) -> str:
    """``65000:100``, or a well-known name."""
    return WELL_KNOWN_COMMUNITIES.get(value) or f"{value >> 16}:{value & 0xFFFF}"


def parse_community(text: str) -> int:
    """Inverse of ``community_str``."""
    for value, name in WELL_KNOWN_COMMUNITIES.items():
        if text == name:
            return value
    high, sep, low = text.partition(":")
    if not sep or not high.isdigit() or not low.isdigit():
        raise ValueError(f"community {text!r}: expected ASN:VALUE or a well-known name")
    hi, lo = int(high), int(low)
    if hi > 0xFFFF or lo > 0xFFFF:
        raise ValueError(f"community {text!r}: each half must be 0..65535")
    return hi << 16 | lo


@dataclass(frozen=True, slots=True)
class ExtendedCommunity:
    """Any extended community this codec does not type: kept as its 8 octets."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 8:
            raise EncodeError(f"extended community must be 8 octets, got {len(self.raw)}")

    @property
    def type_high(self) -> int:
        return self.raw[0]

    @property
    def subtype(self) -> int:
        return self.raw[1]

    @property
    def transitive(self) -> bool:
        return not self.raw[0] & 0x40  # RFC 4360 §2: the T bit set means non-transitive

    def encode(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return f"ext:{self.raw.hex()}"


@dataclass(frozen=True, slots=True)
class LinkBandwidth:
    """RFC 10005 link bandwidth: ``asn`` (2 octets) and the raw binary32 ``value_bits``.

    Build one with ``from_bps`` or ``from_bytes_per_s``; decode keeps whatever arrived.
    """

    value_bits: int
    asn: int = AS_TRANS
    transitive: bool = True

    @classmethod
    def from_bytes_per_s(
        cls, bandwidth: float, asn: int = AS_TRANS, transitive: bool = True
    ) -> LinkBandwidth:
        """An originated value. RFC 10005 §4: negative values SHOULD NOT be originated;
        NaN and infinities carry no bandwidth, so none of them are accepted here."""
        if not math.isfinite(bandwidth) or bandwidth < 0:
            raise EncodeError(
                f"link bandwidth {bandwidth!r} B/s: must be finite and >= 0 (RFC 10005 §4)"
            )
        try:
            packed = _F32.pack(bandwidth)
        except OverflowError as exc:  # above float32's range (~3.4e38)
            raise EncodeError(f"link bandwidth {bandwidth!r} B/s overflows binary32") from exc
        return cls(_U32.unpack(packed)[0], _global_admin(asn), transitive)

    @classmethod
    def from_bps(cls, bps: float, asn: int = AS_TRANS, transitive: bool = True) -> LinkBandwidth:
        """From bits per second (RFC 10005 §2 carries bytes per second: divide by 8)."""
        return cls.from_bytes_per_s(bps / 8, asn, transitive)

    @property
    def bytes_per_s(self) -> float:
        """The binary32 value as a Python float (exact: every binary32 is a double)."""
        value: float = _F32.unpack(_U32.pack(self.value_bits))[0]
        return value

    @property
    def bps(self) -> float:
        return self.bytes_per_s * 8

    @property
    def usable(self) -> bool:
        """Whether a receiver may weight by it (module docstring: RFC 10005 §4 and policy)."""
        value = self.bytes_per_s
        # RFC 10005 §4: negative SHALL be ignored; NaN/inf ignored as local policy.
        return math.isfinite(value) and not value < 0

    def encode(self) -> bytes:
        if not (0 <= self.asn <= MAX_ASN_2 and 0 <= self.value_bits <= 0xFFFFFFFF):
            raise EncodeError(f"link bandwidth: AS {self.asn} or value bits out of range")
        type_high = (
            EXT_TYPE_TWO_OCTET_AS_TRANSITIVE
            if self.transitive
            else EXT_TYPE_TWO_OCTET_AS_NON_TRANSITIVE
        )
        return _LB_STRUCT.pack(type_high, EXT_SUBTYPE_LINK_BANDWIDTH, self.asn, self.value_bits)

    def __str__(self) -> str:
        kind = "" if self.transitive else " non-transitive"
        return f"link-bandwidth {format_bps(self.bps)} (AS {self.asn}{kind})"


def _global_admin(asn: int) -> int:
    """RFC 10005 §2: the Global Administrator SHOULD be the AS; AS_TRANS for a 4-octet AS."""
    if not 0 <= asn <= 0xFFFFFFFF:
        raise EncodeError(f"ASN {asn} out of range")
    return asn if asn <= MAX_ASN_2 else AS_TRANS


ExtCommunity = LinkBandwidth | ExtendedCommunity


def decode_extended_community(raw: bytes) -> ExtCommunity:
    """One 8-octet extended community; link bandwidth is typed, anything else kept raw."""
    type_high, subtype, asn, bits = _LB_STRUCT.unpack(raw)
    # RFC 10005 §3.2: a receiver MUST process both the transitive and non-transitive type.
    if subtype == EXT_SUBTYPE_LINK_BANDWIDTH and type_high in (
        EXT_TYPE_TWO_OCTET_AS_TRANSITIVE,
        EXT_TYPE_TWO_OCTET_AS_NON_TRANSITIVE,
    ):
        return LinkBandwidth(bits, asn, type_high == EXT_TYPE_TWO_OCTET_AS_TRANSITIVE)
    return ExtendedCommunity(raw)


def effective_link_bandwidth(communities: Iterable[ExtCommunity]) -> float | None:
    """The bandwidth (bytes/s) a receiver weights this path by, or None if it has none.

    RFC 10005 §4: unusable values are ignored (negative: SHALL; NaN/inf: local policy),
    and among several the lowest wins, zero included, ignoring transitivity.
    """
    best: float | None = None
    for community in communities:
        if type(community) is LinkBandwidth and community.usable:
            value = community.bytes_per_s + 0.0  # -0.0 + 0.0 == +0.0: a zero, not a negative
            if best is None or value < best:
                best = value
    return best


_UNITS = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def format_bps(bps: float) -> str:
    """``800 Gb/s``, ``48 Pb/s``: decimal SI units, as link speeds are quoted."""
    if not math.isfinite(bps):
        return f"{bps} b/s"
    for scale, unit in _UNITS:
        if abs(bps) >= scale:
            return f"{bps / scale:.4g} {unit}b/s"
    return f"{bps:.4g} b/s"
