"""One frozen dataclass per message type, and ``encode_message`` / ``decode_message``.

``decode_message`` takes exactly one whole message (header included; ``header.py`` cuts a
stream into messages) and returns an ``Open``, ``Update``, ``Notification``,
``Keepalive`` or ``RouteRefresh``, or raises a ``BgpError``. ``encode_message`` is its
inverse. Both take the session's ``CodecContext``.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass

from .capabilities import (
    Capability,
    FourOctetAsCapability,
    MultiprotocolCapability,
    decode_capabilities,
    encode_capability,
)
from .constants import (
    AS_TRANS,
    BGP_VERSION,
    HEADER_LEN,
    MAX_ASN_2,
    MAX_MESSAGE_LEN,
    HeaderSubcode,
    MessageType,
    OpenSubcode,
    OptionalParameterType,
    RouteRefreshSubcode,
)
from .context import DEFAULT_CONTEXT, CodecContext
from .encode_error import EncodeError
from .errors import (
    BgpError,
    MessageHeaderError,
    OpenMessageError,
    RouteRefreshMessageError,
)
from .header import check_header
from .notification import Notification
from .update import Update, encode_update_body, frame
from .update_decoder import decode_update_body
from .update_memo import decode_update_message

IPv4Address = ipaddress.IPv4Address
_OPEN_FIXED = struct.Struct(">BHHIB")  # version, my AS, hold time, BGP identifier, opt len
_U16 = struct.Struct(">H")


# --- OPEN ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapabilitiesParameter:
    """RFC 5492 §4: one optional parameter of type 2 holding one or more capabilities.

    Speakers differ in grouping (one capability per parameter, or all in one); the OPEN
    keeps the grouping it was given so it re-encodes byte for byte."""

    capabilities: tuple[Capability, ...]


@dataclass(frozen=True, slots=True)
class Open:
    """RFC 4271 §4.2. ``my_as`` is the 2-octet field (AS_TRANS for a 4-octet AS, RFC 6793
    §3); ``asn`` is the speaker's real AS."""

    my_as: int
    hold_time_s: int
    bgp_identifier: IPv4Address
    parameters: tuple[CapabilitiesParameter, ...] = ()
    version: int = BGP_VERSION

    type = MessageType.OPEN

    @classmethod
    def build(
        cls,
        asn: int,
        hold_time_s: int,
        bgp_identifier: IPv4Address | str,
        capabilities: tuple[Capability, ...] = (),
        *,
        one_per_parameter: bool = True,
    ) -> Open:
        """An OPEN for ``asn``: AS_TRANS in My AS when it needs 4 octets, and the RFC 6793
        capability added if missing."""
        if not any(isinstance(c, FourOctetAsCapability) for c in capabilities):
            capabilities = (*capabilities, FourOctetAsCapability(asn))
        if one_per_parameter:
            params = tuple(CapabilitiesParameter((c,)) for c in capabilities)
        else:
            params = (CapabilitiesParameter(capabilities),) if capabilities else ()
        return cls(
            my_as=asn if asn <= MAX_ASN_2 else AS_TRANS,
            hold_time_s=hold_time_s,
            bgp_identifier=IPv4Address(bgp_identifier),
            parameters=params,
        )

    @property
    def capabilities(self) -> tuple[Capability, ...]:
        return tuple(c for p in self.parameters for c in p.capabilities)

    @property
    def asn(self) -> int:
        """RFC 6793 §4.1: the 4-octet AS capability, when present, is the real AS."""
        for cap in self.capabilities:
            if isinstance(cap, FourOctetAsCapability):
                return cap.asn
        return self.my_as

    @property
    def families(self) -> frozenset[tuple[int, int]]:
        """(AFI, SAFI) pairs offered; RFC 4760 §8: none offered means IPv4 unicast only."""
        mp = frozenset(
            (c.afi, c.safi) for c in self.capabilities if isinstance(c, MultiprotocolCapability)
        )
        return mp or frozenset({(1, 1)})


