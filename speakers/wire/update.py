"""UPDATE messages (RFC 4271 §4.3, RFC 4760 for IPv6): decode with RFC 7606, encode, pack.

Decoding is one pass over the attributes. A fault in one attribute becomes an
``AttributeProblem`` with the RFC 7606 approach its rule names and parsing carries on, so
the NLRI is still found (RFC 7606 §5.1: the lengths in the message, not those of the
attributes, locate it). At the end the strongest approach wins (§3 h) and, if there was any
fault, ``UpdateMessageError`` is raised carrying the decoded ``Update`` it applies to.

Encoding writes MP_REACH_NLRI / MP_UNREACH_NLRI first, as RFC 7606 §5.1 asks (so a
receiver can find the NLRI even if a later attribute is malformed), then the path
attributes in ascending type code. ``pack_announce`` / ``pack_withdraw`` fill as few
messages as the size limit allows with the prefixes of one family sharing one set of
attributes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .attributes import (
    _OPT_NON_TRANS,
    ATTRIBUTE_RULES,
    Malformed,
    PathAttributes,
    RawAttribute,
    attribute_header,
    encode_attributes,
    merge_as4,
)
from .constants import (
    HEADER_LEN,
    MARKER,
    Afi,
    AttrFlag,
    AttrType,
    MessageType,
    Safi,
    UpdateSubcode,
)
from .context import DEFAULT_CONTEXT, CodecContext
from .encode_error import EncodeError
from .errors import AttributeProblem, ErrorAction, UpdateMessageError
from .prefix import (
    IPAddress,
    IPv4Address,
    IPv6Address,
    NlriError,
    Prefix,
    decode_nlri,
    encode_nlri,
    nlri_problem,
    nlri_size,
)

_U16 = struct.Struct(">H")
_MP_HEAD = struct.Struct(">HBB")  # AFI, SAFI, next-hop length
_EMPTY_ATTRS = PathAttributes()
_PARSED_FAMILIES = frozenset({(1, 1), (1, 2), (2, 1), (2, 2)})


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
    attributes: PathAttributes = field(default=_EMPTY_ATTRS)
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
        if self.withdrawn or self.nlri or self.mp_reach or self.attributes != _EMPTY_ATTRS:
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
    return attribute_header(_OPT_NON_TRANS, code, len(value)) + value


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


# --- packing ------------------------------------------------------------------------------


def _fill(prefixes: Sequence[Prefix], room: int) -> list[list[Prefix]]:
    """Split ``prefixes`` into as few groups as possible whose NLRI fits ``room`` octets.

    First-fit decreasing over the (at most 17) encoded sizes: each message takes as many of
    the largest remaining prefixes as fit, then tops up with smaller ones, so every message
    but the last is left with less room than the smallest remaining prefix needs.
    """
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
    widths = {len(p.packed) for p in prefixes}
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
    messages as ``ctx.max_message_len`` allows.

    IPv4 prefixes go in the body NLRI with ``attributes.next_hop``; IPv6 prefixes go in
    MP_REACH_NLRI with ``next_hop`` (and optionally ``link_local``), and the attributes'
    NEXT_HOP, if any, is left out (RFC 4760 §3 makes it meaningless there).
    """
    if not prefixes:
        return []
    afi = _single_family(prefixes)
    max_len = ctx.max_message_len
    if afi == Afi.IPV4:
        if attributes.next_hop is None:
            raise EncodeError("IPv4 announcement without NEXT_HOP")
        attrs = encode_attributes(attributes, ctx)
        head = b"\0\0" + _U16.pack(len(attrs)) + attrs
        room = max_len - HEADER_LEN - len(head)
        return [
            frame(MessageType.UPDATE, head + encode_nlri(group), max_len)
            for group in _fill(prefixes, room)
        ]
    if next_hop is None:
        raise EncodeError("IPv6 announcement needs an MP_REACH_NLRI next hop")
    if attributes.next_hop is not None:
        attributes = replace(attributes, next_hop=None)
    attrs = encode_attributes(attributes, ctx)
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


