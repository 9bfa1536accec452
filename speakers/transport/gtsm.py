"""GTSM, the Generalized TTL Security Mechanism (RFC 5082), through Linux's socket options:
we send with TTL (hop limit) 255, and the kernel drops every segment of the connection that
arrives with less than 255 - (hops - 1), so a forged packet from further away than the
directly connected neighbor never reaches BGP (RFC 5082 §3, ``IP_MINTTL``)."""

from __future__ import annotations

import socket

IP_MINTTL = getattr(socket, "IP_MINTTL", 21)  # linux/in.h
IPV6_MINHOPCOUNT = getattr(socket, "IPV6_MINHOPCOUNT", 73)  # linux/in6.h
MAX_TTL = 255


def set_gtsm(sock: socket.socket, version: int, hops: int = 1) -> None:
    """Send at TTL 255 and accept only what arrives within ``hops`` hops (1: a directly
    connected neighbor, RFC 5082 §3)."""
    if not 1 <= hops <= MAX_TTL:
        raise ValueError(f"GTSM hops {hops}: must be 1..255")
    if version == 4:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, MAX_TTL)
        sock.setsockopt(socket.IPPROTO_IP, IP_MINTTL, MAX_TTL + 1 - hops)
    else:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, MAX_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MINHOPCOUNT, MAX_TTL + 1 - hops)
