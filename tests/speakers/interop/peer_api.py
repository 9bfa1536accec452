"""What the tests ask of every peer daemon (``Peer``), and what they get back.

A peer class (frr_peer.py, gobgp_peer.py, bird_peer.py) writes its daemon's configuration
from the lab's ``Plan``, starts it in the peer's namespace with every runtime file in
the lab's work directory, and answers in these terms from the daemon's own view (its
JSON where it has one, else its CLI text): which sessions are established, what paths
it holds for a prefix from bagemu and with what link bandwidth, and, for a daemon that
installs routes, the kernel's next hops and weights in its namespace.

New legs are tests over the same methods: ``kill`` and ``start`` give a peer that dies
without a NOTIFICATION and comes back (the graceful restart legs restart FRR so; what
they ask of FRR alone, stale paths and its graceful restart view, is ``FrrPeer``'s).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Protocol

from netlab import Netns, run


@dataclass(frozen=True, slots=True)
class LinkBandwidth:
    """A link-bandwidth community as a peer shows it. ``transitive`` is None where the
    peer's view does not tell 0x00 from 0x40."""

    asn: int
    bytes_per_s: float
    transitive: bool | None


@dataclass(frozen=True, slots=True)
class PeerPath:
    """One path a peer holds for a prefix: where from, and what it carries."""

    prefix: str
    neighbor: str  # the address of the session it came over
    next_hop: str
    as_path: tuple[int, ...]
    link_bandwidth: LinkBandwidth | None


class Peer(Protocol):
    name: str
    # The peer keeps link bandwidth as a uint32 count of bytes/s (FRR 8.4): larger values
    # arrive wrapped modulo 2^32.
    lb_wraps_at_32_bits: bool
    # The peer installs a prefix's multipaths with weights from their link bandwidth.
    weighted_ecmp: bool

    def version(self) -> str: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def kill(self) -> None:
        """Kill the BGP daemon (SIGKILL): sessions drop with no NOTIFICATION."""

    def established(self) -> set[str]:
        """Addresses of the sessions the peer sees Established."""

    def paths(self, prefix: str) -> list[PeerPath]:
        """The paths to ``prefix`` the peer received (none of its own)."""

    def forwarding_weights(self, prefix: str) -> dict[str, int]:
        """Next hop -> weight of ``prefix`` in the kernel of the peer's namespace."""

    def announce(self, prefix: str) -> None: ...
    def withdraw(self, prefix: str) -> None: ...
    def reset(self) -> None:
        """Reset every session from the peer's side (each sends a Cease), as an operator's
        ``clear``/``reset``/``restart`` does."""

    def route_refresh(self) -> None:
        """Ask bagemu for its routes again over every session (a ROUTE-REFRESH, RFC 2918),
        as an operator's soft reset inbound does; RuntimeError where the peer cannot."""

    def logs(self) -> str: ...


def uninstalled(commands: tuple[str, ...], package: str) -> str | None:
    """Which of ``commands`` is not on the PATH, said with the Debian ``package`` that
    brings it (what a peer's ``missing`` reports), or None."""
    for command in commands:
        if shutil.which(command) is None:
            return f"{command} not installed (Debian package {package}; scripts/setup.sh)"
    return None


def kernel_next_hops(ns: Netns, prefix: str) -> dict[str, int]:
    """Next hop -> weight of ``prefix`` in the kernel's main table in ``ns`` (what
    forwarding uses); empty if there is no such route. One next hop has weight 1."""
    version = "-6" if ":" in prefix else "-4"
    out = run(["ip", "-j", version, "-n", ns.name, "route", "show", "exact", prefix])
    routes = json.loads(out or "[]")
    hops: dict[str, int] = {}
    for route in routes:
        if "gateway" in route:
            hops[route["gateway"]] = 1
        for hop in route.get("nexthops", []):
            hops[hop["gateway"]] = hop.get("weight", 1)
    return hops