def pack_announce_dual(
    attributes: PathAttributes,
    ipv4: Sequence[Prefix],
    ipv6: Sequence[Prefix],
    ctx: CodecContext = DEFAULT_CONTEXT,
    *,
    next_hop: IPAddress,
    link_local: IPv6Address | None = None,
) -> list[bytes]:
    """Both families with the same attributes in one UPDATE when it fits: the IPv4
    prefixes in the body NLRI with ``attributes.next_hop``, the IPv6 ones in MP_REACH_NLRI
    with ``next_hop`` (RFC 4760 §3 lets one UPDATE carry both). A switch of a fabric
    announces a /24 and a /64 per rack with one AS_PATH: one message instead of two. When
    they do not fit together, each family is packed on its own (``pack_announce``)."""
    if not ipv4 or not ipv6:
        if ipv4:
            return pack_announce(attributes, ipv4, ctx)
        return pack_announce(attributes, ipv6, ctx, next_hop=next_hop, link_local=link_local)
    if attributes.next_hop is None:
        raise EncodeError("IPv4 announcement without NEXT_HOP")
    if _single_family(ipv4) != Afi.IPV4 or _single_family(ipv6) != Afi.IPV6:
        raise EncodeError("pack_announce_dual: IPv4 prefixes first, then IPv6")
    attrs = encode_attributes(attributes, ctx)
    nh = next_hop.packed + (link_local.packed if link_local is not None else b"")
    mp_value = _MP_HEAD.pack(Afi.IPV6, Safi.UNICAST, len(nh)) + nh + b"\0" + encode_nlri(ipv6)
    mp = _mp_attr(AttrType.MP_REACH_NLRI, mp_value)
    both = mp + attrs if ctx.mp_attributes_first else attrs + mp
    body = b"\0\0" + _U16.pack(len(both)) + both + encode_nlri(ipv4)
    if HEADER_LEN + len(body) <= ctx.max_message_len:
        return [frame(MessageType.UPDATE, body, ctx.max_message_len)]
    v6_attrs = replace(attributes, next_hop=None)
    return pack_announce(attributes, ipv4, ctx) + pack_announce(
        v6_attrs, ipv6, ctx, next_hop=next_hop, link_local=link_local
    )


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


# --- decoding -----------------------------------------------------------------------------


def _problem(
    subcode: int,
    action: ErrorAction,
    reason: str,
    rule: str,
    data: bytes = b"",
    code: int | None = None,
) -> AttributeProblem:
    return AttributeProblem(subcode, action, reason, rule, data, code)


def _session_reset(subcode: int, reason: str, rule: str, data: bytes = b"") -> UpdateMessageError:
    return UpdateMessageError((_problem(subcode, ErrorAction.SESSION_RESET, reason, rule, data),))


class _MpMalformed(Exception):
    def __init__(self, reason: str, afi_safi: tuple[int, int] | None) -> None:
        self.reason = reason
        self.afi_safi = afi_safi
        super().__init__(reason)


def _expected_next_hop_lengths(afi: int) -> tuple[int, ...]:
    # RFC 4760 §3 with RFC 2545 §3 (IPv6: global, or global + link-local) and
    # RFC 8950 §3 (IPv4 NLRI over an IPv6 next hop).
    return (16, 32) if afi == Afi.IPV6 else (4, 16, 32)


def _decode_mp_reach(value: bytes) -> MpReachNlri:
    if len(value) < 5:  # RFC 7606 §5.3
        family = struct.unpack_from(">HB", value) if len(value) >= 3 else None
        raise _MpMalformed(f"MP_REACH_NLRI length {len(value)} < 5", family)
    afi, safi, nh_len = _MP_HEAD.unpack_from(value)
    if (afi, safi) not in _PARSED_FAMILIES:
        return MpReachNlri(afi, safi, raw=value[3:])
    if nh_len not in _expected_next_hop_lengths(afi):
        # RFC 7606 §7.11: the NLRI cannot be located reliably.
        raise _MpMalformed(f"MP_REACH_NLRI afi={afi}: next-hop length {nh_len}", (afi, safi))
    start = 5 + nh_len
    if start > len(value):
        raise _MpMalformed(
            f"MP_REACH_NLRI: next hop of {nh_len} octets overruns the attribute", (afi, safi)
        )
    nh = value[4 : 4 + nh_len]
    next_hop: IPAddress = IPv4Address(nh) if nh_len == 4 else IPv6Address(nh[:16])
    link_local = IPv6Address(nh[16:]) if nh_len == 32 else None
    try:
        nlri = decode_nlri(value, start, len(value), afi)
    except NlriError as exc:
        raise _MpMalformed(f"MP_REACH_NLRI: {exc.reason}", (afi, safi)) from None
    return MpReachNlri(afi, safi, next_hop, tuple(nlri), link_local)


def _decode_mp_unreach(value: bytes) -> MpUnreachNlri:
    if len(value) < 3:  # RFC 7606 §5.3
        raise _MpMalformed(f"MP_UNREACH_NLRI length {len(value)} < 3", None)
    afi, safi = struct.unpack_from(">HB", value)
    if (afi, safi) not in _PARSED_FAMILIES:
        return MpUnreachNlri(afi, safi, raw=value[3:])
    try:
        withdrawn = decode_nlri(value, 3, len(value), afi)
    except NlriError as exc:
        raise _MpMalformed(f"MP_UNREACH_NLRI: {exc.reason}", (afi, safi)) from None
    return MpUnreachNlri(afi, safi, tuple(withdrawn))


