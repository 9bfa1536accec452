"""The swarm runtime on a real one-node swarm (.ci/run makes one where the machine has
none): ``mini`` over 3 shards and ``region`` over 4, driven by the same ``bagctl``
commands, each node's FIB equal to the embedded runtime's after the cold start, a bundle
failure between two shards (made real by ``ip rule`` in both tasks) and its repair;
``bagctl verify`` passes; ``bagctl down`` leaves no service, container, network, config
or secret carrying the region's label. Two regions of one name on the swarm at once do
not interfere, and tearing one down leaves the other running.

Every step awaits a command's exit or a reply."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from bagctl.bus.target import resolve
from bagctl.runtimes import Region, docker, swarmdocker
from bagctl.runtimes.base import swarm
from bagctl.runtimes.partition import partition
from bagctl.runtimes.stackfile import stack_name
from bagctl.runtimes.swarm import SwarmShards
from bagctl.topology.model import Topology

from .test_compose import ROOT, Cli, fibs_over_bus, renamed, run_bagctl

MINI = ROOT / "topologies" / "mini.yaml"
REGION = ROOT / "topologies" / "region.yaml"
KINDS = ("service", "container", "network", "config", "secret")


def labelled(region: str) -> dict[str, list[str]]:
    """Everything of any kind that carries the region's label (services, configs and
    secrets too: the swarm's own objects)."""
    label = ["--filter", f"label=bagemu.region={region}"]
    return {
        "service": docker.docker("service", "ls", "--quiet", *label).split(),
        "container": docker.docker("ps", "--all", "--quiet", *label).split(),
        "network": docker.docker("network", "ls", "--quiet", *label).split(),
        "config": docker.docker("config", "ls", "--quiet", *label).split(),
        "secret": docker.docker("secret", "ls", "--quiet", *label).split(),
    }


def remove_region(region: str) -> None:
    """Remove every stack of ``region`` (a name only these tests use)."""
    label = ["--filter", f"label=bagemu.region={region}"]
    fmt = ["--format", '{{.Label "com.docker.stack.namespace"}}']
    stacks = set(docker.docker("network", "ls", *label, *fmt).split())
    services = docker.docker("service", "ls", "--quiet", *label).split()
    if services:
        spec = '{{index .Spec.Labels "com.docker.stack.namespace"}}'
        stacks |= set(docker.docker("service", "inspect", "--format", spec, *services).split())
    for stack in stacks:
        swarmdocker.remove_leftovers(region, stack)


def cross_shard_bundle(topo: Topology, shards: int) -> tuple[str, str]:
    """A BAG chassis's bundle whose two ends run in different shards (the ``ip rule``
    case). Not a leaf uplink: under ``region``'s pod summarization that failure is RFC
    7938 §8.2's black hole, which ``verify`` rightly reports in every runtime."""
    where = {n: i for i, g in enumerate(partition(topo, shards)) for n in g}
    for b in topo.sessions():
        bag = "bag" in (topo.node(b.a).role.value, topo.node(b.b).role.value)
        if where[b.a] != where[b.b] and bag:
            return b.a, b.b
    raise AssertionError("no BAG session crosses shards")


async def embedded_fibs(topo: Topology, a: str, b: str) -> dict[str, Any]:
    """The embedded runtime's FIB of every node: cold, after a-b fails, repaired."""
    region = Region(topo, transport="memory")
    out = {}
    try:
        await region.start(timeout=600)
        out["cold"] = await region.fib_weights()
        await region.bundle_down(a, b)
        out["down"] = await region.fib_weights()
        await region.bundle_up(a, b)
        out["up"] = await region.fib_weights()
    finally:
        await region.aclose()
    return out


def as_bus(fibs: dict[str, dict[str, dict[str, int]]]) -> dict[str, dict[str, Any]]:
    return {node: dict(per) for node, per in fibs.items()}


def task_of(region: str, node: str, topo: Topology, shards: int) -> str:
    """The container of the shard running ``node``."""
    index = next(i for i, g in enumerate(partition(topo, shards)) if node in g)
    return docker.docker(
        "ps", "-q", "--filter", f"label=bagemu.region={region}",
        "--filter", f"label=bagemu.shard={index}",
    ).strip()  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "shards"), [(MINI, 3), (REGION, 4)], ids=["mini", "region"])
