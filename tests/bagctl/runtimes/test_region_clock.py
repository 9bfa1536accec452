"""The region's clock (runtimes/timekeeping.py) as a user relies on it: the emulator's own
lateness is never a protocol event, real silence still is, and a long timer costs no
wall time.

- A host that lags on purpose (``hooks.lag`` blocks a shard's event loop for longer than
  a hold time, several times, in the middle of a convergence) loses no session and ends
  with the FIBs of an undisturbed run, in one process and with one of two worker
  processes made slow. On the host's clock the same lag does cost sessions: the test
  that shows the hook bites.
- A switch that hangs (``hooks.freeze``: sessions open, nothing sent) is caught by each
  neighbor's hold timer, in emulated time: a 90 s hold timer is waited out in a few wall
  seconds. A worker process stopped outright (or asleep) is left behind after
  ``stall_s`` and its switches caught the same way; one busy on the CPU is waited for.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from pathlib import Path

import pytest

from bagctl.runtimes import Region, hooks
from bagctl.runtimes.base import embedded
from bagctl.runtimes.measure import ConvergenceReport
from bagctl.runtimes.process import WorkerProcesses
from bagctl.topology import load_topology
from bagctl.topology.model import Topology

MINI = Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml"
DOWN = ("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")  # a leaf's uplink: every BAG re-weighs
HOLD_S = 3  # keepalives every second: the shortest hold time RFC 4271 allows
LAG_S = 5.0  # each stall outlasts a hold time
LAGS = 3


def mini(hold_time_s: int) -> Topology:
    topo = load_topology(MINI)
    return dataclasses.replace(
        topo, defaults=dataclasses.replace(topo.defaults, hold_time_s=hold_time_s)
    )


def region(topo: Topology, workers: int, clock: str = "region") -> Region:
    return embedded(topo, transport="memory", workers=workers, clock=clock)


async def bundle_down_fibs(
    topo: Topology, workers: int, lag_shard: int | None = None, clock: str = "region"
) -> tuple[dict[str, dict[str, dict[str, int]]], ConvergenceReport]:
    """Cold start, then one bundle down, its shard(s) lagging if ``lag_shard`` is given
    (-1: every shard); the FIBs and the failure's report."""
    r = region(topo, workers, clock)
    try:
        cold = await r.start(timeout=120)
        assert cold.session_losses == 0, cold.losses
        if lag_shard is not None:
            await hooks.lag(r, LAG_S, LAGS, shard=None if lag_shard < 0 else lag_shard)
        report = await r.bundle_down(*DOWN, timeout=300)
        return await r.fib_weights(), report
    finally:
        await r.aclose()


@pytest.mark.parametrize(
    ("workers", "lag_shard"), [(1, -1), (2, 1)], ids=["one-process", "two-workers-one-slow"]
)
async def test_a_lagging_host_loses_no_session_and_reaches_the_same_fibs(
    workers: int, lag_shard: int
) -> None:
    """Over two workers too, the failure takes the same emulated time, UPDATEs and FIB
    changes, to the microsecond and the message: what crosses between the processes does
    so at the steps of the region's clock, in a fixed order (speakers/transport/barrier.py),
    and a link's two ends in one shard go down in one request (runtimes/protocol.py's
    ``BOTH``), whichever process the host runs first. (Before the second, the time read
    100 or 105 us depending on how the host delivered the two ends' requests.)"""
    topo = mini(HOLD_S)
    calm_fibs, calm = await bundle_down_fibs(topo, workers)
    lagged_fibs, lagged = await bundle_down_fibs(topo, workers, lag_shard)
    assert lagged.quiescent_s >= LAGS * LAG_S  # every stall happened, inside the convergence
    assert lagged.session_losses == 0 == calm.session_losses
    assert lagged_fibs == calm_fibs
    assert lagged.converged_emulated_s == calm.converged_emulated_s > 0
    assert lagged.quiescent_emulated_s == calm.quiescent_emulated_s
    assert (lagged.updates_sent, lagged.fib_changes) == (calm.updates_sent, calm.fib_changes)


