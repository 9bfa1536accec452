"""A worker process that dies (runtimes/supervision.py): its switches are gone as if
powered off, the rest of the region converges without them, every command answers,
``status`` says the region is degraded, and a command on a dead switch names the worker.
A worker that only stops answering is another story (left for hold timers:
test_region_clock.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bagctl.runtimes import protocol as rq
from bagctl.runtimes.base import embedded
from bagctl.runtimes.messages import ShardError
from bagctl.runtimes.process import ProcessShard
from bagctl.runtimes.supervision import Dead
from bagctl.topology import load_topology
from bagctl.topology.failures import Failures

MINI = Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml"
SMALL = Path(__file__).resolve().parents[2] / "bagctl" / "topology" / "small.yaml"


@pytest.mark.parametrize("pace", ["fast", "live"])
async def test_a_killed_worker_leaves_a_degraded_region_that_answers(pace: str) -> None:
    region = embedded(load_topology(MINI), workers=2, transport="memory", pace=pace)
    try:
        await region.start(timeout=120)
        dead = region.shards[1]
        assert isinstance(dead, ProcessShard)
        os.kill(dead.proc.pid, signal.SIGKILL)
        await asyncio.wait_for(dead.proc.wait(), 10)
        gone = set(region.groups[1])
        alive = [b for b in region.topo.sessions() if b.a not in gone and b.b not in gone]
        async with asyncio.timeout(60):
            status = await region.status()
            while status["sessions_established"] != status["sessions_expected"]:
                await asyncio.sleep(0.05)  # the links to the dead switches are going down
                status = await region.status()
        assert status["sessions_expected"] == len(alive) < sum(1 for _ in region.topo.sessions())
        assert str(status["degraded"]).startswith("worker 1 exited with -9 at ")
        assert status["shards_lost"] == {"worker 1": "exited with -9"}
        report = await region.bundle_down(alive[0].a, alive[0].b, timeout=60)
        assert report.session_losses == 0
        assert report.sessions_established == report.sessions_expected == len(alive) - 1
        on_dead = next(b for b in region.topo.sessions() if b.a in gone and b.b in gone)
        with pytest.raises(ShardError, match="worker 1 exited with -9"):
            await region.bundle_down(on_dead.a, on_dead.b, timeout=60)
    finally:
        await region.aclose()


@given(
    st.lists(st.tuples(st.sampled_from(["down", "up", "dies"]), st.integers(0, 40)), max_size=30)
)
def test_sessions_expected_kept_agrees_with_a_count(changes: list[tuple[str, int]]) -> None:
    """``Dead.sessions_expected`` answers from its last count while neither the bundles
    down (a new set at each change, as ``Failures`` makes them) nor the dead switches
    changed: after any sequence of changes, what a fresh count says."""
    topo = load_topology(SMALL)
    sessions = list(topo.sessions())
    dead, down = Dead(), Failures()
    for change, i in changes:
        bundle = sessions[i % len(sessions)]
        if change == "down":
            down = down.bundle_down(bundle)
        elif change == "up":
            down = down.bundle_up(bundle)
        else:
            dead.record(f"shard {i}", "killed", [bundle.a])
        fresh = Dead()
        fresh.nodes = set(dead.nodes)
        for _ in range(2):  # the second answer from what was kept
            assert dead.sessions_expected(topo.sessions(), down.down) == (
                fresh.sessions_expected(sessions, down.down)
            )


class _Heard:
    """What a region hears from one shard (``RegionEvents``)."""

    def __init__(self) -> None:
        self.cue = asyncio.Event()
        self.lost: list[str] = []

    def shard_event(self, index: int, event: object) -> None:
        self.cue.set()

    def shard_lost(self, index: int, why: str) -> None:
        self.lost.append(why)

    def placement_progress(self, done: int, total: int, what: str) -> None:
        pass


# A worker whose stdin is gone while it still runs: closed, then a cue, then it lingers.
_CLOSES_ITS_PIPE = (
    "import os, sys, time; os.close(0); "
    'print(\'{"ev": "idle", "activity": 1}\', flush=True); time.sleep(1)'
)


async def test_a_request_over_a_broken_pipe_finds_the_shard_lost() -> None:
    """As a killed worker's pipe breaks before it is reaped: the request fails with the
    shard's loss (which ``within`` takes for a shard gone, not a failed request), not
    with a ConnectionResetError, and the region hears of the loss once."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CLOSES_ITS_PIPE,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    heard = _Heard()
    shard = ProcessShard(1, proc, heard)
    try:
        await asyncio.wait_for(heard.cue.wait(), 30)  # its stdin is closed by now
        with pytest.raises(ShardError, match="worker 1 exited with 0"):
            # (the first write may still fit the pipe before the reader end is seen gone)
            for _ in range(100):
                await shard.call(rq.Snapshot(release=False))
        assert shard.gone == "exited with 0" and heard.lost == ["exited with 0"]
    finally:
        await shard.close()