def test_region_on_swarm_matches_the_embedded_runtime(
    preset: Path,
    shards: int,
    swarm_manager: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    region = f"swarm-test-{preset.stem}"
    topo, file = renamed(preset, region, tmp_path)
    nodes = [n.name for n in topo.speakers()]
    a, b = cross_shard_bundle(topo, shards)
    t0 = time.monotonic()
    expected = asyncio.run(embedded_fibs(topo, a, b))
    figures: dict[str, object] = {"embedded_s": round(time.monotonic() - t0, 1)}
    cli = Cli(tmp_path / "state")
    sessions = sum(1 for _ in topo.sessions())
    try:
        t0 = time.monotonic()
        up = cli.json("up", str(file), "--runtime", "swarm", "--workers", str(shards), "--detach")
        figures["up_s"] = round(time.monotonic() - t0, 1)
        figures["converged_s"] = round(up["report"]["converged_s"], 1)
        assert up["runtime"] == "swarm"
        assert up["report"]["sessions_established"] == sessions
        assert up["report"]["session_losses"] == 0, up["report"]["losses"]
        # A big region's first command after its cold start waits about 10 s (the live
        # clock catching up, in every runtime with workers): given time.
        status = cli.json("status", "--timeout", "120")["result"]
        assert status["runtime"] == "swarm" and status["containers"] == shards + 1
        assert status["shards"] == [len(g) for g in partition(topo, shards)]
        assert status["project"].startswith(stack_name(region) + "-")
        memory = docker.memory_by_container(labelled(region)["container"])
        figures["memory"] = memory
        # The broker's URL with its password (the state file's; ``up`` prints it redacted).
        url = str(resolve(tmp_path / "state", region, None).url)
        assert asyncio.run(fibs_over_bus(url, region, nodes)) == as_bus(expected["cold"])

        down = cli.json("link", "down", a, b)
        report = down["result"]["report"]
        assert report["sessions_established"] == sessions - 1
        assert report["session_losses"] == 0, report["losses"]
        figures["bundle_down_converged_s"] = round(report["converged_s"], 3)
        # Really cut: a rule in each end's task, from its speaker to the other.
        rules = docker.docker("exec", task_of(region, a, topo, shards), "ip", "rule")
        assert "unreachable" in rules and rules.count("unreachable") == 1
        assert asyncio.run(fibs_over_bus(url, region, nodes)) == as_bus(expected["down"])
        verified = cli.json("verify")
        v = verified["result"]
        assert verified["ok"], v["problems"]
        assert v["failures"]["bundles_down"] == [sorted([a, b])]

        restored = cli.json("link", "up", a, b)
        assert restored["result"]["report"]["sessions_established"] == sessions
        assert "unreachable" not in docker.docker(
            "exec", task_of(region, a, topo, shards), "ip", "rule"
        )
        assert asyncio.run(fibs_over_bus(url, region, nodes)) == as_bus(expected["up"])
        assert cli.json("verify")["ok"]

        stopped = cli.json("down")
        assert stopped["ok"] and stopped["removed"] == {}  # its process removed everything
    finally:
        remove_region(region)
    assert labelled(region) == {kind: [] for kind in KINDS}
    with capsys.disabled():
        print(f"\nswarm {preset.stem} ({shards} shards): {json.dumps(figures)}")


@pytest.mark.slow
async def test_two_regions_of_one_name_on_one_swarm_at_once(
    swarm_manager: str, tmp_path: Path
) -> None:
    region = "swarm-test-twice"
    topo, _ = renamed(MINI, region, tmp_path)
    reference = Region(topo, transport="memory")
    try:
        await reference.start(timeout=120)
        expected = await reference.fib_weights()
    finally:
        await reference.aclose()
    first, second = swarm(topo, workers=2), swarm(topo, workers=3)
    try:
        reports = await asyncio.gather(first.start(timeout=300), second.start(timeout=300))
        assert [r.sessions_established for r in reports] == [64, 64]
        assert await first.fib_weights() == expected == await second.fib_weights()
        one, two = first.placement, second.placement
        assert isinstance(one, SwarmShards) and isinstance(two, SwarmShards)
        assert one.stack != two.stack and one.network_subnet != two.network_subnet
        await first.aclose()
        assert all(not ids for ids in swarmdocker.leftovers(region, one.stack).values())
        # The other run is untouched: its services run and its region still answers.
        assert len(swarmdocker.leftovers(region, two.stack)["service"]) == 4
        await second.bundle_down("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")
        assert await second.fib_weights() != expected
    finally:
        await first.aclose()
        await second.aclose()
        remove_region(region)
    assert labelled(region) == {kind: [] for kind in KINDS}


@pytest.mark.slow
def test_down_removes_a_swarm_region_whose_up_process_died(
    swarm_manager: str, tmp_path: Path
) -> None:
    region = "swarm-test-killed"
    _, file = renamed(MINI, region, tmp_path)
    cli = Cli(tmp_path / "state")
    try:
        up = cli.json("up", str(file), "--runtime", "swarm", "--workers", "2", "--detach")
        assert up["report"]["sessions_established"] == 64
        os.kill(up["pid"], signal.SIGKILL)  # no teardown: its stack stays behind
        assert len(labelled(region)["service"]) == 3
        stopped = cli.json("down")  # finds the region by its (stale) state file
        assert stopped["region"] == region and stopped["pid"] is None
        removed = stopped["removed"]
        assert (removed["service"], removed["container"], removed["network"]) == (3, 3, 1)
        assert (removed["config"], removed["secret"]) == (1, 1)
    finally:
        remove_region(region)
    assert labelled(region) == {kind: [] for kind in KINDS}


def test_hosts_are_for_the_swarm_runtime() -> None:
    proc = run_bagctl("up", str(MINI), "--hosts", "2", "--once")
    assert proc.returncode == 2 and "applies to --runtime swarm only" in proc.stderr
    proc = run_bagctl("up", str(MINI), "--runtime", "swarm", "--memory-per-host", "2", "--once")
    assert proc.returncode == 2 and "needs --hosts" in proc.stderr


@pytest.mark.slow
def test_shards_go_to_the_hosts_the_plan_names(swarm_manager: str, tmp_path: Path) -> None:
    """--hosts: the plan's placement as constraints on the node label bagemu.host, and
    each task's memory reserved; refused, naming the label, where no node carries it."""
    region = "swarm-test-hosts"
    _, file = renamed(MINI, region, tmp_path)
    cli = Cli(tmp_path / "state")
    node = swarmdocker.node_id()
    fmt = '{{index .Spec.Labels "bagemu.host"}}'
    had = docker.docker("node", "inspect", "--format", fmt, node).strip()
    args = ["up", str(file), "--runtime", "swarm", "--workers", "2", "--hosts", "1"]
    try:
        if had:
            docker.docker("node", "update", "--label-rm", "bagemu.host", node)
        refused = cli.json(*args, "--once", code=1)
        assert "no swarm node labelled bagemu.host=0" in refused["error"]
        docker.docker("node", "update", "--label-add", "bagemu.host=0", node)
        up = cli.json(*args, "--memory-per-host", "4", "--detach")
        assert up["report"]["sessions_established"] == 64
        for service in labelled(region)["service"]:
            spec = json.loads(
                docker.docker("service", "inspect", "--format", "{{json .Spec}}", service)
            )
            if spec["Labels"].get("bagemu.role") != "shard":
                continue
            task = spec["TaskTemplate"]
            assert task["Placement"]["Constraints"] == ["node.labels.bagemu.host==0"]
            assert task["Resources"]["Reservations"]["MemoryBytes"] > 80 << 20
        assert cli.json("status")["result"]["hosts"] == {"0": 0, "1": 0}
        assert cli.json("down")["ok"]
    finally:
        remove_region(region)
        docker.docker("node", "update", "--label-rm", "bagemu.host", node, check=False)
        if had:  # as it was found
            docker.docker("node", "update", "--label-add", f"bagemu.host={had}", node)
    assert labelled(region) == {kind: [] for kind in KINDS}
