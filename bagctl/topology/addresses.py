"""Session addresses, allocated automatically and deterministically.

- Each node gets a loopback (``addressing.loopback_v4``, 127.64.0.0/10 by default): its
  BGP Identifier, and the address the embedded runtime binds its speaker to (every session
  of that speaker runs between loopbacks). Node i of the file gets host i + 1.
- In a container runtime (docker compose) each node's speaker uses its container's
  address on the region's network instead (``container_addresses``): node i of the file
  gets host ``CONTAINER_FIRST_HOST + i`` of the network's subnet, below which the gateway
  (host 1) and the region's MQTT broker (host 2, ``broker_address``) live. Both maps rise
  with file order, so every comparison of addresses (BGP Identifier, peer address) comes
  out the same in every runtime, and so do the routes.
- Each bundle gets a point-to-point pair for runtimes with real links (namespaces,
  containers): an IPv4 /31 from ``addressing.link_v4`` and an IPv6 /127 from
  ``addressing.link_v6``; bundle i of the file gets the i-th block, its ``a`` end the
  lower address (RFC 3021 for /31, RFC 6164 for /127).

Only the order of nodes and bundles in the file matters, so the same file always gives
the same addresses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .model import Bundle, Topology


class AddressPoolExhausted(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LinkAddresses:
    bundle: Bundle
    a_v4: ipaddress.IPv4Address
    b_v4: ipaddress.IPv4Address
    a_v6: ipaddress.IPv6Address
    b_v6: ipaddress.IPv6Address


def loopbacks(topo: Topology) -> dict[str, ipaddress.IPv4Address]:
    pool = topo.addressing.loopback_v4
    if len(topo.nodes) + 2 > pool.num_addresses:
        raise AddressPoolExhausted(
            f"addressing.loopback_v4 {pool} has room for {pool.num_addresses - 2} nodes, "
            f"the topology has {len(topo.nodes)}"
        )
    base = int(pool.network_address)
    return {n.name: ipaddress.IPv4Address(base + i + 1) for i, n in enumerate(topo.nodes)}


CONTAINER_FIRST_HOST = 16  # hosts below: the gateway (1), the broker (2), room to spare


def container_addresses(
    topo: Topology, subnet: ipaddress.IPv4Network
) -> dict[str, ipaddress.IPv4Address]:
    """Each node's address on a container network with ``subnet`` (module docstring)."""
    room = max(0, subnet.num_addresses - CONTAINER_FIRST_HOST - 1)  # less the broadcast
    if len(topo.nodes) > room:
        raise AddressPoolExhausted(
            f"subnet {subnet} has room for {room} nodes, the topology {topo.name} has "
            f"{len(topo.nodes)}"
        )
    base = int(subnet.network_address) + CONTAINER_FIRST_HOST
    return {n.name: ipaddress.IPv4Address(base + i) for i, n in enumerate(topo.nodes)}


def broker_address(subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    """The region's MQTT broker on a container network with ``subnet``."""
    return subnet.network_address + 2


def link_addresses(topo: Topology) -> list[LinkAddresses]:
    v4, v6 = topo.addressing.link_v4, topo.addressing.link_v6
    if 2 * len(topo.bundles) > v4.num_addresses:
        raise AddressPoolExhausted(
            f"addressing.link_v4 {v4} has room for {v4.num_addresses // 2} bundles, "
            f"the topology has {len(topo.bundles)}"
        )
    b4, b6 = int(v4.network_address), int(v6.network_address)
    return [
        LinkAddresses(
            b,
            ipaddress.IPv4Address(b4 + 2 * i),
            ipaddress.IPv4Address(b4 + 2 * i + 1),
            ipaddress.IPv6Address(b6 + 2 * i),
            ipaddress.IPv6Address(b6 + 2 * i + 1),
        )
        for i, b in enumerate(topo.bundles)
    ]
