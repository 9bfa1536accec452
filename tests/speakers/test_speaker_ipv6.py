"""Two speakers over an IPv6 session, each on its own IPv6 address.

Loopback has only ::1, so the test adds two unique-local addresses to ``lo`` for its run
(root and iproute2 needed; .ci/run installs iproute2) and removes them afterwards.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from speakers.config import NeighborConfig, Originate, SpeakerConfig
from speakers.speaker import Speaker
from speakers.wire import Prefix

A6 = ipaddress.IPv6Address("fd00:ba9::61")
B6 = ipaddress.IPv6Address("fd00:ba9::62")
P6 = Prefix.parse("2001:db8:66::/48")
PORT = 1179


@pytest.fixture(scope="module")
def ipv6_addresses() -> Iterator[None]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to add IPv6 addresses to lo")
    for addr in (A6, B6):
        subprocess.run(["ip", "-6", "addr", "add", f"{addr}/128", "dev", "lo", "nodad"], check=True)
    try:
        yield
    finally:
        for addr in (A6, B6):
            subprocess.run(["ip", "-6", "addr", "del", f"{addr}/128", "dev", "lo"], check=False)


def speaker(
    name: str, asn: int, me: ipaddress.IPv6Address, peer: ipaddress.IPv6Address, peer_as: int
) -> Speaker:
    return Speaker(
        SpeakerConfig(
            name=name,
            asn=asn,
            router_id=ipaddress.IPv4Address(f"10.6.0.{asn % 100}"),
            listen_address=me,
            listen_port=PORT,
            connect_retry_s=0.5,
            neighbors=(
                NeighborConfig(
                    name="peer",
                    address=peer,
                    remote_as=peer_as,
                    local_address=me,
                    port=PORT,
                    link_capacity_bps=400e9,
                ),
            ),
            originate=(Originate(P6, 800e9),) if name == "a" else (),
        )
    )


async def test_ipv6_session_carries_an_ipv6_route_with_an_ipv6_next_hop(
    ipv6_addresses: None,
) -> None:
    a = speaker("a", 65061, A6, B6, 65062)
    b = speaker("b", 65062, B6, A6, 65061)
    changed = asyncio.Event()
    b.fib_table.subscribe(lambda change: changed.set())
    await a.start()
    await b.start()
    try:
        async with asyncio.timeout(15):
            while b.fib_table.lookup(P6) is None:
                changed.clear()
                await changed.wait()
        group = b.fib_table.lookup(P6)
        assert group is not None and group.next_hops == (A6,)
        (dest,) = b.rib(P6)
        assert dest["paths"][0]["link_bandwidth_bps"] == pytest.approx(400e9, rel=2**-24)
    finally:
        a.close()
        b.close()
