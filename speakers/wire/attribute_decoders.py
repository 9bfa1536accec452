"""Path attribute decoders, and what RFC 7606 says to do when each is malformed.

``ATTRIBUTE_RULES`` is the per-attribute table ``update.py``'s decoding loop reads: the
``PathAttributes`` field an attribute fills, the flags it must carry, its decoder, and the
RFC 7606 action (and section) for a malformed value. Decoders raise ``Malformed`` with the
RFC 4271 subcode; the loop attaches the action and carries on, so one bad attribute never
hides the NLRI. ``merge_as4`` rebuilds a 2-octet-AS speaker's real AS_PATH and AGGREGATOR
(RFC 6793 §4.2.3) once the attributes are read. The values and their encoders are in
``attributes.py``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .attributes import (
    OPTIONAL_NON_TRANSITIVE,
    OPTIONAL_TRANSITIVE,
    WELL_KNOWN,
    Aggregator,
    AsPath,
    AsPathSegment,
    RawAttribute,
)
from .communities import ExtCommunity, decode_extended_community
from .constants import AS_TRANS, AttrType, Origin, SegmentType, UpdateSubcode
from .context import CodecContext
from .errors import ErrorAction
from .prefix import IPv4Address

_U32 = struct.Struct(">I")
_ORIGINS = tuple(Origin)


class Malformed(Exception):
    """Internal: an attribute value is malformed; ``update.py`` turns it into a problem."""

    def __init__(self, subcode: int, reason: str) -> None:
        self.subcode = subcode
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """How one attribute type is read and what RFC 7606 says when it is malformed."""

    name: str  # the PathAttributes field it fills
    flags: int  # expected Optional|Transitive bits
    action: ErrorAction
    rule: str  # RFC 7606 section that sets ``action``
    decode: Callable[[bytes, CodecContext], object]


def _decode_origin(value: bytes, ctx: CodecContext) -> Origin:
    if len(value) != 1:
        raise Malformed(UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, f"ORIGIN length {len(value)} != 1")
    if value[0] > 2:
        raise Malformed(
            UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE, f"ORIGIN value {value[0]} undefined"
        )
    return _ORIGINS[value[0]]


def decode_as_path(value: bytes, four_octet: bool) -> AsPath:
    """RFC 7606 §7.2: malformed on an unknown segment type, a zero segment length, an
    overrun of the attribute, or a single trailing octet. RFC 7607 §2: AS 0 is malformed."""
    width = 4 if four_octet else 2
    fmt = ">%dI" if four_octet else ">%dH"
    segments: list[AsPathSegment] = []
    i, end = 0, len(value)
    while i < end:
        if end - i < 2:
            raise Malformed(UpdateSubcode.MALFORMED_AS_PATH, "AS_PATH: one octet left over")
        kind, count = value[i], value[i + 1]
        if kind not in (1, 2, 3, 4):
            raise Malformed(UpdateSubcode.MALFORMED_AS_PATH, f"AS_PATH: segment type {kind}")
        if count == 0:
            raise Malformed(UpdateSubcode.MALFORMED_AS_PATH, "AS_PATH: zero-length segment")
        j = i + 2 + count * width
        if j > end:
            raise Malformed(
                UpdateSubcode.MALFORMED_AS_PATH,
                f"AS_PATH: segment of {count} ASNs overruns the attribute by {j - end} octets",
            )
        asns = struct.unpack_from(fmt % count, value, i + 2)
        if 0 in asns:
            raise Malformed(UpdateSubcode.MALFORMED_AS_PATH, "AS_PATH: contains AS 0 (RFC 7607)")
        segments.append(AsPathSegment(kind, asns))
        i = j
    if len(segments) > 1:
        return AsPath(merge_sequences(segments))
    return AsPath(tuple(segments))


def _decode_as_path(value: bytes, ctx: CodecContext) -> AsPath:
    return decode_as_path(value, ctx.four_octet_as)


def _decode_next_hop(value: bytes, ctx: CodecContext) -> IPv4Address:
    if len(value) != 4:
        raise Malformed(UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, f"NEXT_HOP length {len(value)} != 4")
    first = value[0]
    # RFC 4271 §6.3: a syntactically incorrect NEXT_HOP: not a unicast host address.
    if value == b"\0\0\0\0" or value == b"\xff\xff\xff\xff" or 224 <= first <= 239:
        raise Malformed(
            UpdateSubcode.INVALID_NEXT_HOP_ATTRIBUTE,
            f"NEXT_HOP {IPv4Address(value)} is not a unicast address",
        )
    return IPv4Address(value)


def _decode_u32(name: str) -> Callable[[bytes, CodecContext], int]:
    def decode(value: bytes, ctx: CodecContext) -> int:
        if len(value) != 4:
            raise Malformed(
                UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, f"{name} length {len(value)} != 4"
            )
        number: int = _U32.unpack(value)[0]
        return number

    return decode


def _decode_atomic_aggregate(value: bytes, ctx: CodecContext) -> bool:
    if value:
        raise Malformed(
            UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, f"ATOMIC_AGGREGATE length {len(value)} != 0"
        )
    return True


def _decode_aggregator(value: bytes, ctx: CodecContext) -> Aggregator:
    width = 4 if ctx.four_octet_as else 2
    if len(value) != width + 4:
        raise Malformed(
            UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
            f"AGGREGATOR length {len(value)} != {width + 4}",
        )
    asn = int.from_bytes(value[:width], "big")
    if asn == 0:
        raise Malformed(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, "AGGREGATOR AS 0 (RFC 7607)")
    return Aggregator(asn, IPv4Address(value[width:]))


def _decode_communities(value: bytes, ctx: CodecContext) -> tuple[int, ...]:
    n = len(value)
    if n == 0 or n & 3:
        raise Malformed(
            UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
            f"COMMUNITIES length {n} is not a non-zero multiple of 4",
        )
    return struct.unpack(">%dI" % (n >> 2), value)


def _decode_ext_communities(value: bytes, ctx: CodecContext) -> tuple[ExtCommunity, ...]:
    n = len(value)
    if n == 0 or n & 7:
        raise Malformed(
            UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
            f"EXTENDED_COMMUNITIES length {n} is not a non-zero multiple of 8",
        )
    return tuple([decode_extended_community(value[i : i + 8]) for i in range(0, n, 8)])


_TAW = ErrorAction.TREAT_AS_WITHDRAW
_DISCARD = ErrorAction.ATTRIBUTE_DISCARD

ATTRIBUTE_RULES: dict[int, AttributeRule] = {
    AttrType.ORIGIN: AttributeRule("origin", WELL_KNOWN, _TAW, "RFC 7606 §7.1", _decode_origin),
    AttrType.AS_PATH: AttributeRule("as_path", WELL_KNOWN, _TAW, "RFC 7606 §7.2", _decode_as_path),
    AttrType.NEXT_HOP: AttributeRule(
        "next_hop", WELL_KNOWN, _TAW, "RFC 7606 §7.3", _decode_next_hop
    ),
    AttrType.MULTI_EXIT_DISC: AttributeRule(
        "med", OPTIONAL_NON_TRANSITIVE, _TAW, "RFC 7606 §7.4", _decode_u32("MULTI_EXIT_DISC")
    ),
    AttrType.LOCAL_PREF: AttributeRule(
        "local_pref", WELL_KNOWN, _TAW, "RFC 7606 §7.5", _decode_u32("LOCAL_PREF")
    ),
    AttrType.ATOMIC_AGGREGATE: AttributeRule(
        "atomic_aggregate", WELL_KNOWN, _DISCARD, "RFC 7606 §7.6", _decode_atomic_aggregate
    ),
    AttrType.AGGREGATOR: AttributeRule(
        "aggregator", OPTIONAL_TRANSITIVE, _DISCARD, "RFC 7606 §7.7", _decode_aggregator
    ),
    AttrType.COMMUNITIES: AttributeRule(
        "communities", OPTIONAL_TRANSITIVE, _TAW, "RFC 7606 §7.8", _decode_communities
    ),
    AttrType.EXTENDED_COMMUNITIES: AttributeRule(
        "ext_communities", OPTIONAL_TRANSITIVE, _TAW, "RFC 7606 §7.14", _decode_ext_communities
    ),
}


def merge_as4(attrs: dict[str, object], other: list[RawAttribute]) -> None:
    """RFC 6793 §4.2.3: rebuild the real AS_PATH and AGGREGATOR from a 2-octet speaker's
    AS4_PATH and AS4_AGGREGATOR (both removed from ``other``); malformed AS4 attributes
    are discarded (§6: attribute discard)."""
    as4_path = next((a for a in other if a.type_code == AttrType.AS4_PATH), None)
    as4_agg = next((a for a in other if a.type_code == AttrType.AS4_AGGREGATOR), None)
    if as4_path is None and as4_agg is None:
        return
    other[:] = [a for a in other if a.type_code not in (AttrType.AS4_PATH, AttrType.AS4_AGGREGATOR)]
    aggregator = attrs.get("aggregator")
    if as4_agg is not None and isinstance(aggregator, Aggregator) and len(as4_agg.value) == 8:
        if aggregator.asn != AS_TRANS:
            return  # §4.2.3: AGGREGATOR is not AS_TRANS -> ignore AS4_AGGREGATOR and AS4_PATH
        asn4 = _U32.unpack(as4_agg.value[:4])[0]
        if asn4 != 0:  # RFC 7607 §2: AS 0 in AS4_AGGREGATOR -> attribute discard
            attrs["aggregator"] = Aggregator(asn4, aggregator.address)
    as_path = attrs.get("as_path")
    if as4_path is None or not isinstance(as_path, AsPath):
        return
    try:
        path4 = decode_as_path(as4_path.value, True)
    except Malformed:
        return
    if any(s.kind in (3, 4) for s in path4.segments):
        return  # §6: confederation segments in AS4_PATH -> discard it
    keep = _count_for_as4(as_path) - _count_for_as4(path4)
    if keep < 0:
        return  # §4.2.3: AS_PATH shorter than AS4_PATH -> ignore AS4_PATH
    head: list[AsPathSegment] = []
    for seg in as_path.segments:
        if keep <= 0 and seg.kind in (1, 2):
            break
        if seg.kind == SegmentType.AS_SEQUENCE and len(seg.asns) > keep:
            head.append(AsPathSegment(seg.kind, seg.asns[:keep]))
            keep = 0
            break
        head.append(seg)
        keep -= _count_for_as4(AsPath((seg,)))
    attrs["as_path"] = AsPath(merge_sequences(tuple(head) + path4.segments))


def merge_sequences(segments: Iterable[AsPathSegment]) -> tuple[AsPathSegment, ...]:
    """Canonical form: adjacent sequences of one kind are one sequence, split on the wire
    only by the 255-ASN limit."""
    out: list[AsPathSegment] = []
    for seg in segments:
        if out and seg.kind in (2, 3) and out[-1].kind == seg.kind:
            out[-1] = AsPathSegment(seg.kind, out[-1].asns + seg.asns)
        else:
            out.append(seg)
    return tuple(out)


def _count_for_as4(path: AsPath) -> int:
    """RFC 6793 §4.2.3 counts ASNs as for path length: AS_SET 1, confed segments 0."""
    return path.length
