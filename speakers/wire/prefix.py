"""IP prefixes and the NLRI encoding shared by the UPDATE body and MP_(UN)REACH_NLRI.

A ``Prefix`` is a ``NamedTuple`` of the full-width packed network address and the prefix
length, rather than a frozen dataclass or an ``ipaddress`` network: an UPDATE carries up
to ~800 of them, and building a tuple costs a fraction of either (measured by
``bench/codec.py``). It is still immutable, hashable and ordered, and converts to
``ipaddress`` on demand.

RFC 4271 §4.3: each NLRI is a length octet followed by the fewest octets that hold that
many bits; trailing bits are irrelevant. We zero them on decode, so a decoded prefix is
canonical and encodes back to the same bytes when the sender zeroed them too.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from .constants import Afi, UpdateSubcode
from .errors import AttributeProblem, ErrorAction

IPv4Address = ipaddress.IPv4Address
IPv6Address = ipaddress.IPv6Address
IPAddress = IPv4Address | IPv6Address

# Mask for the last octet of a prefix of length n: _LAST_MASK[n % 8].
_LAST_MASK = (0xFF, 0x80, 0xC0, 0xE0, 0xF0, 0xF8, 0xFC, 0xFE)
# Zero octets to append to an n-octet prefix body: _PADS_V4[n] == bytes(4 - n).
_PADS_V4 = tuple(bytes(4 - n) for n in range(5))
_PADS_V6 = tuple(bytes(16 - n) for n in range(17))


class Prefix(NamedTuple):
    """An IPv4 (4-octet ``packed``) or IPv6 (16-octet ``packed``) prefix with host bits zero."""

    packed: bytes
    length: int

    @classmethod
    def parse(cls, text: str) -> Prefix:
        """``"10.1.0.0/16"`` or ``"2001:db8::/32"``; host bits must be zero."""
        net = ipaddress.ip_network(text, strict=True)
        return cls(net.network_address.packed, net.prefixlen)

    @classmethod
    def from_network(cls, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Prefix:
        return cls(net.network_address.packed, net.prefixlen)

    @property
    def afi(self) -> Afi:
        return Afi.IPV4 if len(self.packed) == 4 else Afi.IPV6

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network((self.packed, self.length))

    def __str__(self) -> str:
        return f"{ipaddress.ip_address(self.packed)}/{self.length}"

    def __repr__(self) -> str:
        return f"Prefix({str(self)!r})"


IPV4_UNICAST = (1, 1)  # (AFI, SAFI) pairs as capabilities negotiate them (RFC 4760 §8)
IPV6_UNICAST = (2, 1)


def unicast_family(prefix: Prefix) -> tuple[int, int]:
    """The (AFI, SAFI) a unicast route to ``prefix`` is carried in."""
    return IPV4_UNICAST if len(prefix.packed) == 4 else IPV6_UNICAST


def ipv4_mapped(address: IPv4Address) -> IPv6Address:
    """``::ffff:a.b.c.d`` (RFC 4291 §2.5.5.2): an IPv4 speaker's next hop for IPv6 routes."""
    return IPv6Address(0xFFFF_0000_0000 | int(address))


# A prefix's fields as C-level getters (``map`` over an UPDATE's prefixes without a
# Python-level call each).
packed_of = itemgetter(0)
length_of = itemgetter(1)


def encode_nlri(prefixes: Iterable[Prefix]) -> bytes:
    """RFC 4271 §4.3 NLRI encoding of ``prefixes``, in order."""
    if isinstance(prefixes, (list, tuple)) and len(prefixes) >= _UNIFORM_ENCODE_MIN:
        uniform = _encode_uniform(prefixes)
        if uniform is not None:
            return uniform
    out = bytearray()
    for packed, length in prefixes:
        out.append(length)
        out += packed[: (length + 7) >> 3]
    return bytes(out)


_UNIFORM_ENCODE_MIN = 8  # prefixes: fewer are quicker through ``encode_nlri``'s loop


