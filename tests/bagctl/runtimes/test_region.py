"""A region in this process, over TCP and in memory: UCMP weights checked by hand.

planes.yaml: rtsw1 (3.2T of hosts) reaches bag1 through plane 1 (rtsw1-ftsw1 4 x 400G, then
fat links) and plane 2 (rtsw1-ftsw2 2 x 400G). With cumulative link bandwidth each switch
attaches min(what its multipaths carry, the link to the neighbor):
  plane 1: ftsw1 gets min(3.2T, 1.6T) = 1.6T; stsw1 min(1.6T, 1.6T); bag1 min(1.6T, 1.6T) = 1.6T
  plane 2: ftsw2 gets min(3.2T, 800G) = 800G, and so on up: bag1 sees 800G
so bag1 weights stsw1:stsw2 = 1.6T:800G = 2:1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bagctl.runtimes import Region
from bagctl.runtimes.local import InProcess
from bagctl.topology import load_topology

PLANES = Path(__file__).with_name("planes.yaml")
P4, P6 = "10.1.1.0/24", "2001:db8:1:1::/64"


@pytest.fixture(params=["tcp", "memory"])
async def region(request):
    r = Region(load_topology(PLANES), transport=request.param)
    cold = await r.start(timeout=60)
    assert cold.sessions_established == cold.sessions_expected == 6
    assert cold.fib_changes > 0 and cold.converged_s <= cold.quiescent_s
    try:
        yield r
    finally:
        await r.aclose()


async def test_bundle_failure_members_and_drain(region: Region) -> None:
    for prefix in (P4, P6):
        assert await region.weights("bag1", prefix) == {"stsw1": 2, "stsw2": 1}

    # Plane 1 loses rtsw1-ftsw1: bag1 reaches rtsw1 through plane 2 only.
    report = await region.bundle_down("rtsw1", "ftsw1")
    assert await region.weights("bag1", P4) == {"stsw2": 1}
    assert await region.weights("ftsw1", P4) == {"stsw1": 1}  # the long way round, via bag1
    assert report.fib_changes > 0 and report.updates_sent > 0
    assert report.sessions_established == report.sessions_expected == 5
    await region.bundle_up("rtsw1", "ftsw1")
    assert await region.weights("bag1", P4) == {"stsw1": 2, "stsw2": 1}

    # One of rtsw1-ftsw2's two members fails: plane 2 carries 400G, bag1 weights 4:1.
    await region.set_members("rtsw1", "ftsw2", 1)
    assert await region.weights("bag1", P4) == {"stsw1": 4, "stsw2": 1}
    await region.set_members("rtsw1", "ftsw2", 2)
    assert await region.weights("bag1", P4) == {"stsw1": 2, "stsw2": 1}

    # Draining stsw1 moves bag1's traffic to plane 2, by either method.
    for method in ("link-bandwidth-zero", "as-path-prepend"):
        await region.drain("stsw1", method)
        assert await region.weights("bag1", P4) == {"stsw2": 1}, method
        await region.undrain("stsw1")
        assert await region.weights("bag1", P4) == {"stsw1": 2, "stsw2": 1}


async def test_restart_and_flap_converge_back(region: Region) -> None:
    report = await region.restart("stsw2")
    assert await region.weights("bag1", P4) == {"stsw1": 2, "stsw2": 1}
    assert report.sessions_established == 6
    await region.flap("ftsw2", "stsw2", count=2, interval_s=0.05)
    assert await region.weights("bag1", P4) == {"stsw1": 2, "stsw2": 1}


async def test_bad_operations_name_what_is_wrong(region: Region) -> None:
    with pytest.raises(KeyError, match="no bundle between 'rtsw1' and 'bag1'"):
        await region.bundle_down("rtsw1", "bag1")
    with pytest.raises(ValueError, match="has 2 members; 3 cannot be up"):
        await region.set_members("rtsw1", "ftsw2", 3)
    with pytest.raises(KeyError, match="no BGP speaker 'nope'"):
        await region.drain("nope")
    with pytest.raises(ValueError, match="stsw2: graceful restart is off in the topology"):
        await region.restart("stsw2", graceful=True)  # before anything is touched
    assert (await region.status())["sessions_established"] == 6


async def test_a_dial_refused_by_a_switch_still_down_is_retried(region: Region) -> None:
    """The dialing end of a bundle comes back first: the other end, still down, refuses
    the connection (a Cease) and closes at once. The dialer must read that refusal and
    retry, whenever the refusal arrives (even before its own dial has returned)."""
    from speakers.session import SessionDown

    await region.bundle_down("rtsw1", "ftsw1")
    refused = asyncio.Event()
    assert isinstance(region.placement, InProcess)
    shard = region.placement.shard
    dialer = shard.speakers["rtsw1"]
    dialer.session_events.append(
        lambda peer, event: (
            refused.set() if peer == "ftsw1" and isinstance(event, SessionDown) else None
        )
    )
    shard.link_up("rtsw1", "ftsw1")  # ftsw1 is still down: it refuses the dial
    await region.wait(0.5)  # on the region's clock: the refusal arrives in this time
    assert refused.is_set()
    report = await region.bundle_up("rtsw1", "ftsw1", timeout=20)
    assert report.sessions_established == report.sessions_expected == 6
    assert await region.weights("bag1", P4) == {"stsw1": 2, "stsw2": 1}
