"""Two regions on one host: the second takes the next BGP port free on every address it
listens on (runtimes/ports.py), so both run, and closing one leaves the other running."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from bagctl.runtimes import Region
from bagctl.runtimes.ports import free_on_all
from bagctl.topology import load_topology
from bagctl.topology.configs import DEFAULT_PORT

MINI = Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml"


def test_a_port_taken_on_one_address_is_skipped() -> None:
    a, b = ipaddress.ip_address("127.64.250.1"), ipaddress.ip_address("127.64.250.2")
    with socket.socket() as taken:
        taken.bind((str(b), 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert free_on_all([a, b], first=port) > port
        assert free_on_all([a], first=port) == port
    assert free_on_all([]) == DEFAULT_PORT


async def test_two_regions_of_the_same_topology_run_side_by_side() -> None:
    topo = load_topology(MINI)
    first = Region(topo, transport="tcp")
    await first.start(timeout=120)
    try:
        second = Region(topo, transport="tcp")
        assert second.port != first.port
        report = await second.start(timeout=120)
        assert report.sessions_established == report.sessions_expected == 64
        await second.aclose()
        status = await first.status()  # the first is untouched by the second's end
        assert status["sessions_established"] == 64
        down = await first.bundle_down("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")
        assert down.session_losses == 0
    finally:
        await first.aclose()
