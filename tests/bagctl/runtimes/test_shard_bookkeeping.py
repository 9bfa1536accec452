"""What a shard tells the region's clock at every step, kept as things happen (its
``UpdateTally``, its speakers' ``Watches``, each speaker's stale sweeps, the bytes in
flight over TCP that its ``StepBarrier`` counts), agrees with a walk over every speaker,
neighbor and connection, at every snapshot of random sequences of the
operations a region offers (a bundle down and up, members, drains, plain and graceful
restarts, a flap, announcements), with and without an MRAI, with and without the delay
model (without it a connection's loss is no input held for later: a graceful restart's
stale routes are the only work due then), over the in-memory network and over TCP.

The walks are what ``Shard`` and ``Speaker`` computed before the bookkeeping: were a
place that gives a speaker work to forget to mark it (speakers/watch.py), the shard
would say quiet, or no work due, where the walk does not, and this fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bagctl.runtimes import Region
from bagctl.runtimes.base import embedded
from bagctl.runtimes.records import ShardSnapshot
from bagctl.runtimes.shard import Shard
from bagctl.topology import load_topology
from speakers.graceful import GracefulRestart

SMALL = Path(__file__).resolve().parents[2] / "bagctl" / "topology" / "small.yaml"

Op = Callable[[Region], Awaitable[Any]]
OPS: dict[str, Op] = {
    "bundle down": lambda r: r.bundle_down("rtsw1", "ftsw1"),
    "bundle up": lambda r: r.bundle_up("ftsw1", "rtsw1"),
    "members": lambda r: r.set_members("rdsw1", "edsw1", 1),
    "members back": lambda r: r.set_members("rdsw1", "edsw1", 3),
    "drain": lambda r: r.drain("stsw1"),
    "undrain": lambda r: r.undrain("stsw1"),
    "restart": lambda r: r.restart("ftsw1"),
    "graceful restart": lambda r: r.restart("bag1", graceful=True),
    "flap": lambda r: r.flap("ftsw2", "stsw1", count=2, interval_s=0.05),
    "announce": lambda r: r.announce("rtsw1", "198.51.100.0/24", 100e9),
    "withdraw": lambda r: r.withdraw("rtsw1", "198.51.100.0/24"),
    "wait": lambda r: r.wait(0.5),
}


def walked(shard: Shard) -> dict[str, object]:
    """The same figures by a walk over every speaker and neighbor of the shard."""
    speakers = list(shard.speakers.values())
    neighbors = [nb for s in speakers for nb in s.neighbors.values()]
    in_flight = shard.network is not None and bool(shard.network.in_flight)
    tcp = [nb for nb in neighbors if shard.network is None or nb.name in shard.spec.remote]
    due = [t for s in speakers if (t := s.work_due()) is not None]
    if shard.barrier is not None and (arrived := shard.barrier.due()) is not None:
        due.append(arrived)
    return {
        "busy": in_flight or any(s.busy() for s in speakers),
        "work_due": min(due, default=None),
        "balance": (
            sum(nb.session_updates_out for nb in neighbors),
            sum(nb.session_updates_in for nb in neighbors),
        ),
        "updates_sent": sum(nb.updates_out for nb in neighbors),
        "in_flight": sum(nb.transport.bytes_in_flight() for nb in tcp if nb.transport),
        "stale_sweeps": sorted(
            nb.stale.due for nb in neighbors if nb.stale is not None and nb.stale.due is not None
        ),
    }


def kept(shard: Shard) -> dict[str, object]:
    """What the shard answers from its bookkeeping."""
    return {
        "busy": shard.busy(),
        "work_due": shard.work_due(),
        "balance": shard.update_balance(),
        "updates_sent": shard.updates_sent(),
        "in_flight": shard.bytes_in_flight(),
        "stale_sweeps": sorted(
            sweep.due
            for s in shard.speakers.values()
            for sweep in s.stale_sweeps.values()
            if sweep.due is not None
        ),
    }


async def run(
    ops: list[str], mrai_s: float, delays: bool, transport: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    """Cold start, then ``ops``; every snapshot checked. How many were."""
    checked: list[int] = []
    original = Shard.snapshot

    def snapshot(self: Shard, release: bool = False) -> ShardSnapshot:
        assert kept(self) == walked(self)
        checked.append(1)
        return original(self, release)

    monkeypatch.setattr(Shard, "snapshot", snapshot)
    topo = load_topology(SMALL)
    defaults = dataclasses.replace(
        topo.defaults, graceful_restart=GracefulRestart(enabled=True), mrai_s=mrai_s
    )
    if not delays:
        defaults = dataclasses.replace(defaults, processing_s=0.0, latency_s=0.0)
    region = embedded(dataclasses.replace(topo, defaults=defaults), transport=transport)
    try:
        await region.start(timeout=120)
        for op in ops:
            await OPS[op](region)
    finally:
        await region.aclose()
    return len(checked)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ops=st.lists(st.sampled_from(sorted(OPS)), min_size=3, max_size=6),
    mrai_s=st.sampled_from([0.0, 0.03]),
    delays=st.booleans(),
    transport=st.sampled_from(["memory", "tcp"]),
)
async def test_the_kept_figures_agree_with_a_walk(
    ops: list[str], mrai_s: float, delays: bool, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await run(ops, mrai_s, delays, transport, monkeypatch) > 0


@pytest.mark.parametrize(
    ("delays", "transport"),
    [(True, "memory"), (False, "memory"), (True, "tcp")],
    ids=["delay-model", "no-delay-model", "tcp"],
)
async def test_every_operation_once_with_an_mrai(
    delays: bool, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every operation in one run (hypothesis draws a few), stale sweeps included: a
    graceful restart leaves the neighbors' routes stale until its End-of-RIB."""
    assert await run(list(OPS), 0.03, delays, transport, monkeypatch) > 20
