"""Path attributes: typed values and their encoders (decoders: ``attribute_decoders.py``).

``PathAttributes`` is one frozen, hashable record per path (what many prefixes share, so
the RIB can group by it and the packing encoder can emit it once per UPDATE). It holds the
attributes bagemu routes by as typed fields and every other attribute as a
``RawAttribute`` that round-trips unchanged. MP_REACH_NLRI and MP_UNREACH_NLRI are not
path attributes of a route but carriers of NLRI, so they live on ``Update``.

Canonical encoding (what ``encode_attributes`` writes, and what a decode/encode round trip
reproduces): attributes in ascending type code, the Extended Length flag only when the
value exceeds 255 octets, unused flag bits zero, adjacent AS_SEQUENCE segments merged.

The decoders, with the RFC 7606 action for each malformed attribute, are in
``attribute_decoders.py``.
"""

from __future__ import annotations

import ipaddress
import operator
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from .communities import ExtCommunity, community_str
from .communities import effective_link_bandwidth as _effective_link_bandwidth
from .constants import (
    AS_TRANS,
    MAX_ASN_2,
    MAX_ASN_4,
    MAX_SEGMENT_ASNS,
    AttrFlag,
    AttrType,
    Origin,
    SegmentType,
)
from .context import CodecContext
from .encode_error import EncodeError

IPv4Address = ipaddress.IPv4Address

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
WELL_KNOWN = 0x40  # RFC 4271 §4.3: O=0, T=1
OPTIONAL_TRANSITIVE = 0xC0  # Optional, Transitive
OPTIONAL_NON_TRANSITIVE = 0x80  # Optional


class AsPathSegment(NamedTuple):
    kind: int  # SegmentType
    asns: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AsPath:
    """RFC 4271 §4.3 AS_PATH as a tuple of segments (4-octet ASNs, RFC 6793)."""

    segments: tuple[AsPathSegment, ...] = ()

    @classmethod
    def sequence(cls, *asns: int) -> AsPath:
        return cls((AsPathSegment(SegmentType.AS_SEQUENCE, tuple(asns)),) if asns else ())

    @property
    def length(self) -> int:
        """RFC 4271 §9.1.2.2 a: an AS_SET counts 1; RFC 5065 §5.3: confed segments count 0."""
        n = 0
        for kind, asns in self.segments:
            if kind == SegmentType.AS_SEQUENCE:
                n += len(asns)
            elif kind == SegmentType.AS_SET:
                n += 1
        return n

    @property
    def first_asn(self) -> int | None:
        """The neighbor AS a route came from (first AS of a leading AS_SEQUENCE)."""
        if self.segments and self.segments[0].kind == SegmentType.AS_SEQUENCE:
            return self.segments[0].asns[0]
        return None

    def asns(self) -> Iterable[int]:
        for segment in self.segments:
            yield from segment.asns

    def contains(self, asn: int) -> bool:
        # (a loop, not ``any`` over a generator: asked per neighbor of every export)
        for segment in self.segments:  # noqa: SIM110
            if asn in segment.asns:
                return True
        return False

    def prepend(self, asn: int, count: int = 1) -> AsPath:
        """RFC 4271 §5.1.2: add ``asn`` at the front, into a leading AS_SEQUENCE."""
        head = (asn,) * count
        segs = self.segments
        if segs and segs[0].kind == SegmentType.AS_SEQUENCE:
            return AsPath((AsPathSegment(SegmentType.AS_SEQUENCE, head + segs[0].asns), *segs[1:]))
        return AsPath((AsPathSegment(SegmentType.AS_SEQUENCE, head), *segs))

    def __str__(self) -> str:
        parts = []
        for kind, asns in self.segments:
            text = " ".join(map(str, asns))
            if kind == SegmentType.AS_SET:
                text = "{" + ",".join(map(str, asns)) + "}"
            elif kind == SegmentType.AS_CONFED_SEQUENCE:
                text = f"({text})"
            elif kind == SegmentType.AS_CONFED_SET:
                text = "[" + ",".join(map(str, asns)) + "]"
            parts.append(text)
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Aggregator:
    """RFC 4271 §5.1.7: the AS and BGP identifier of the speaker that aggregated."""

    asn: int
    address: IPv4Address


