"""The ``mini`` preset in this process, over TCP and in memory, weights worked out by hand.

rtsw1-1 (51.2T of hosts, 10.0.0.0/24) links ftsw1-1 (spine plane 1) and ftsw1-2 (plane 2)
with 32 x 800G = 25.6T each; each FTSW links the STSWs of its plane with 45 x 400G = 18T;
stsw{p}-1 links the BAGs of BAG plane 1 with 25 x 800G = 20T. Cumulative bandwidth:
  ftsw1-p gets min(51.2T, 25.6T) = 25.6T; stsw{p}-1 min(25.6T, 18T) = 18T;
  bag1-1 gets min(18T, 20T) = 18T from stsw1-1 and from stsw2-1: weights 1:1.
With 16 of the 32 rtsw1-1 - ftsw1-2 members down, plane 2 carries 12.8T all the way up:
  bag1-1 weights stsw1-1 : stsw2-1 = 18T : 12.8T = 45 : 32 (exact in a 128-member group).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bagctl.runtimes import Region
from bagctl.topology import load_topology

MINI = Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml"
P = "10.0.0.0/24"
BAG, S1, S2 = "r1-bag1-1", "r1-nsf1-stsw1-1", "r1-nsf1-stsw2-1"


@pytest.mark.parametrize("transport", ["tcp", "memory"])
async def test_mini_failure_members_drain(transport: str) -> None:
    region = Region(load_topology(MINI), transport=transport)
    cold = await region.start(timeout=120)
    try:
        assert cold.sessions_established == cold.sessions_expected == 64
        assert await region.weights(BAG, P) == {S1: 1, S2: 1}
        assert await region.weights("r1-nsf1-rtsw1-2", P) == {
            "r1-nsf1-ftsw1-1": 1,
            "r1-nsf1-ftsw1-2": 1,
        }

        await region.bundle_down("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")
        assert await region.weights(BAG, P) == {S2: 1}
        await region.bundle_up("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")
        assert await region.weights(BAG, P) == {S1: 1, S2: 1}

        await region.set_members("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-2", 16)
        assert await region.weights(BAG, P) == {S1: 45, S2: 32}
        await region.set_members("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-2", 32)
        assert await region.weights(BAG, P) == {S1: 1, S2: 1}

        report = await region.drain(S1)
        assert await region.weights(BAG, P) == {S2: 1}
        assert report.fib_changes > 0
        await region.undrain(S1)
        assert await region.weights(BAG, P) == {S1: 1, S2: 1}
    finally:
        await region.aclose()


async def test_an_operation_out_of_time_logs_what_was_unsettled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A timeout names the clock, the keeper and each shard's last look in the region's
    log, so a region that never converges can be told from one that was slow."""
    region = Region(load_topology(MINI), transport="memory")
    try:
        await region.start(timeout=60)
        with pytest.raises(TimeoutError):
            await region.bundle_down("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1", timeout=1e-9)
    finally:
        await region.aclose()
    (line,) = [r.getMessage() for r in caplog.records if "no convergence" in r.getMessage()]
    assert line.startswith("bundle-down r1-nsf1-rtsw1-1 r1-nsf1-ftsw1-1: no convergence within")
    assert "clock " in line and "(fast), keeper none, last look: shard 0: ShardSnapshot(" in line