def _encode_open(msg: Open, ctx: CodecContext) -> bytes:
    cap_type = bytes((OptionalParameterType.CAPABILITIES,))
    values = [b"".join(encode_capability(c) for c in p.capabilities) for p in msg.parameters]
    short_len = sum(2 + len(v) for v in values)
    if short_len <= 255:
        opt_len = short_len
        opt = b"".join(cap_type + bytes((len(v),)) + v for v in values)
    else:
        # RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, a 2-octet Extended Opt.
        # Parm. Length, and 2-octet parameter lengths.
        params = b"".join(cap_type + _U16.pack(len(v)) + v for v in values)
        opt_len = 255
        opt = b"\xff" + _U16.pack(len(params)) + params
    for name, value, top in (("My AS", msg.my_as, 0xFFFF), ("hold time", msg.hold_time_s, 0xFFFF)):
        if not 0 <= value <= top:
            raise EncodeError(f"OPEN {name} {value} out of range")
    body = _OPEN_FIXED.pack(
        msg.version, msg.my_as, msg.hold_time_s, int(msg.bgp_identifier), opt_len
    )
    return frame(MessageType.OPEN, body + opt, MAX_MESSAGE_LEN)


def _decode_open(body: bytes, ctx: CodecContext) -> Open:
    if len(body) < 10:
        raise MessageHeaderError(
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            f"OPEN body of {len(body)} octets",
            _U16.pack(len(body) + HEADER_LEN),
        )
    version, my_as, hold_time, identifier, opt_len = _OPEN_FIXED.unpack_from(body)
    if version != BGP_VERSION:
        # RFC 4271 §6.2: Data is the largest locally supported version, 2 octets.
        raise OpenMessageError(
            OpenSubcode.UNSUPPORTED_VERSION_NUMBER,
            f"version {version}, only 4 is supported",
            _U16.pack(BGP_VERSION),
        )
    if my_as == 0:
        raise OpenMessageError(OpenSubcode.BAD_PEER_AS, "My AS is 0 (RFC 7607 §2)")
    if hold_time in (1, 2):
        raise OpenMessageError(
            OpenSubcode.UNACCEPTABLE_HOLD_TIME,
            f"hold time {hold_time}s: must be 0 or at least 3 (RFC 4271 §4.2)",
        )
    if identifier == 0:
        raise OpenMessageError(
            OpenSubcode.BAD_BGP_IDENTIFIER, "BGP Identifier 0.0.0.0 (RFC 6286 §2.1: non-zero)"
        )
    params = _decode_parameters(body, opt_len)
    return Open(my_as, hold_time, IPv4Address(identifier), params, version)


def _decode_parameters(body: bytes, opt_len: int) -> tuple[CapabilitiesParameter, ...]:
    i, wide = 10, False
    end = 10 + opt_len
    if opt_len == 255 and len(body) > 10 and body[10] == OptionalParameterType.EXTENDED_LENGTH:
        # RFC 9072 §2: extended optional parameters length.
        if len(body) < 13:
            raise OpenMessageError(OpenSubcode.UNSPECIFIC, "RFC 9072 header truncated")
        i, wide = 13, True
        end = 13 + _U16.unpack_from(body, 11)[0]
    if end != len(body):
        raise OpenMessageError(
            OpenSubcode.UNSPECIFIC,
            f"optional parameters length {end - i} disagrees with the {len(body) - i} octets left",
        )
    params: list[CapabilitiesParameter] = []
    head = 3 if wide else 2
    while i < end:
        if i + head > end:
            raise OpenMessageError(OpenSubcode.UNSPECIFIC, "optional parameter header truncated")
        ptype = body[i]
        plen = _U16.unpack_from(body, i + 1)[0] if wide else body[i + 1]
        value = body[i + head : i + head + plen]
        if len(value) != plen:
            raise OpenMessageError(
                OpenSubcode.UNSPECIFIC,
                f"optional parameter {ptype} length {plen} overruns the OPEN",
            )
        if ptype != OptionalParameterType.CAPABILITIES:
            # RFC 4271 §6.2 (RFC 5492 deprecates type 1, Authentication).
            raise OpenMessageError(
                OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, f"optional parameter type {ptype}"
            )
        params.append(CapabilitiesParameter(decode_capabilities(value)))
        i += head + plen
    return tuple(params)


# --- KEEPALIVE and ROUTE-REFRESH ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Keepalive:
    """RFC 4271 §4.4: a header and nothing else."""

    type = MessageType.KEEPALIVE


@dataclass(frozen=True, slots=True)
class RouteRefresh:
    """RFC 2918 §3, with RFC 7313 §3.2's subtype in the former Reserved octet."""

    afi: int
    safi: int
    subtype: int = 0

    type = MessageType.ROUTE_REFRESH


