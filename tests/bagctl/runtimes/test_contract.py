"""One contract over every runtime in ``RUNTIMES``: the same operations on the same region
give the same FIBs, the same reports and the same errors wherever the shards run.

The reference is the region in this process over the in-memory network. Each runtime in
the registry runs the same script on ``small.yaml`` (every operation the bus offers: a
bundle down and up, members, both drain methods, a restart, a flap, a capacity-only
bundle of the DSF fabric, an announce and withdraw, link-bandwidth modes changed at run
time, then mistakes) and must match the reference after every step:
each speaker's FIB (prefix -> next-hop node -> weight), the report's event and session
counts, the region's failures, and each mistake's exception type and message. ``embedded``
runs twice: in one process over TCP, and over two worker processes; ``compose`` where a
docker daemon answers (the image built by scripts/build-local-base.sh); ``swarm`` (two
shards, the in-memory network inside each) where that daemon manages a swarm.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bagctl.runtimes import RUNTIMES, Region
from bagctl.runtimes.base import compose, embedded, swarm
from bagctl.runtimes.compose import Containers
from bagctl.runtimes.local import InProcess
from bagctl.runtimes.process import WorkerProcesses
from bagctl.runtimes.swarm import SwarmShards
from bagctl.topology import load_topology
from bagctl.topology.model import Topology
from speakers.graceful import GracefulRestart

SMALL = Path(__file__).resolve().parents[2] / "bagctl" / "topology" / "small.yaml"

Step = tuple[str, Callable[[Region], Awaitable[Any]]]

STEPS: list[Step] = [
    ("bundle down", lambda r: r.bundle_down("rtsw1", "ftsw1")),
    ("bundle up", lambda r: r.bundle_up("ftsw1", "rtsw1")),
    ("members", lambda r: r.set_members("rdsw1", "edsw1", 1)),
    ("members back", lambda r: r.set_members("rdsw1", "edsw1", 3)),
    ("drain lbw", lambda r: r.drain("stsw1")),
    ("undrain", lambda r: r.undrain("stsw1")),
    ("drain prepend", lambda r: r.drain("ftsw1", "as-path-prepend")),
    ("restart drained", lambda r: r.restart("ftsw1")),
    ("restart edge", lambda r: r.restart("edsw1")),
    ("graceful restart", lambda r: r.restart("bag1", graceful=True)),  # RFC 4724
    ("flap", lambda r: r.flap("ftsw2", "stsw1", count=2, interval_s=0.05)),
    ("capacity-only bundle down", lambda r: r.bundle_down("rdsw1", "fdsw1")),
    ("announce", lambda r: r.announce("rtsw1", "198.51.100.0/24", 100e9)),
    ("export mode", lambda r: r.set_bandwidth("ftsw1", export="num-multipaths")),
    ("export mode to a peer", lambda r: r.set_bandwidth("stsw1", "ftsw2", export="none")),
    ("missing mode", lambda r: r.set_bandwidth("bag1", missing="skip-missing")),
    ("withdraw", lambda r: r.withdraw("rtsw1", "198.51.100.0/24")),
]

# What ``show fib`` answers for an address or a covered prefix: the entry that forwards it
# (longest-prefix match, issue 18), wherever the switch runs.
LOOKUPS: list[tuple[str, Callable[[Region], Awaitable[Any]]]] = [
    ("an address", lambda r: r.show("fib", "bag1", "10.1.1.7")),
    ("a covered prefix", lambda r: r.show("fib", "bag2", "10.1.2.128/25")),
]

MISTAKES: list[Step] = [
    ("no such bundle", lambda r: r.bundle_down("rtsw1", "bag1")),
    ("no such node", lambda r: r.drain("nope")),
    ("an FDSW speaks no BGP", lambda r: r.restart("fdsw1")),
    ("too many members", lambda r: r.set_members("bag1", "bag2", 11)),
    ("no members", lambda r: r.set_members("bag1", "bag2", 0)),
    ("bad drain method", lambda r: r.drain("bag1", "unplug")),
    ("fixed needs a value", lambda r: r.set_bandwidth("bag1", export="fixed")),
    ("no such neighbor", lambda r: r.set_bandwidth("bag1", "rtsw1", export="none")),
    ("no mode named", lambda r: r.set_bandwidth("bag1")),
    ("bad view", lambda r: r.show("routes", "bag1")),
    ("sessions by prefix", lambda r: r.show("sessions", "bag1", "10.1.1.0/24")),
    ("no such route", lambda r: r.show("fib", "bag2", "192.0.2.0/24")),
    ("not a prefix", lambda r: r.show("rib", "bag2", "ten")),
]


async def observe(region: Region, step: Step) -> dict[str, Any]:
    """What one step did, in the terms the contract compares."""
    name, run = step
    report = await run(region)
    return {
        "step": name,
        "event": report.event,
        "sessions": (report.sessions_established, report.sessions_expected),
        "losses": [loss.as_dict() for loss in report.losses],  # none, on the region's clock
        "fib": await region.fib_weights(),
        "failures": region.failures.as_dict(),
    }


async def mistake(region: Region, step: Step) -> tuple[str, str, str]:
    name, run = step
    try:
        await run(region)
    except (KeyError, ValueError) as exc:
        message = str(exc.args[0]) if exc.args else ""
        return name, type(exc).__name__, message.replace(region.topo.name, "<region>")
    return name, "no error", ""


async def run_script(region: Region) -> dict[str, Any]:
    try:
        cold = await region.start(timeout=300)
        out: dict[str, Any] = {
            "cold": (cold.sessions_established, cold.sessions_expected, cold.session_losses),
            "cold fib": await region.fib_weights(),
            "steps": [await observe(region, step) for step in STEPS],
            "lookups": {name: (await ask(region))["fib"] for name, ask in LOOKUPS},
            # inspect's rows, but where each switch runs (a runtime's own: worker, container)
            "inspect": [
                {k: v for k, v in row.items() if k != "runs_in"} for row in await region.inspect()
            ],
            "mistakes": [await mistake(region, step) for step in MISTAKES],
        }
        # After the mistakes, the region still works and is unchanged by them.
        out["after mistakes"] = await observe(region, ("bundle up", STEPS[1][1]))
        status = await region.status()
        out["status"] = {k: status[k] for k in ("region", "speakers", "bundles_down")}
        return out
    finally:
        await region.aclose()


def named(topo: Topology, runtime: str) -> Topology:
    """Its own region name per runtime (compose labels and projects by it), and graceful
    restart on (for the step that uses it)."""
    defaults = dataclasses.replace(topo.defaults, graceful_restart=GracefulRestart(enabled=True))
    return dataclasses.replace(topo, name=f"contract-{runtime}", defaults=defaults)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    topo = named(load_topology(SMALL), "reference")
    region = Region(topo, transport="memory")
    assert isinstance(region.placement, InProcess)
    return asyncio.run(run_script(region))


def in_process_tcp(topo: Topology) -> Region:
    region = embedded(topo, transport="tcp", port=free_port())
    assert isinstance(region.placement, InProcess)
    return region


def two_workers(topo: Topology) -> Region:
    region = embedded(topo, workers=2, transport="memory", port=free_port())
    assert isinstance(region.placement, WorkerProcesses)
    return region


def containers(topo: Topology) -> Region:
    region = compose(topo)  # a run's own project and a free subnet
    assert isinstance(region.placement, Containers)
    return region


def two_shards_on_swarm(topo: Topology) -> Region:
    region = swarm(topo, workers=2, transport="memory")
    assert isinstance(region.placement, SwarmShards)
    assert [len(g) for g in region.groups] == [len(g) for g in region.placement.groups(topo)]
    return region


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CASES: dict[str, tuple[str, Callable[[Topology], Region]]] = {
    "in-process-tcp": ("embedded", in_process_tcp),
    "two-workers": ("embedded", two_workers),
    "compose": ("compose", containers),
    "swarm": ("swarm", two_shards_on_swarm),
}


def test_every_registered_runtime_is_under_contract() -> None:
    assert {runtime for runtime, _ in CASES.values()} == set(RUNTIMES)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_runtime_keeps_the_contract(
    case: str, reference: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    runtime, make = CASES[case]
    if runtime in ("compose", "swarm"):
        if shutil.which("docker") is None:
            pytest.skip("docker is not installed")
        # builds the image, or skips saying why (and for swarm: no swarm here)
        request.getfixturevalue("speaker_image" if runtime == "compose" else "swarm_manager")
    topo = named(load_topology(SMALL), case)
    got = await run_script(make(topo))
    assert got["cold"] == reference["cold"] == (10, 10, 0)
    assert got["cold fib"] == reference["cold fib"]
    assert all(step["losses"] == [] for step in reference["steps"])
    for mine, theirs in zip(got["steps"], reference["steps"], strict=True):
        assert mine == theirs, mine["step"]
    assert got["mistakes"] == reference["mistakes"]
    assert got["after mistakes"] == reference["after mistakes"]
    assert got["status"] == {**reference["status"], "region": topo.name}


def test_the_reference_itself_is_what_the_topology_says(reference: dict[str, Any]) -> None:
    """The contract is only as good as its reference: a few of its answers by hand."""
    steps = {s["step"]: s for s in reference["steps"]}
    assert steps["bundle down"]["sessions"] == (9, 9)
    # ftsw1 now reaches rtsw1 two ways, three ASes long each: through rtsw2 and ftsw2
    # (400G all the way: cumulative bandwidth min(400G, 400G)) and through stsw1 and ftsw2
    # (capped by the 300G spine links): 4:3.
    assert steps["bundle down"]["fib"]["ftsw1"]["10.1.1.0/24"] == {"rtsw2": 4, "stsw1": 3}
    assert steps["bundle down"]["failures"]["bundles_down"] == [["ftsw1", "rtsw1"]]
    assert steps["drain lbw"]["fib"]["bag1"]["10.1.1.0/24"] == {"stsw1": 1}
    assert steps["capacity-only bundle down"]["sessions"] == (10, 10)
    assert steps["capacity-only bundle down"]["failures"]["bundles_down"] == [["fdsw1", "rdsw1"]]
    rows = {row["node"]: row for row in reference["inspect"]}
    assert rows["bag1"]["state"] == "running" and rows["bag1"]["role"] == "bag"
    assert (rows["bag1"]["sessions_up"], rows["bag1"]["sessions"]) == (3, 3)
    assert "fdsw1" not in rows  # speaks no BGP
    (by_address,) = reference["lookups"]["an address"]
    assert by_address["prefix"] == "10.1.1.0/24" and by_address["weights"] == {"stsw1": 1}
    assert reference["lookups"]["a covered prefix"][0]["prefix"] == "10.1.2.0/24"
    mistakes = {name: (kind, message) for name, kind, message in reference["mistakes"]}
    assert mistakes["no such bundle"][0] == "KeyError"
    assert "no bundle between 'rtsw1' and 'bag1'" in mistakes["no such bundle"][1]
    assert mistakes["no such node"] == (
        "KeyError",
        "no BGP speaker 'nope' in region <region>",
    )
    assert mistakes["an FDSW speaks no BGP"][0] == "KeyError"
    assert mistakes["too many members"][0] == mistakes["no members"][0] == "ValueError"
    assert mistakes["bad drain method"] == ("ValueError", "'unplug' is not a valid DrainMethod")
    assert mistakes["no such route"] == ("KeyError", "bag2: no route to 192.0.2.0/24 in the FIB")
    assert mistakes["not a prefix"] == ("ValueError", "bag2: 'ten' is not a prefix")