# Plain ints in the decode loop: IntFlag arithmetic costs a Python-level call per use.
_FLAG_BITS = int(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)
_OPTIONAL = int(AttrFlag.OPTIONAL)
_PARTIAL = int(AttrFlag.PARTIAL)
_EXTENDED_LENGTH = int(AttrFlag.EXTENDED_LENGTH)
_MP_CODES = (int(AttrType.MP_REACH_NLRI), int(AttrType.MP_UNREACH_NLRI))


# Decoded attribute values by (type code, 4-octet AS, value bytes). A value depends on
# nothing else and is immutable, and a switch that sends a route to dozens of neighbors
# sends them the same AS_PATH and communities: in a process running many speakers the
# memo decodes each once and shares one object between every receiver. Bounded: emptied
# when full. Malformed values raise before they are stored.
DECODE_MEMO_SIZE = 1 << 16
_DECODED: dict[tuple[int, bool, bytes], object] = {}
_MISSING = object()


def decode_update_body(body: bytes, ctx: CodecContext = DEFAULT_CONTEXT) -> Update:
    """Decode an UPDATE body (after the 19-octet header).

    Returns the ``Update``, or raises ``UpdateMessageError`` (see ``errors.py`` for what
    each action asks of the session).
    """
    n = len(body)
    if n < 4:
        raise _session_reset(
            UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
            f"UPDATE body of {n} octets < 4",
            "RFC 4271 §6.3",
        )
    wlen = _U16.unpack_from(body)[0]
    a_at = 2 + wlen
    if a_at + 2 > n:
        raise _session_reset(
            UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
            f"Withdrawn Routes Length {wlen} overruns the message",
            "RFC 4271 §6.3 (unchanged by RFC 7606 §3 b)",
        )
    alen = _U16.unpack_from(body, a_at)[0]
    a_start = a_at + 2
    a_end = a_start + alen
    if a_end > n:
        # RFC 4271 §6.3: Withdrawn Routes Length + Total Attribute Length + 23 > Length.
        raise _session_reset(
            UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
            f"Total Attribute Length {alen} overruns the message by {a_end - n} octets",
            "RFC 4271 §6.3 (unchanged by RFC 7606 §3 b)",
        )
    try:
        withdrawn = decode_nlri(body, 2, a_at, Afi.IPV4)
    except NlriError as exc:
        raise UpdateMessageError((nlri_problem(exc.reason, "Withdrawn Routes"),)) from None
    try:
        nlri = decode_nlri(body, a_end, n, Afi.IPV4)
    except NlriError as exc:
        raise UpdateMessageError((nlri_problem(exc.reason, "NLRI"),)) from None

    fields: dict[str, Any] = {}  # PathAttributes' keyword arguments, each of its own type
    other: list[RawAttribute] = []
    problems: list[AttributeProblem] = []
    seen: set[int] = set()
    mp_reach: MpReachNlri | None = None
    mp_unreach: MpUnreachNlri | None = None
    afi_safi: tuple[int, int] | None = None
    i = a_start
    while i < a_end:
        flags = body[i]
        hdr = 4 if flags & _EXTENDED_LENGTH else 3
        if a_end - i < hdr:
            problems.append(
                _problem(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    ErrorAction.TREAT_AS_WITHDRAW,
                    f"{a_end - i} octet(s) left in the attributes, too few for a header",
                    "RFC 7606 §4 (second case)",
                )
            )
            break
        code = body[i + 1]
        length = _U16.unpack_from(body, i + 2)[0] if hdr == 4 else body[i + 2]
        v_start = i + hdr
        v_end = v_start + length
        if v_end > a_end:
            problems.append(
                _problem(
                    UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
                    ErrorAction.TREAT_AS_WITHDRAW,
                    f"attribute {_name(code)} length {length} overruns the attributes by "
                    f"{v_end - a_end} octets",
                    "RFC 7606 §4 (first case)",
                    body[i:a_end],
                    code,
                )
            )
            break
        value = body[v_start:v_end]
        i = v_end
        if code in seen:
            if code in _MP_CODES:
                raise _session_reset(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    f"{_name(code)} appears more than once",
                    "RFC 7606 §3 g",
                )
            problems.append(
                _problem(
                    UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                    ErrorAction.ATTRIBUTE_DISCARD,
                    f"attribute {_name(code)} repeated; later copies discarded",
                    "RFC 7606 §3 g",
                    code=code,
                )
            )
            continue
        seen.add(code)
        rule = ATTRIBUTE_RULES.get(code)
        if rule is not None:
            if (flags & _FLAG_BITS) != rule.flags or (
                flags & _PARTIAL and rule.flags != _FLAG_BITS
            ):
                problems.append(
                    _problem(
                        UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
                        rule.action,
                        f"{_name(code)} flags {flags:#04x}, expected {rule.flags:#04x}",
                        f"RFC 7606 §3 c with {rule.rule}",
                        body[v_start - hdr : v_end],
                        code,
                    )
                )
                continue
            try:
                memo_key = (code, ctx.four_octet_as, value)
                decoded = _DECODED.get(memo_key, _MISSING)
                if decoded is _MISSING:
                    decoded = rule.decode(value, ctx)
                    if len(_DECODED) >= DECODE_MEMO_SIZE:
                        _DECODED.clear()
                    _DECODED[memo_key] = decoded
                fields[rule.name] = decoded
            except Malformed as exc:
                problems.append(
                    _problem(
                        exc.subcode,
                        rule.action,
                        exc.reason,
                        rule.rule,
                        body[v_start - hdr : v_end],
                        code,
                    )
                )
            continue
        if code in _MP_CODES:
            if (flags & _FLAG_BITS) != _OPT_NON_TRANS or flags & _PARTIAL:
                family = struct.unpack_from(">HB", value) if len(value) >= 3 else None
                malformed = _MpMalformed(f"{_name(code)} flags {flags:#04x}, expected 0x80", family)
            else:
                try:
                    if code == AttrType.MP_REACH_NLRI:
                        mp_reach = _decode_mp_reach(value)
                    else:
                        mp_unreach = _decode_mp_unreach(value)
                    continue
                except _MpMalformed as caught:
                    malformed = caught
            # RFC 7606 §7.11, §7.12, §5.3 and RFC 4760 §7: AFI/SAFI disable where the family
            # is known, else session reset; the NOTIFICATION is Optional Attribute Error.
            afi_safi = afi_safi or malformed.afi_safi
            problems.append(
                _problem(
                    UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
                    ErrorAction.AFI_SAFI_DISABLE
                    if malformed.afi_safi
                    else ErrorAction.SESSION_RESET,
                    malformed.reason,
                    "RFC 7606 §5.3/§7.11 and RFC 4760 §7",
                    body[v_start - hdr : v_end],
                    code,
                )
            )
            continue
        if not flags & _OPTIONAL:
            # RFC 4271 §6.3, unchanged by RFC 7606: an unrecognized well-known attribute.
            raise _session_reset(
                UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                f"unrecognized well-known attribute type {code}",
                "RFC 4271 §6.3",
                body[v_start - hdr : v_end],
            )
        other.append(RawAttribute(flags & 0xE0, code, value))

    if not ctx.four_octet_as:
        merge_as4(fields, other)
    if other:
        # Canonical order (ascending type code), as the encoder writes them.
        fields["other"] = tuple(sorted(other, key=_type_code))
    attributes = PathAttributes(**fields) if fields else _EMPTY_ATTRS
    update = Update(tuple(withdrawn), attributes, tuple(nlri), mp_reach, mp_unreach)

    if nlri or (mp_reach is not None and mp_reach.nlri):
        # RFC 4271 §6.3 + RFC 7606 §3 d: ORIGIN and AS_PATH with any NLRI; NEXT_HOP with
        # body NLRI only (RFC 4760 §3). Missing -> treat-as-withdraw.
        for code in _mandatory(bool(nlri)):
            if code not in seen:
                problems.append(
                    _problem(
                        UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
                        ErrorAction.TREAT_AS_WITHDRAW,
                        f"missing well-known attribute {_name(code)}",
                        "RFC 7606 §3 d",
                        bytes((code,)),  # RFC 4271 §6.3: Data is the missing type code
                        code,
                    )
                )
    if not problems:
        return update
    if not nlri and AttrType.MP_REACH_NLRI not in seen and seen - {AttrType.MP_UNREACH_NLRI}:
        # RFC 7606 §5.2: path attributes but no reachable NLRI (a malformed MP_REACH_NLRI
        # still marks NLRI, handled by §7.11) -> any fault stronger than attribute discard
        # becomes a session reset, with the NOTIFICATION RFC 4271 gives that fault.
        problems = [
            replace(
                p, action=ErrorAction.SESSION_RESET, rule=f"{p.rule}, escalated by RFC 7606 §5.2"
            )
            if p.action > ErrorAction.ATTRIBUTE_DISCARD
            else p
            for p in problems
        ]
    raise UpdateMessageError(tuple(problems), update, afi_safi)


def _type_code(attr: RawAttribute) -> int:
    return attr.type_code


_MANDATORY_BODY = (AttrType.ORIGIN, AttrType.AS_PATH, AttrType.NEXT_HOP)
_MANDATORY_MP = (AttrType.ORIGIN, AttrType.AS_PATH)


def _mandatory(body_nlri: bool) -> tuple[int, ...]:
    return _MANDATORY_BODY if body_nlri else _MANDATORY_MP


def _name(code: int) -> str:
    try:
        return AttrType(code).name
    except ValueError:
        return f"type {code}"
