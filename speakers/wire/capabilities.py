"""OPEN capabilities (RFC 5492): the ones bagemu negotiates are typed, the rest kept raw.

Typed: multiprotocol (RFC 4760 §8), route refresh (RFC 2918 §2), extended message (RFC
8654 §3), 4-octet AS (RFC 6793 §3), enhanced route refresh (RFC 7313 §3.1) and graceful
restart (RFC 4724 §3). Anything else (add-path, ...) is an ``UnknownCapability`` that
round-trips byte for byte, so a peer offering it is neither rejected nor misread.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from .constants import MAX_ASN_4, CapabilityCode, OpenSubcode
from .encode_error import EncodeError
from .errors import OpenMessageError

_MP = struct.Struct(">HBB")
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
_GR_FAMILY = struct.Struct(">HBB")


@dataclass(frozen=True, slots=True)
class MultiprotocolCapability:
    """RFC 4760 §8: AFI (2), reserved (1), SAFI (1)."""

    afi: int
    safi: int
    code = CapabilityCode.MULTIPROTOCOL

    def encode_value(self) -> bytes:
        return _MP.pack(self.afi, 0, self.safi)


@dataclass(frozen=True, slots=True)
class RouteRefreshCapability:
    """RFC 2918 §2: no value."""

    code = CapabilityCode.ROUTE_REFRESH

    def encode_value(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class EnhancedRouteRefreshCapability:
    """RFC 7313 §3.1: no value."""

    code = CapabilityCode.ENHANCED_ROUTE_REFRESH

    def encode_value(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class ExtendedMessageCapability:
    """RFC 8654 §3: no value; both sides must send it before messages may exceed 4096."""

    code = CapabilityCode.EXTENDED_MESSAGE

    def encode_value(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class FourOctetAsCapability:
    """RFC 6793 §3: the speaker's real (possibly 4-octet) AS number."""

    asn: int
    code = CapabilityCode.FOUR_OCTET_AS

    def encode_value(self) -> bytes:
        if not 0 <= self.asn <= MAX_ASN_4:
            raise EncodeError(f"4-octet AS capability: ASN {self.asn} out of range")
        return _U32.pack(self.asn)


@dataclass(frozen=True, slots=True)
class GracefulRestartFamily:
    """One AFI/SAFI of a graceful restart capability; ``forwarding``: the F bit, the
    speaker kept its forwarding state for this family across its restart."""

    afi: int
    safi: int
    forwarding: bool = False


@dataclass(frozen=True, slots=True)
class GracefulRestartCapability:
    """RFC 4724 §3: Restart Flags (4 bits: R, restarting now; N, RFC 8538's notification
    bit, read and kept, never set by bagemu), Restart Time (12 bits, seconds: how long
    the peer may keep our routes while we come back), then (AFI, SAFI, flags) per family
    whose routes the peer may keep. No family: the speaker only helps, or only sends
    End-of-RIB markers (§4)."""

    restart_time_s: int
    families: tuple[GracefulRestartFamily, ...] = ()
    restarting: bool = False
    notification: bool = False
    code = CapabilityCode.GRACEFUL_RESTART

    def encode_value(self) -> bytes:
        if not 0 <= self.restart_time_s <= 0xFFF:
            raise EncodeError(f"graceful restart: restart time {self.restart_time_s}s > 4095")
        flags = (0x8 if self.restarting else 0) | (0x4 if self.notification else 0)
        out = _U16.pack(flags << 12 | self.restart_time_s)
        for f in self.families:
            out += _GR_FAMILY.pack(f.afi, f.safi, 0x80 if f.forwarding else 0)
        return out

    def family(self, afi: int, safi: int) -> GracefulRestartFamily | None:
        return next((f for f in self.families if (f.afi, f.safi) == (afi, safi)), None)


@dataclass(frozen=True, slots=True)
class UnknownCapability:
    """A capability this codec does not interpret, kept as received."""

    code: int
    value: bytes = b""

    def encode_value(self) -> bytes:
        return self.value