@dataclass(frozen=True, slots=True)
class RawAttribute:
    """An attribute kept as received: unknown optional ones, and known ones bagemu does
    not interpret (ORIGINATOR_ID, CLUSTER_LIST, LARGE_COMMUNITY, ...).

    ``flags`` holds the Optional, Transitive and Partial bits; Extended Length is
    recomputed on encode.
    """

    flags: int
    type_code: int
    value: bytes

    @property
    def optional(self) -> bool:
        return bool(self.flags & AttrFlag.OPTIONAL)

    @property
    def transitive(self) -> bool:
        return bool(self.flags & AttrFlag.TRANSITIVE)

    @property
    def partial(self) -> bool:
        return bool(self.flags & AttrFlag.PARTIAL)


@dataclass(frozen=True, slots=True, weakref_slot=True)  # shared: rib/interning.py
class PathAttributes:
    """The attributes of one path. ``None`` / ``()`` / ``False`` mean absent.

    ``communities`` are RFC 1997 32-bit values; ``ext_communities`` extended communities,
    link bandwidth typed. A present but empty AS_PATH (``AsPath()``) differs from none.
    """

    origin: Origin | None = None
    as_path: AsPath | None = None
    next_hop: IPv4Address | None = None
    med: int | None = None
    local_pref: int | None = None
    atomic_aggregate: bool = False
    aggregator: Aggregator | None = None
    communities: tuple[int, ...] = ()
    ext_communities: tuple[ExtCommunity, ...] = ()
    other: tuple[RawAttribute, ...] = field(default=())
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        """The hash of every field, worked out once: shared attributes are looked up by
        hash again and again (``rib.interning``, the export's tables), and a full hash
        walks the AS_PATH and every community, several microseconds each time."""
        h = self._hash
        if h is None:
            h = hash(_ALL_FIELDS(self))
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        """Field by field, as the generated ``__eq__`` compares, but in C (one
        ``attrgetter`` call a side), after the cached hashes where both are known: shared
        attributes are compared whenever a lookup finds one (``rib.interning``), and the
        generated method was 3% of a cold start's CPU (``bench/scale.py``, z = 2)."""
        if self is other:
            return True
        if other.__class__ is not PathAttributes:
            return NotImplemented
        assert isinstance(other, PathAttributes)
        h, g = self._hash, other._hash
        if h is not None and g is not None and h != g:
            return False
        return bool(_ALL_FIELDS(self) == _ALL_FIELDS(other))

    @property
    def link_bandwidth_bytes_per_s(self) -> float | None:
        """RFC 10005 §4 effective value (see ``communities.effective_link_bandwidth``)."""
        return _effective_link_bandwidth(self.ext_communities)

    def evolve(self, **changes: Any) -> PathAttributes:
        """A copy with ``changes`` (field name -> value): ``dataclasses.replace``, which
        costs four times as much. The export builds one per route it advertises and
        another per UPDATE it packs, so a flood of distinct routes spent more time in
        ``replace`` than in encoding them."""
        values = list(_ALL_FIELDS(self))
        for name, value in changes.items():
            values[_FIELD_INDEX[name]] = value
        return PathAttributes(*values)

    def values(self) -> tuple[Any, ...]:
        """Every field's value, in order: ``PathAttributes(*values)`` is equal to these
        attributes and hashes as the values do."""
        return _ALL_FIELDS(self)

    def values_without_next_hop(self) -> tuple[Any, ...]:
        """``values`` with no NEXT_HOP: those of ``evolve(next_hop=None)``, without
        building it (``rib.interning`` looks a path's attributes up so)."""
        values = _ALL_FIELDS(self)
        return (*values[:_NEXT_HOP], None, *values[_NEXT_HOP + 1 :])

    def for_propagation(self) -> PathAttributes:
        """Attributes as passed to another peer, per RFC 4271 §5 and §9.1.4 for the
        attributes this codec does not interpret: an optional transitive one keeps going
        with its Partial bit set; an optional non-transitive one is dropped. Typed
        attributes are left to the speaker's export policy."""
        kept = tuple(
            RawAttribute(a.flags | 0x20, a.type_code, a.value)  # Partial
            for a in self.other
            if a.transitive or not a.optional
        )
        if kept == self.other:
            return self
        return self.evolve(other=kept)

    def describe(self) -> dict[str, object]:
        """A JSON-friendly view for logs and ``--json`` output."""
        out: dict[str, object] = {}
        if self.origin is not None:
            out["origin"] = self.origin.name.lower()
        if self.as_path is not None:
            out["as_path"] = str(self.as_path)
        if self.next_hop is not None:
            out["next_hop"] = str(self.next_hop)
        if self.med is not None:
            out["med"] = self.med
        if self.local_pref is not None:
            out["local_pref"] = self.local_pref
        if self.atomic_aggregate:
            out["atomic_aggregate"] = True
        if self.aggregator is not None:
            out["aggregator"] = f"{self.aggregator.asn}:{self.aggregator.address}"
        if self.communities:
            out["communities"] = [community_str(c) for c in self.communities]
        if self.ext_communities:
            out["ext_communities"] = [str(c) for c in self.ext_communities]
        if self.other:
            out["other"] = [f"{a.type_code}:{a.flags:#04x}:{a.value.hex()}" for a in self.other]
        return out


