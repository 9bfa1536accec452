"""``Endpoint``: where a neighbor is and how a ``PeerTransport`` reaches it (addresses,
port, TCP-MD5 and GTSM), as the speaker's configuration gives it."""

from __future__ import annotations

from dataclasses import dataclass

from ..wire.prefix import IPAddress


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a neighbor is and how to reach it."""

    local_address: IPAddress
    remote_address: IPAddress
    port: int = 179
    md5_password: str | None = None
    connect_timeout_s: float = 3.0
    ttl_security: bool = False  # GTSM, RFC 5082 (gtsm.py): TCP only
