"""How a switch picks a WCMP member for a flow: the 5-tuple, the hash, the member table.

A switch does not split bytes by weight: it hashes each packet's 5-tuple and picks one
member of the group's member table, so a flow sticks to one path and the split is only
statistically the weighted one (``chisquare.py`` tests how close it comes).

The hash (a user must be able to reproduce a member choice by hand)::

    key    = src_addr || dst_addr || proto || src_port || dst_port
             addresses in network order (4 + 4 octets for IPv4, 16 + 16 for IPv6), the IP
             protocol in 1 octet (6 TCP, 17 UDP), ports as 2 network-order octets each:
             13 octets for IPv4, 37 for IPv6
    seed   = zlib.crc32(switch_name.encode("utf-8"))              # per switch
    h      = fmix32(zlib.crc32(key, seed))                         # seed = CRC starting value
    fmix32(x): x ^= x >> 16; x = x * 0x85EBCA6B mod 2**32; x ^= x >> 13;
               x = x * 0xC2B2AE35 mod 2**32; x ^= x >> 16       # MurmurHash3's finalizer
    table  = next hops sorted by name, each repeated weight times (weight <= 0: absent)
    member = table[h % len(table)]

Why the finalizer: CRC-32 is affine over GF(2), so ``crc32(key, s1) ^ crc32(key, s2)``
depends only on ``len(key)``: for every flow of one family, two switches' CRCs differ by one
constant XOR whatever their seeds (a starting value and prefixed seed bytes are the same
thing for a CRC). With a power-of-two member table (weights 3:1 make a 4-entry table) the
low bits pick the member, so the second switch's choice is a fixed function of the first's:
the flows a switch sent to one member all take the same few members at the next hop
(polarization). A seed alone cannot decorrelate a linear hash; ``fmix32``'s multiplications
are not GF(2)-linear and make the two switches' choices independent. Hardware does the same
with per-switch hash offsets, polynomials or non-linear mixing. The tests show all three
cases (equal seeds, CRC seeds alone, seeds with the finalizer).
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Packet

from .fibview import Weights

TCP_PROTO = 6
UDP_PROTO = 17

_MASK32 = 0xFFFF_FFFF

HashFn = Callable[[bytes, int], int]  # (5-tuple key, switch seed) -> hash
SeedFn = Callable[[str], int]  # switch name -> seed


class FiveTuple(NamedTuple):
    src: str
    dst: str
    proto: int
    sport: int
    dport: int

    def key(self) -> bytes:
        """The hash input: ``src || dst || proto || sport || dport`` (see the module doc)."""
        return (
            ipaddress.ip_address(self.src).packed
            + ipaddress.ip_address(self.dst).packed
            + bytes([self.proto])
            + self.sport.to_bytes(2, "big")
            + self.dport.to_bytes(2, "big")
        )


def five_tuple(packet: Packet) -> FiveTuple:
    """The 5-tuple of an IPv4 or IPv6 TCP/UDP scapy packet (the protocol from the L4
    layer's class, so IPv6 extension headers do not change it)."""
    l3 = packet.getlayer(IP) or packet.getlayer(IPv6)
    if l3 is None:
        raise ValueError(f"not an IP packet: {packet.summary()}")
    tcp = packet.getlayer(TCP)
    l4 = tcp if tcp is not None else packet.getlayer(UDP)
    if l4 is None:
        raise ValueError(f"not a TCP or UDP packet: {packet.summary()}")
    proto = TCP_PROTO if tcp is not None else UDP_PROTO
    return FiveTuple(str(l3.src), str(l3.dst), proto, int(l4.sport), int(l4.dport))


def switch_seed(name: str) -> int:
    """A switch's hash seed: CRC-32 of its name, so every switch differs and a rerun agrees."""
    return zlib.crc32(name.encode("utf-8"))


def fmix32(x: int) -> int:
    """MurmurHash3's 32-bit finalizer: a non-linear bijection on 32-bit integers."""
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & _MASK32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & _MASK32
    return x ^ (x >> 16)


def flow_hash(key: bytes | Packet, seed: int) -> int:
    """``fmix32(zlib.crc32(key, seed))``: the 32-bit hash a switch seeded ``seed`` gives the
    flow whose 5-tuple key is ``key`` (or a packet's, extracted; slow, for one-offs)."""
    if isinstance(key, Packet):
        key = five_tuple(key).key()
    return fmix32(zlib.crc32(key, seed & _MASK32))


def member_table(weights: Weights) -> tuple[str, ...]:
    """The WCMP member table: next hops sorted by name, each ``weight`` times; members
    of weight <= 0 take no entry (they carry no traffic)."""
    return tuple(m for m in sorted(weights) for _ in range(max(int(weights[m]), 0)))


def select_member(table: Sequence[str], h: int) -> str:
    """``table[h % len(table)]``; an empty table is a black hole, not a choice."""
    if not table:
        raise ValueError("empty member table")
    return table[h % len(table)]
