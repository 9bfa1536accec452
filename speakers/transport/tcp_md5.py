"""TCP-MD5 (RFC 2385) through Linux's ``TCP_MD5SIG`` socket option: one key per peer
address, set on the dialing socket and on the listening one (which then answers only
that peer's SYNs with the key)."""

from __future__ import annotations

import socket
import struct

from ..wire.prefix import IPAddress

TCP_MD5SIG = getattr(socket, "TCP_MD5SIG", 14)  # linux/tcp.h
_TCP_MD5SIG_MAXKEYLEN = 80


def md5sig_option(peer: IPAddress, key: bytes) -> bytes:
    """``struct tcp_md5sig`` for ``setsockopt(IPPROTO_TCP, TCP_MD5SIG, ...)`` (RFC 2385)."""
    if len(key) > _TCP_MD5SIG_MAXKEYLEN:
        raise ValueError(f"TCP-MD5 key of {len(key)} octets exceeds {_TCP_MD5SIG_MAXKEYLEN}")
    if peer.version == 4:
        addr = struct.pack("=H", socket.AF_INET) + b"\0\0" + peer.packed
    else:
        addr = struct.pack("=H", socket.AF_INET6) + b"\0\0" + b"\0" * 4 + peer.packed + b"\0" * 4
    storage = addr + bytes(128 - len(addr))  # struct sockaddr_storage
    return (
        storage
        + struct.pack("=BBHI", 0, 0, len(key), 0)
        + key
        + bytes(_TCP_MD5SIG_MAXKEYLEN - len(key))
    )


def set_md5(sock: socket.socket, peer: IPAddress, password: str) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, md5sig_option(peer, password.encode()))
