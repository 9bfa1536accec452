"""Worker processes: ``mini`` over worker processes gives the weights worked out by hand
(tests/bagctl/runtimes/test_mini.py) and the same FIB as one process, after the same
events; a dead worker is named (the partition: test_partition.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bagctl.runtimes import Region
from bagctl.runtimes.base import embedded
from bagctl.runtimes.messages import ShardError
from bagctl.runtimes.partition import cross_sessions
from bagctl.runtimes.process import ProcessShard, WorkerProcesses
from bagctl.topology import load_topology

MINI = Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml"
P = "10.0.0.0/24"
BAG, S1, S2 = "r1-bag1-1", "r1-nsf1-stsw1-1", "r1-nsf1-stsw2-1"
R1, F1, F2 = "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1", "r1-nsf1-ftsw1-2"


@pytest.mark.parametrize("transport", ["memory", "tcp"])
async def test_mini_over_two_workers_matches_hand_weights(transport: str) -> None:
    topo = load_topology(MINI)
    region = embedded(topo, workers=2, transport=transport)
    assert isinstance(region.placement, WorkerProcesses)
    try:
        cold = await region.start(timeout=120)
        assert cold.sessions_established == cold.sessions_expected == 64
        assert cold.fib_changes > 0 and cold.updates_sent > 0
        assert len(region.groups) == 2 and cross_sessions(topo, region.groups) > 0
        assert (await region.status())["shards"] == [len(g) for g in region.groups]
        assert await region.weights(BAG, P) == {S1: 1, S2: 1}

        down = await region.bundle_down(R1, F1)
        assert down.sessions_expected == 63 and down.fib_changes > 0
        assert await region.weights(BAG, P) == {S2: 1}
        await region.bundle_up(R1, F1)
        assert await region.weights(BAG, P) == {S1: 1, S2: 1}

        await region.set_members(R1, F2, 16)
        assert await region.weights(BAG, P) == {S1: 45, S2: 32}
        await region.set_members(R1, F2, 32)

        await region.drain(S1)
        assert await region.weights(BAG, P) == {S2: 1}
        await region.undrain(S1)
        restart = await region.restart(S2)
        assert restart.sessions_established == 64
        assert await region.weights(BAG, P) == {S1: 1, S2: 1}
        fib = await region.show("fib", BAG, P)
        assert fib["fib"][0]["weights"] == {S1: 1, S2: 1}
        sessions = await region.show("sessions", BAG)
        assert {s["neighbor"] for s in sessions["sessions"]} >= {S1, S2}
        status = await region.status()
        assert status["sessions_established"] == status["sessions_expected"] == 64
    finally:
        await region.aclose()
    assert region.shards == []


async def test_sharded_and_single_process_fibs_agree() -> None:
    """Every node's group for every GPU prefix, after a failure, in both runtimes."""
    topo = load_topology(MINI)
    prefixes = [str(p) for n in topo.nodes for p in n.prefixes]
    nodes = [n.name for n in topo.speakers()]
    single = Region(topo, transport="memory")
    await single.start(timeout=120)
    try:
        await single.bundle_down(R1, F1)
        expected = {(n, p): await single.weights(n, p) for n in nodes for p in prefixes}
    finally:
        await single.aclose()
    sharded = embedded(topo, workers=2, transport="memory")
    try:
        await sharded.start(timeout=120)
        await sharded.bundle_down(R1, F1)
        got = {(n, p): await sharded.weights(n, p) for n in nodes for p in prefixes}
    finally:
        await sharded.aclose()
    assert got == expected


async def test_bad_operations_are_named_and_leave_the_region_running() -> None:
    region = embedded(load_topology(MINI), workers=2, transport="memory")
    try:
        await region.start(timeout=120)
        with pytest.raises(KeyError, match="no bundle between"):
            await region.bundle_down(R1, "r1-bag1-1")
        with pytest.raises(KeyError, match="no BGP speaker 'nope'"):
            await region.drain("nope")
        with pytest.raises(ValueError, match="32 members; 33 cannot be up"):
            await region.set_members(R1, F2, 33)
        with pytest.raises(ValueError, match="'not-a-method' is not a valid DrainMethod"):
            await region.drain(S1, method="not-a-method")
        with pytest.raises(ValueError, match="show 'routes': one of sessions, rib, fib"):
            await region.show("routes", S1)
        report = await region.bundle_down(R1, F1)  # still works
        assert report.sessions_expected == 63
        # A worker that dies is named, and nothing waits for it forever.
        worker = region.shards[1]
        assert isinstance(worker, ProcessShard)
        worker.proc.kill()
        with pytest.raises(ShardError, match=r"worker 1 (exited|is not running)"):
            await region.bundle_up(R1, F1)
    finally:
        await region.aclose()