_FIELD_NAMES = tuple(f.name for f in fields(PathAttributes) if f.init)
_FIELD_INDEX = {name: i for i, name in enumerate(_FIELD_NAMES)}
_ALL_FIELDS = operator.attrgetter(*_FIELD_NAMES)  # every field, in order (``evolve``)
_NEXT_HOP = _FIELD_INDEX["next_hop"]


# --- encoding -----------------------------------------------------------------------------


def attribute_header(flags: int, type_code: int, length: int) -> bytes:
    """Flags, type and length; Extended Length only when needed (RFC 4271 §4.3)."""
    if length > 255:
        if length > 0xFFFF:
            raise EncodeError(f"attribute {type_code}: value of {length} octets exceeds 65535")
        return bytes(((flags & 0xE0) | 0x10, type_code)) + _U16.pack(length)
    return bytes((flags & 0xE0, type_code, length))  # unused low bits zero


def _attr(flags: int, type_code: int, value: bytes) -> bytes:
    return attribute_header(flags, type_code, len(value)) + value


def _check_asn(asn: int, where: str) -> None:
    if not 0 <= asn <= MAX_ASN_4:
        raise EncodeError(f"{where}: ASN {asn} out of range 0..{MAX_ASN_4}")


def encode_as_path(path: AsPath, four_octet: bool) -> bytes:
    """Segments as RFC 4271 §4.3 lays them out; an AS_SEQUENCE longer than 255 ASNs is
    split into consecutive segments (RFC 4271 §5.1.2). A longer AS_SET cannot be split
    without changing the path length (§9.1.2.2 a), so it is refused."""
    fmt = ">%dI" if four_octet else ">%dH"
    out = bytearray()
    for kind, asns in path.segments:
        if kind not in (1, 2, 3, 4):
            raise EncodeError(f"AS_PATH: unknown segment type {kind}")
        if not asns:
            raise EncodeError("AS_PATH: empty segment (RFC 7606 §7.2 makes it malformed)")
        for asn in asns:
            _check_asn(asn, "AS_PATH")
        if not four_octet:
            # RFC 6793 §4.2.2: a 4-octet ASN travels as AS_TRANS to a 2-octet speaker.
            asns = tuple(a if a <= MAX_ASN_2 else AS_TRANS for a in asns)
        if len(asns) > MAX_SEGMENT_ASNS and kind in (SegmentType.AS_SET, SegmentType.AS_CONFED_SET):
            raise EncodeError(f"AS_PATH: a set of {len(asns)} ASNs exceeds 255 and cannot be split")
        for i in range(0, len(asns), MAX_SEGMENT_ASNS):
            chunk = asns[i : i + MAX_SEGMENT_ASNS]
            out += bytes((kind, len(chunk)))
            out += struct.pack(fmt % len(chunk), *chunk)
    return bytes(out)


_DERIVED_CODES = frozenset((14, 15, 17, 18))  # MP_(UN)REACH_NLRI, AS4_PATH, AS4_AGGREGATOR


def _needs_as4(attrs: PathAttributes) -> bool:
    if attrs.as_path is not None and any(a > MAX_ASN_2 for a in attrs.as_path.asns()):
        return True
    return attrs.aggregator is not None and attrs.aggregator.asn > MAX_ASN_2


def encode_attributes(attrs: PathAttributes, ctx: CodecContext) -> bytes:
    """All of ``attrs`` in canonical order (module docstring)."""
    return b"".join([p[1] for p in _encoded_parts(attrs, ctx)])


def encode_around_next_hop(attrs: PathAttributes, ctx: CodecContext) -> tuple[bytes, bytes]:
    """``(head, tail)``: for any IPv4 ``hop``, ``encode_attributes(attrs.evolve(next_hop=
    hop), ctx)`` is ``head + next_hop_attribute(hop) + tail``. An export sends one route
    to dozens of neighbors, each with its own next hop: encoded once, spliced for each.
    ValueError unless ``splices(attrs)``."""
    if not splices(attrs):
        raise ValueError("encode_around_next_hop: attributes with a NEXT_HOP or raw attributes")
    parts = _encoded_parts(attrs, ctx)  # (canonical order: by type code, NEXT_HOP is 3)
    head = b"".join([p[1] for p in parts if p[0] < AttrType.NEXT_HOP])
    return head, b"".join([p[1] for p in parts if p[0] > AttrType.NEXT_HOP])