def _decode_route_refresh(body: bytes, ctx: CodecContext, message: bytes) -> RouteRefresh:
    if len(body) != 4:
        # RFC 7313 §5: Data is the complete ROUTE-REFRESH message. (ORF entries, RFC 5291,
        # would make subtype 0 longer; bagemu does not negotiate ORF.)
        raise RouteRefreshMessageError(
            RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
            f"ROUTE-REFRESH body of {len(body)} octets, expected 4",
            message,
        )
    afi, subtype, safi = struct.unpack(">HBB", body)
    return RouteRefresh(afi, safi, subtype)


# --- dispatch -----------------------------------------------------------------------------

Message = Open | Update | Notification | Keepalive | RouteRefresh


def encode_message(msg: Message, ctx: CodecContext = DEFAULT_CONTEXT) -> bytes:
    """Whole message bytes, header included."""
    if type(msg) is Update:
        return frame(MessageType.UPDATE, encode_update_body(msg, ctx), ctx.max_message_len)
    if type(msg) is Keepalive:
        return frame(MessageType.KEEPALIVE, b"", MAX_MESSAGE_LEN)
    if type(msg) is Open:
        return _encode_open(msg, ctx)
    if type(msg) is Notification:
        if not (0 <= msg.code <= 255 and 0 <= msg.subcode <= 255):
            raise EncodeError(f"NOTIFICATION code/subcode {msg.code}/{msg.subcode} out of range")
        return frame(
            MessageType.NOTIFICATION, bytes((msg.code, msg.subcode)) + msg.data, ctx.max_message_len
        )
    if type(msg) is RouteRefresh:
        try:
            body = struct.pack(">HBB", msg.afi, msg.subtype, msg.safi)
        except struct.error as exc:
            raise EncodeError(f"ROUTE-REFRESH: {exc}") from exc
        return frame(MessageType.ROUTE_REFRESH, body, ctx.max_message_len)
    raise EncodeError(f"not a BGP message: {msg!r}")


_KEEPALIVE = Keepalive()


def _decode_keepalive(body: bytes, ctx: CodecContext) -> Keepalive:
    return _KEEPALIVE  # check_header already enforced length 19


def _decode_notification(body: bytes, ctx: CodecContext) -> Notification:
    return Notification(body[0], body[1], body[2:])


_BODY_DECODERS: dict[int, Callable[[bytes, CodecContext], Message]] = {
    MessageType.OPEN: _decode_open,
    MessageType.UPDATE: decode_update_body,
    MessageType.NOTIFICATION: _decode_notification,
    MessageType.KEEPALIVE: _decode_keepalive,
}


def decode_message(data: bytes, ctx: CodecContext = DEFAULT_CONTEXT) -> Message:
    """Decode one whole message; raises only ``BgpError`` subclasses."""
    if len(data) < HEADER_LEN:
        raise MessageHeaderError(
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            f"{len(data)} octets, fewer than a header",
            _U16.pack(len(data)),
        )
    length, msg_type = check_header(data, ctx)
    if length != len(data):
        raise MessageHeaderError(
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            f"Length field says {length}, the message has {len(data)} octets",
            data[16:18],
        )
    return decode_framed(msg_type, data, ctx)


def decode_framed(msg_type: int, data: bytes, ctx: CodecContext = DEFAULT_CONTEXT) -> Message:
    """Decode one whole message whose header is already checked against ``ctx``: what
    ``MessageReader.next_message`` returns (a session reads thousands a second, so its
    header is not checked twice). Raises only ``BgpError`` subclasses; an UPDATE is
    shared with every receiver of the same bytes (``decode_update_message``)."""
    if msg_type == MessageType.UPDATE and type(data) is bytes:
        return decode_update_message(data, ctx)
    body = data[HEADER_LEN:]
    if msg_type == MessageType.ROUTE_REFRESH:
        return _decode_route_refresh(body, ctx, data)
    return _BODY_DECODERS[msg_type](body, ctx)


__all__ = [
    "BgpError",
    "CapabilitiesParameter",
    "Keepalive",
    "Message",
    "Notification",
    "Open",
    "RouteRefresh",
    "decode_framed",
    "decode_message",
    "encode_message",
]