def _encode_uniform(prefixes: list[Prefix] | tuple[Prefix, ...]) -> bytes | None:
    """The NLRI of ``prefixes`` in C-level loops when all have one width and length (a
    table's usually do: ``_decode_uniform``), else None. Each NLRI is then the length
    octet and the address's first octets, at one stride: octet k of every NLRI is one
    strided slice of the addresses side by side."""
    lengths = set(map(length_of, prefixes))
    widths = set(map(len, map(packed_of, prefixes)))
    if len(lengths) != 1 or len(widths) != 1:
        return None
    length, width, count = lengths.pop(), widths.pop(), len(prefixes)
    size = (length + 7) >> 3
    if size > width:
        return None  # (not a prefix of its address: the loop says what it does with it)
    addresses = b"".join(map(packed_of, prefixes))
    stride = 1 + size
    out = bytearray(count * stride)
    out[0::stride] = bytes((length,)) * count
    for k in range(size):
        out[1 + k :: stride] = addresses[k::width]
    return bytes(out)


def nlri_size(prefix: Prefix) -> int:
    """Octets ``prefix`` takes in an NLRI field."""
    return 1 + ((prefix.length + 7) >> 3)


class NlriError(Exception):
    """Internal: raised by ``decode_nlri``; callers turn it into their own error type."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def decode_nlri(data: bytes, start: int, end: int, afi: int) -> list[Prefix]:
    """Prefixes in ``data[start:end]``.

    Raises ``NlriError`` when the field is syntactically incorrect (RFC 7606 §5.3: a
    length above the family's width, or a prefix running past the field's end).
    """
    # The hot loop of UPDATE decoding: plain ints, a precomputed pad per octet count, and
    # tuple.__new__ instead of the NamedTuple's Python-level __new__.
    max_bits, pads = (32, _PADS_V4) if afi == Afi.IPV4 else (128, _PADS_V6)
    if end - start >= _UNIFORM_MIN:
        uniform = _decode_uniform(data, start, end, max_bits)
        if uniform is not None:
            return uniform
    out: list[Prefix] = []
    append = out.append
    new = tuple.__new__
    i = start
    while i < end:
        length = data[i]
        if length > max_bits:
            raise NlriError(f"prefix length {length} exceeds {max_bits} at offset {i - start}")
        j = i + 1 + ((length + 7) >> 3)
        if j > end:
            raise NlriError(
                f"prefix /{length} needs {j - i - 1} octets, only {end - i - 1} left "
                f"at offset {i - start}"
            )
        body = data[i + 1 : j]
        if length & 7 and body[-1] & ~_LAST_MASK[length & 7] & 0xFF:
            # RFC 4271 §4.3: trailing bits are irrelevant; keep the prefix canonical.
            body = body[:-1] + bytes((body[-1] & _LAST_MASK[length & 7],))
        append(new(Prefix, (body + pads[j - i - 1], length)))
        i = j
    return out


# A field this long (in octets) is first tried as prefixes of one length (``_decode_uniform``).
_UNIFORM_MIN = 64
_WHOLE = {4: "4s", 16: "16s"}  # struct formats: one full-width address


def _decode_uniform(data: bytes, start: int, end: int, max_bits: int) -> list[Prefix] | None:
    """``data[start:end]`` decoded in C-level loops when every prefix in it has the first
    one's length and that length is a whole number of octets (a table's prefixes usually
    are: a fabric's racks are all /24 or all /64), so no trailing bits need zeroing and
    every NLRI has one stride; None when not (``decode_nlri``'s loop then decodes it)."""
    length = data[start]
    if length & 7 or length > max_bits or not length:
        return None
    size, width = length >> 3, max_bits >> 3
    stride = 1 + size
    count, rest = divmod(end - start, stride)
    if rest or data[start:end:stride] != bytes((length,)) * count:
        return None
    # Every address, zero-padded to full width, side by side: octet k of each is one
    # strided slice of the field.
    packed = bytearray(count * width)
    for k in range(size):
        packed[k::width] = data[start + 1 + k : end : stride]
    addresses = map(itemgetter(0), struct.iter_unpack(_WHOLE[width], packed))
    return list(map(tuple.__new__, repeat(Prefix), zip(addresses, repeat(length))))


def nlri_problem(reason: str, field: str) -> AttributeProblem:
    """The RFC 7606 §5.3 verdict on an unparseable NLRI or Withdrawn Routes field."""
    return AttributeProblem(
        subcode=UpdateSubcode.INVALID_NETWORK_FIELD,
        action=ErrorAction.SESSION_RESET,
        reason=f"{field}: {reason}",
        rule="RFC 7606 §5.3 (NLRI syntactically incorrect) and §3 j: session reset",
    )
