"""UPDATE messages (RFC 4271 §4.3, RFC 4760 for IPv6): the dataclasses, encode, pack.

Encoding writes MP_REACH_NLRI / MP_UNREACH_NLRI first, as RFC 7606 §5.1 asks (so a
receiver can find the NLRI even if a later attribute is malformed), then the path
attributes in ascending type code. ``pack_announce`` / ``pack_withdraw`` fill as few
messages as the size limit allows with the prefixes of one family sharing one set of
attributes. Decoding, with RFC 7606, is in ``update_decoder.py``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from .attributes import (
    OPTIONAL_NON_TRANSITIVE,
    PathAttributes,
    attribute_header,
    encode_attributes,
    next_hop_attribute,
)
from .constants import (
    HEADER_LEN,
    MARKER,
    Afi,
    AttrType,
    MessageType,
    Safi,
)
from .context import DEFAULT_CONTEXT, CodecContext
from .encode_error import EncodeError
from .prefix import (
    IPAddress,
    IPv4Address,
    IPv6Address,
    Prefix,
    encode_nlri,
    length_of,
    nlri_size,
    packed_of,
)

_U16 = struct.Struct(">H")
_MP_HEAD = struct.Struct(">HBB")  # AFI, SAFI, next-hop length
EMPTY_ATTRIBUTES = PathAttributes()  # one shared object for every UPDATE without any


@dataclass(frozen=True, slots=True)
class MpReachNlri:
    """RFC 4760 §3. For IPv4/IPv6 unicast and multicast the next hop and NLRI are typed
    (``link_local``: RFC 2545 §3, the second half of a 32-octet IPv6 next hop; an IPv6
    next hop under AFI 1 is RFC 8950). Other families keep ``raw``, the octets after SAFI.
    """

    afi: int
    safi: int
    next_hop: IPAddress | None = None
    nlri: tuple[Prefix, ...] = ()
    link_local: IPv6Address | None = None
    raw: bytes | None = None

    def encode_value(self) -> bytes:
        if self.raw is not None:
            return struct.pack(">HB", self.afi, self.safi) + self.raw
        if self.next_hop is None:
            raise EncodeError(f"MP_REACH_NLRI afi={self.afi} safi={self.safi}: no next hop")
        nh = self.next_hop.packed
        if self.link_local is not None:
            if len(nh) != 16:
                raise EncodeError("MP_REACH_NLRI: a link-local next hop needs an IPv6 global one")
            nh += self.link_local.packed
        _check_family(self.nlri, self.afi, "MP_REACH_NLRI")
        return _MP_HEAD.pack(self.afi, self.safi, len(nh)) + nh + b"\0" + encode_nlri(self.nlri)


@dataclass(frozen=True, slots=True)
class MpUnreachNlri:
    """RFC 4760 §4. ``raw`` as for ``MpReachNlri``. No prefixes: End-of-RIB (RFC 4724 §2)."""

    afi: int
    safi: int
    withdrawn: tuple[Prefix, ...] = ()
    raw: bytes | None = None

    def encode_value(self) -> bytes:
        if self.raw is not None:
            return struct.pack(">HB", self.afi, self.safi) + self.raw
        _check_family(self.withdrawn, self.afi, "MP_UNREACH_NLRI")
        return struct.pack(">HB", self.afi, self.safi) + encode_nlri(self.withdrawn)


def _check_family(prefixes: Sequence[Prefix], afi: int, where: str) -> None:
    width = 4 if afi == Afi.IPV4 else 16
    for p in prefixes:
        if len(p.packed) != width:
            raise EncodeError(f"{where} afi={afi}: prefix {p} is of another family")


@dataclass(frozen=True, slots=True)
class Update:
    """An UPDATE. ``withdrawn``/``nlri`` are the IPv4 fields of the message body."""

    withdrawn: tuple[Prefix, ...] = ()
    attributes: PathAttributes = field(default=EMPTY_ATTRIBUTES)
    nlri: tuple[Prefix, ...] = ()
    mp_reach: MpReachNlri | None = None
    mp_unreach: MpUnreachNlri | None = None

    type = MessageType.UPDATE

    @property
    def announced(self) -> tuple[Prefix, ...]:
        """Every reachable prefix, body and MP_REACH_NLRI."""
        if self.mp_reach is None:
            return self.nlri
        return self.nlri + self.mp_reach.nlri

    @property
    def withdrawn_all(self) -> tuple[Prefix, ...]:
        """Every withdrawn prefix, body and MP_UNREACH_NLRI."""
        if self.mp_unreach is None:
            return self.withdrawn
        return self.withdrawn + self.mp_unreach.withdrawn

    @property
    def end_of_rib(self) -> tuple[int, int] | None:
        """(AFI, SAFI) if this is an End-of-RIB marker (RFC 4724 §2), else None."""
        if self.withdrawn or self.nlri or self.mp_reach or self.attributes != EMPTY_ATTRIBUTES:
            return None
        if self.mp_unreach is None:
            return (Afi.IPV4, Safi.UNICAST)
        if not self.mp_unreach.withdrawn and self.mp_unreach.raw is None:
            return (self.mp_unreach.afi, self.mp_unreach.safi)
        return None

    def families(self) -> dict[tuple[int, int], tuple[Prefix, ...]]:
        """Every prefix this UPDATE carries, announced or withdrawn, by (AFI, SAFI)."""
        out: dict[tuple[int, int], tuple[Prefix, ...]] = {}
        if self.withdrawn or self.nlri:
            out[(Afi.IPV4, Safi.UNICAST)] = self.withdrawn + self.nlri
        for mp, prefixes in (
            (self.mp_unreach, self.mp_unreach.withdrawn if self.mp_unreach else ()),
            (self.mp_reach, self.mp_reach.nlri if self.mp_reach else ()),
        ):
            if mp is not None and prefixes:
                key = (mp.afi, mp.safi)
                out[key] = out.get(key, ()) + prefixes
        return out

    def as_withdraw(self) -> Update:
        """RFC 7606 §2 treat-as-withdraw: every route this UPDATE carries, withdrawn, each in
        its own AFI/SAFI. One UPDATE holds one MP_UNREACH_NLRI, so this raises
        ``EncodeError`` when the routes span two families besides IPv4 unicast; use
        ``families()`` then."""
        families = self.families()
        v4 = families.pop((Afi.IPV4, Safi.UNICAST), ())
        if len(families) > 1:
            raise EncodeError(f"routes of {sorted(families)} do not fit one UPDATE")
        unreach = None
        for (afi, safi), prefixes in families.items():
            unreach = MpUnreachNlri(afi, safi, prefixes)
        return Update(withdrawn=v4, mp_unreach=unreach)


# --- encoding -----------------------------------------------------------------------------


def _mp_attr(code: int, value: bytes) -> bytes:
    return attribute_header(OPTIONAL_NON_TRANSITIVE, code, len(value)) + value


def encode_update_body(update: Update, ctx: CodecContext = DEFAULT_CONTEXT) -> bytes:
    _check_family(update.withdrawn, Afi.IPV4, "withdrawn routes")
    _check_family(update.nlri, Afi.IPV4, "NLRI")
    withdrawn = encode_nlri(update.withdrawn)
    attrs = encode_attributes(update.attributes, ctx)
    mp = b""
    if update.mp_reach is not None:
        mp = _mp_attr(AttrType.MP_REACH_NLRI, update.mp_reach.encode_value())
    if update.mp_unreach is not None:
        mp += _mp_attr(AttrType.MP_UNREACH_NLRI, update.mp_unreach.encode_value())
    attrs = mp + attrs if ctx.mp_attributes_first else attrs + mp
    return b"".join(
        (
            _U16.pack(len(withdrawn)),
            withdrawn,
            _U16.pack(len(attrs)),
            attrs,
            encode_nlri(update.nlri),
        )
    )


def frame(message_type: int, body: bytes, max_len: int) -> bytes:
    """Header + body; EncodeError if the message would exceed ``max_len``."""
    length = HEADER_LEN + len(body)
    if length > max_len:
        raise EncodeError(f"{MessageType(message_type).name} of {length} octets exceeds {max_len}")
    return MARKER + _U16.pack(length) + bytes((message_type,)) + body


def encode_update(update: Update, ctx: CodecContext = DEFAULT_CONTEXT) -> bytes:
    return frame(MessageType.UPDATE, encode_update_body(update, ctx), ctx.max_message_len)


def encode_end_of_rib(afi: int, safi: int, ctx: CodecContext = DEFAULT_CONTEXT) -> bytes:
    """The End-of-RIB marker of a family (RFC 4724 §2): for IPv4 unicast an UPDATE with
    nothing in it, for any other an UPDATE holding only an empty MP_UNREACH_NLRI."""
    if (afi, safi) == (Afi.IPV4, Safi.UNICAST):
        return encode_update(Update(), ctx)
    return encode_update(Update(mp_unreach=MpUnreachNlri(afi, safi)), ctx)


# --- packing ------------------------------------------------------------------------------


def _fill(prefixes: Sequence[Prefix], room: int) -> list[list[Prefix]]:
    """Split ``prefixes`` into as few groups as possible whose NLRI fits ``room`` octets.

    First-fit decreasing over the (at most 17) encoded sizes: each message takes as many of
    the largest remaining prefixes as fit, then tops up with smaller ones, so every message
    but the last is left with less room than the smallest remaining prefix needs.
    """
    if len(set(map(length_of, prefixes))) == 1:
        # One size (a table's prefixes usually are): every message but the last takes
        # as many as fit, in order, which is what the general case below comes to.
        size = nlri_size(prefixes[0])
        if size > room:
            raise EncodeError(f"no room for a {size}-octet prefix in {room} octets")
        step = room // size
        return [list(prefixes[i : i + step]) for i in range(0, len(prefixes), step)]
    by_size: dict[int, list[Prefix]] = {}
    for p in prefixes:
        by_size.setdefault(nlri_size(p), []).append(p)
    sizes = sorted(by_size, reverse=True)
    if sizes and sizes[0] > room:
        raise EncodeError(f"no room for a {sizes[0]}-octet prefix in {room} octets")
    cursor = dict.fromkeys(sizes, 0)
    remaining = len(prefixes)
    groups: list[list[Prefix]] = []
    while remaining:
        group: list[Prefix] = []
        free = room
        for size in sizes:
            queue, at = by_size[size], cursor[size]
            take = min(len(queue) - at, free // size)
            if take > 0:
                group += queue[at : at + take]
                cursor[size] = at + take
                free -= take * size
        remaining -= len(group)
        groups.append(group)
    return groups


def _single_family(prefixes: Sequence[Prefix]) -> int:
    widths = set(map(len, map(packed_of, prefixes)))
    if len(widths) != 1:
        raise EncodeError("pack the prefixes of one address family per call")
    return Afi.IPV4 if widths == {4} else Afi.IPV6


def pack_announce(
    attributes: PathAttributes,
    prefixes: Sequence[Prefix],
    ctx: CodecContext = DEFAULT_CONTEXT,
    *,
    next_hop: IPAddress | None = None,
    link_local: IPv6Address | None = None,
) -> list[bytes]:
    """Encoded UPDATEs announcing ``prefixes`` (one family) with ``attributes``, in as few
    messages as ``ctx.max_message_len`` allows; each carries one family alone (RFC 7606
    §5.1: an UPDATE MUST NOT carry more than one of the body's NLRI, MP_REACH_NLRI,
    MP_UNREACH_NLRI and withdrawn routes).

    IPv4 prefixes go in the body NLRI with ``attributes.next_hop``; IPv6 prefixes go in
    MP_REACH_NLRI with ``next_hop`` (and optionally ``link_local``), and the attributes'
    NEXT_HOP, if any, is left out (RFC 4760 §3 makes it meaningless there).
    """
    if not prefixes:
        return []
    if _single_family(prefixes) == Afi.IPV4:
        if attributes.next_hop is None:
            raise EncodeError("IPv4 announcement without NEXT_HOP")
        return _pack_encoded(encode_attributes(attributes, ctx), prefixes, ctx, None, None)
    if next_hop is None:
        raise EncodeError("IPv6 announcement needs an MP_REACH_NLRI next hop")
    if attributes.next_hop is not None:
        attributes = attributes.evolve(next_hop=None)
    attrs = encode_attributes(attributes, ctx)
    return _pack_encoded(attrs, prefixes, ctx, next_hop, link_local)


def pack_announce_spliced(
    around: tuple[bytes, bytes],
    prefixes: Sequence[Prefix],
    ctx: CodecContext = DEFAULT_CONTEXT,
    *,
    next_hop: IPAddress,
) -> list[bytes]:
    """``pack_announce`` of ``prefixes`` (one family) with the attributes whose encoding
    is ``around`` (``encode_around_next_hop(attributes, ctx)``), byte for byte: IPv4
    prefixes with ``next_hop`` as their NEXT_HOP (spliced in), IPv6 ones with it in
    MP_REACH_NLRI. An export sends one route to each of dozens of neighbors with a next
    hop of its own, and encoding the attributes once for all of them costs a fraction
    of encoding them anew (``export.py``)."""
    if not prefixes:
        return []
    head, tail = around
    if _single_family(prefixes) == Afi.IPV4:
        if not isinstance(next_hop, IPv4Address):
            raise EncodeError(f"NEXT_HOP {next_hop} is not IPv4 (use MP_REACH_NLRI)")
        attrs = head + next_hop_attribute(next_hop) + tail
        return _pack_encoded(attrs, prefixes, ctx, None, None)
    return _pack_encoded(head + tail, prefixes, ctx, next_hop, None)


def _pack_encoded(
    attrs: bytes,
    prefixes: Sequence[Prefix],
    ctx: CodecContext,
    next_hop: IPAddress | None,
    link_local: IPv6Address | None,
) -> list[bytes]:
    """``prefixes`` (one family) announced with attributes already encoded: in the body
    NLRI (``next_hop`` None: IPv4, its NEXT_HOP among ``attrs``), else in MP_REACH_NLRI
    with ``next_hop`` and ``link_local``."""
    max_len = ctx.max_message_len
    if next_hop is None:
        head = b"\0\0" + _U16.pack(len(attrs)) + attrs
        room = max_len - HEADER_LEN - len(head)
        return [
            frame(MessageType.UPDATE, head + encode_nlri(group), max_len)
            for group in _fill(prefixes, room)
        ]
    nh = next_hop.packed + (link_local.packed if link_local is not None else b"")
    mp_head = _MP_HEAD.pack(Afi.IPV6, Safi.UNICAST, len(nh)) + nh + b"\0"
    # MP_REACH_NLRI's header is 4 octets (Extended Length) once its value exceeds 255, else
    # 3. When even a full message keeps the value within 255 (huge other attributes), every
    # message gets the short header and one more octet of room.
    room = max_len - HEADER_LEN - 4 - 4 - len(mp_head) - len(attrs)
    if len(mp_head) + room + 1 <= 255:
        room += 1
    out = []
    for group in _fill(prefixes, room):
        mp = _mp_attr(AttrType.MP_REACH_NLRI, mp_head + encode_nlri(group))
        both = mp + attrs if ctx.mp_attributes_first else attrs + mp
        body = b"\0\0" + _U16.pack(len(both)) + both
        out.append(frame(MessageType.UPDATE, body, max_len))
    return out


def pack_withdraw(prefixes: Sequence[Prefix], ctx: CodecContext = DEFAULT_CONTEXT) -> list[bytes]:
    """Encoded UPDATEs withdrawing ``prefixes`` (one family), as few as the limit allows."""
    if not prefixes:
        return []
    afi = _single_family(prefixes)
    max_len = ctx.max_message_len
    if afi == Afi.IPV4:
        room = max_len - HEADER_LEN - 4
        return [
            frame(MessageType.UPDATE, _U16.pack(len(w)) + w + b"\0\0", max_len)
            for w in (encode_nlri(g) for g in _fill(prefixes, room))
        ]
    room = max_len - HEADER_LEN - 4 - 4 - 3
    out = []
    for group in _fill(prefixes, room):
        mp = _mp_attr(AttrType.MP_UNREACH_NLRI, b"\0\2\1" + encode_nlri(group))
        out.append(frame(MessageType.UPDATE, b"\0\0" + _U16.pack(len(mp)) + mp, max_len))
    return out
