"""The cold start's floor (bagctl/verify/floor.py) against real cold starts: FIB entries
and Adj-RIB-In paths equal to what the speakers hold, and UPDATEs never above what they
send (equal on ``mini`` and the ``clos`` preset, where no prefix is ever replaced)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bagctl.runtimes import Region
from bagctl.topology import load_topology
from bagctl.topology.generate import generate
from bagctl.verify.floor import cold_start_floor

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"


@pytest.mark.parametrize(("name", "exact"), [("mini", True), ("clos", True), ("mini-pod", False)])
async def test_the_floor_is_what_a_cold_start_holds_and_at_most_what_it_sends(
    name: str, exact: bool
) -> None:
    topo = (
        generate("mini", summarize="pod")
        if name == "mini-pod"
        else load_topology(TOPOLOGIES / f"{name}.yaml")
    )
    floor = cold_start_floor(topo)
    region = Region(topo, transport="memory")
    try:
        report = await region.start(timeout=120)
        stats = await region.stats()
    finally:
        await region.aclose()
    assert floor.fib_entries == stats["fib_entries"]
    assert floor.paths == stats["rib_in_paths"]
    assert floor.updates <= report.updates_sent
    if exact:
        assert floor.updates == report.updates_sent
    assert floor.sessions_used <= 2 * sum(1 for _ in topo.sessions())