def splices(attrs: PathAttributes) -> bool:
    """Whether ``encode_around_next_hop`` takes ``attrs``: no NEXT_HOP of their own, and no
    raw attributes (whether one is copied depends on the typed ones written)."""
    return attrs.next_hop is None and not attrs.other


def next_hop_attribute(hop: IPv4Address) -> bytes:
    """The NEXT_HOP attribute, as ``encode_attributes`` writes it."""
    return b"\x40\x03\x04" + hop.packed


def _encoded_parts(attrs: PathAttributes, ctx: CodecContext) -> list[tuple[int, bytes]]:
    """Each attribute of ``attrs`` encoded, with its type code, in canonical order."""
    parts: list[tuple[int, bytes]] = []
    add = parts.append
    four = ctx.four_octet_as
    if attrs.origin is not None:
        add((1, b"\x40\x01\x01" + bytes((attrs.origin,))))
    if attrs.as_path is not None:
        add((2, _attr(WELL_KNOWN, 2, encode_as_path(attrs.as_path, four))))
    if attrs.next_hop is not None:
        if attrs.next_hop.version != 4:
            raise EncodeError(f"NEXT_HOP {attrs.next_hop} is not IPv4 (use MP_REACH_NLRI)")
        add((3, next_hop_attribute(attrs.next_hop)))
    if attrs.med is not None:
        add((4, b"\x80\x04\x04" + _u32(attrs.med, "MULTI_EXIT_DISC")))
    if attrs.local_pref is not None:
        add((5, b"\x40\x05\x04" + _u32(attrs.local_pref, "LOCAL_PREF")))
    if attrs.atomic_aggregate:
        add((6, b"\x40\x06\x00"))
    if attrs.aggregator is not None:
        agg = attrs.aggregator
        _check_asn(agg.asn, "AGGREGATOR")
        asn = agg.asn if four or agg.asn <= MAX_ASN_2 else AS_TRANS
        value = (_U32.pack(asn) if four else _U16.pack(asn)) + agg.address.packed
        add((7, _attr(OPTIONAL_TRANSITIVE, 7, value)))
    if attrs.communities:
        try:
            value = struct.pack(">%dI" % len(attrs.communities), *attrs.communities)
        except struct.error as exc:
            raise EncodeError(f"COMMUNITIES: {exc}") from exc
        add((8, _attr(OPTIONAL_TRANSITIVE, 8, value)))
    if attrs.ext_communities:
        value = b"".join([c.encode() for c in attrs.ext_communities])
        add((16, _attr(OPTIONAL_TRANSITIVE, 16, value)))
    if not four and _needs_as4(attrs):
        # RFC 6793 §4.2.2: tell a 2-octet speaker the real path in AS4_PATH/AS4_AGGREGATOR.
        if attrs.as_path is not None:
            segs = tuple(s for s in attrs.as_path.segments if s.kind in (1, 2))  # §4.2.2: no confed
            add((17, _attr(OPTIONAL_TRANSITIVE, 17, encode_as_path(AsPath(segs), True))))
        if attrs.aggregator is not None and attrs.aggregator.asn > MAX_ASN_2:
            agg = attrs.aggregator
            add((18, _attr(OPTIONAL_TRANSITIVE, 18, _U32.pack(agg.asn) + agg.address.packed)))
    # Never two of one attribute: a raw one the typed fields already wrote, AS4_PATH and
    # AS4_AGGREGATOR (derived from AS_PATH and AGGREGATOR above, for 2-octet peers only:
    # RFC 6793 §4.1), and MP_REACH/MP_UNREACH (the UPDATE's own) are not copied.
    written = {code for code, _ in parts} | _DERIVED_CODES
    for raw in attrs.other:
        if not 0 <= raw.type_code <= 255:
            raise EncodeError(f"attribute type {raw.type_code} out of range")
        if raw.type_code not in written:
            written.add(raw.type_code)
            add((raw.type_code, _attr(raw.flags, raw.type_code, raw.value)))
    if attrs.other:
        parts.sort(key=_first)
    return parts


def _first(item: tuple[int, bytes]) -> int:
    return item[0]


def _u32(value: int, where: str) -> bytes:
    if not 0 <= value <= 0xFFFFFFFF:
        raise EncodeError(f"{where}: {value} out of range 0..4294967295")
    return _U32.pack(value)