Capability = (
    MultiprotocolCapability
    | RouteRefreshCapability
    | EnhancedRouteRefreshCapability
    | ExtendedMessageCapability
    | FourOctetAsCapability
    | GracefulRestartCapability
    | UnknownCapability
)


def _malformed(code: int, value: bytes, expected: str) -> OpenMessageError:
    # RFC 4271 §6.2: a recognized optional parameter that is malformed -> subcode 0.
    return OpenMessageError(
        OpenSubcode.UNSPECIFIC,
        f"capability {CapabilityCode(code).name} has length {len(value)}, expected {expected}",
    )


def _decode_mp(value: bytes) -> Capability:
    if len(value) != 4:
        raise _malformed(CapabilityCode.MULTIPROTOCOL, value, "4")
    afi, _reserved, safi = _MP.unpack(value)  # RFC 4760 §8: reserved is ignored
    return MultiprotocolCapability(afi, safi)


_EmptyCapability = (
    RouteRefreshCapability | EnhancedRouteRefreshCapability | ExtendedMessageCapability
)


def _decode_empty(cls: type[_EmptyCapability]) -> Callable[[bytes], Capability]:
    def decode(value: bytes) -> Capability:
        if value:
            raise _malformed(cls.code, value, "0")
        return cls()

    return decode


def _decode_as4(value: bytes) -> Capability:
    if len(value) != 4:
        raise _malformed(CapabilityCode.FOUR_OCTET_AS, value, "4")
    asn = _U32.unpack(value)[0]
    if asn == 0:
        # RFC 7607 §2: AS 0 as the peer's AS -> OPEN Message Error / Bad Peer AS.
        raise OpenMessageError(OpenSubcode.BAD_PEER_AS, "4-octet AS capability carries AS 0")
    return FourOctetAsCapability(asn)


def _decode_graceful_restart(value: bytes) -> Capability:
    if len(value) < 2 or (len(value) - 2) % 4:
        raise _malformed(CapabilityCode.GRACEFUL_RESTART, value, "2 + 4 per family")
    head = _U16.unpack_from(value)[0]
    families = tuple(
        GracefulRestartFamily(afi, safi, bool(flags & 0x80))
        for afi, safi, flags in _GR_FAMILY.iter_unpack(value[2:])
    )
    return GracefulRestartCapability(
        restart_time_s=head & 0xFFF,
        families=families,
        restarting=bool(head & 0x8000),
        notification=bool(head & 0x4000),
    )


_DECODERS: dict[int, Callable[[bytes], Capability]] = {
    CapabilityCode.MULTIPROTOCOL: _decode_mp,
    CapabilityCode.ROUTE_REFRESH: _decode_empty(RouteRefreshCapability),
    CapabilityCode.ENHANCED_ROUTE_REFRESH: _decode_empty(EnhancedRouteRefreshCapability),
    CapabilityCode.EXTENDED_MESSAGE: _decode_empty(ExtendedMessageCapability),
    CapabilityCode.FOUR_OCTET_AS: _decode_as4,
    CapabilityCode.GRACEFUL_RESTART: _decode_graceful_restart,
}


def decode_capabilities(value: bytes) -> tuple[Capability, ...]:
    """The capabilities in one Capabilities optional parameter (RFC 5492 §4)."""
    out: list[Capability] = []
    i, end = 0, len(value)
    while i < end:
        if i + 2 > end:
            raise OpenMessageError(
                OpenSubcode.UNSPECIFIC, f"capability header truncated at offset {i}"
            )
        code, length = value[i], value[i + 1]
        body = value[i + 2 : i + 2 + length]
        if len(body) != length:
            raise OpenMessageError(
                OpenSubcode.UNSPECIFIC,
                f"capability {code} declares length {length}, only {len(body)} octets left",
            )
        decoder = _DECODERS.get(code)
        out.append(decoder(body) if decoder else UnknownCapability(code, body))
        i += 2 + length
    return tuple(out)


def encode_capability(cap: Capability) -> bytes:
    value = cap.encode_value()
    if len(value) > 255:
        raise EncodeError(f"capability {cap.code} value is {len(value)} octets (max 255)")
    return bytes((cap.code, len(value))) + value