async def test_on_the_hosts_clock_the_same_lag_costs_sessions() -> None:
    """The contrast: one worker stalls past the hold time, the other's timers run on."""
    _, report = await bundle_down_fibs(mini(HOLD_S), 2, lag_shard=1, clock="host")
    assert report.session_losses > 0


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
async def test_a_hung_switch_is_caught_by_a_90s_hold_timer_in_a_few_wall_seconds(
    workers: int,
) -> None:
    topo = mini(90)
    node = "r1-nsf1-ftsw1-1"
    neighbors = {b.b if b.a == node else b.a for b in topo.sessions() if node in (b.a, b.b)}
    r = region(topo, workers)
    try:
        await r.start(timeout=120)
        await r.bundle_down(*DOWN)  # an operation: losses count from here
        assert r.clock is not None
        frozen_at = r.clock.now
        t0 = time.monotonic()
        await hooks.freeze(r, node)
        await r.wait(60.0)
        assert await hooks.sessions_lost(r) == ()  # a hung switch is silent, not yet lost
        await r.wait(40.0)
        wall_s = time.monotonic() - t0
        lost = await hooks.sessions_lost(r)
        assert {loss.node for loss in lost} == neighbors - {DOWN[0]}  # that bundle is down
        assert {loss.peer for loss in lost} == {node}
        assert all(loss.cause.startswith("hold-timer-expired") for loss in lost), lost
        # Each one expired within a hold time of the last keepalive it had from the
        # frozen switch (one was due every 30 s), on the region's clock.
        assert all(frozen_at + 60 < loss.at <= frozen_at + 90 for loss in lost)
        assert wall_s < 20  # 100 s of the region's time; a few wall seconds
        status = await r.status()
        assert status["sessions_established"] < status["sessions_expected"]
    finally:
        await r.aclose()


async def test_a_frozen_worker_is_left_behind_and_caught_by_hold_timers() -> None:
    """A worker process stopped outright (SIGSTOP) answers nothing: after ``stall_s``
    the region goes on without it, and the other worker's hold timers catch its
    switches, in emulated time."""
    topo = mini(HOLD_S)
    r = region(topo, 2)
    r.stall_s = 2.0
    try:
        await r.start(timeout=120)
        assert isinstance(r.placement, WorkerProcesses)
        frozen = r.placement.handles[1]
        os.kill(frozen.proc.pid, signal.SIGSTOP)
        try:
            await r.wait(3.0 * HOLD_S)
            lost = await hooks.sessions_lost(r)
            status = await r.status()
        finally:
            os.kill(frozen.proc.pid, signal.SIGCONT)
        there = set(r.groups[1])
        across = {(a, b) for s in topo.sessions() for a, b in ((s.a, s.b), (s.b, s.a))
                  if a not in there and b in there}  # fmt: skip
        assert across, "the partition puts sessions across the two workers"
        assert {(loss.node, loss.peer) for loss in lost} == across
        assert all(loss.cause.startswith("hold-timer-expired") for loss in lost), lost
        assert list(status["shards_lost"]) == ["worker 1"]  # type: ignore[call-overload]
    finally:
        await r.aclose()


@pytest.mark.parametrize("busy", [True, False], ids=["busy", "asleep"])
async def test_a_busy_worker_is_waited_for_and_a_sleeping_one_left_behind(busy: bool) -> None:
    """One step that keeps a worker from answering for longer than ``stall_s`` (as a
    long step of a big region does on a loaded host): busy on the CPU, it is waited for,
    loses no session and ends with the FIBs of an undisturbed run; asleep, it does no
    work and is taken for frozen, as a stopped one is (runtimes/placement.py). Before,
    silence alone decided: a busy worker was left behind too, and on a loaded host
    ``bagctl up`` on two-region-planar failed with every shard lost."""
    topo = mini(HOLD_S)
    calm_fibs, _ = await bundle_down_fibs(topo, 2)
    r = region(topo, 2)
    r.stall_s = 1.0
    try:
        await r.start(timeout=120)
        await hooks.lag(r, 3 * r.stall_s, 2, shard=1, busy=busy)
        report = await r.bundle_down(*DOWN, timeout=300)
        status = await r.status()
        fibs = await r.fib_weights() if busy else {}
    finally:
        await r.aclose()
    if busy:
        assert report.quiescent_s >= 2 * 3 * r.stall_s  # both stalls, inside the operation
        assert "shards_lost" not in status, status["shards_lost"]
        assert report.session_losses == 0
        assert fibs == calm_fibs
    else:
        assert status["shards_lost"] == {
            "worker 1": "answered nothing for 1 s and did no work (frozen?)"
        }


async def test_live_pace_runs_at_wall_rate_and_operations_still_converge() -> None:
    """``bagctl up``'s pace: the region's clock keeps up with the wall clock while the
    region is quiet (keepalives as on a real network), and an operation converges."""
    r = Region(mini(HOLD_S), transport="memory", pace="live")
    try:
        await r.start(timeout=120)
        assert r.clock is not None
        t0, e0 = time.monotonic(), r.clock.now
        await r.wait(2.0)
        assert time.monotonic() - t0 >= 2.0 and r.clock.now >= e0 + 2.0
        report = await r.bundle_down(*DOWN, timeout=60)
        assert report.session_losses == 0 and report.fib_changes > 0
        assert report.converged_emulated_s > 0
    finally:
        await r.aclose()
