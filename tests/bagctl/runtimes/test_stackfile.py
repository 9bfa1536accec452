"""The swarm runtime without docker: the stack file (labels on everything, a service per
shard reachable by name, nothing relying on the routing mesh, the broker authenticated),
the agent's own reading of the topology (the same shards, specs and seeds as the
region's), the ``ip`` lines of a shard's addressing and of a link fault, the placement
plan's arithmetic, and the ``bagctl swarm`` commands."""

from __future__ import annotations

import argparse
import ipaddress
import json
import shlex
import stat
from pathlib import Path

import pytest
import yaml

from bagctl.runtimes import agentnet
from bagctl.runtimes.agent import parser
from bagctl.runtimes.agentplan import AgentError, plan_shard
from bagctl.runtimes.partition import partition
from bagctl.runtimes.records import shard_specs
from bagctl.runtimes.stackfile import (
    PASSWORD_SECRET,
    StackOptions,
    shard_service,
    stack_document,
)
from bagctl.runtimes.swarmplan import (
    BASE_MB,
    BYTES_PER_PATH,
    BYTES_PER_SESSION_END,
    BYTES_PER_SPEAKER,
    MB,
    paths_per_switch,
    plan,
)
from bagctl.topology import load_topology
from bagctl.topology.addresses import container_addresses
from bagctl.topology.configs import speaker_configs

from .test_compose import ROOT, run_bagctl

MINI = ROOT / "topologies" / "mini.yaml"
SMALL = ROOT / "tests" / "bagctl" / "topology" / "small.yaml"
OPTIONS = StackOptions(topology_path="./t.yaml", password_path="./pw", shards=3, run_id="r1")


def test_a_service_per_shard_and_every_object_labelled() -> None:
    topo = load_topology(MINI)
    doc = stack_document(topo, OPTIONS)
    shards = [name for name in doc["services"] if name != "mosquitto"]
    assert shards == [shard_service(i) for i in range(3)]
    for name, service in doc["services"].items():
        for labels in (service["labels"], service["deploy"]["labels"]):
            assert labels["bagemu.region"] == "mini" and labels["bagemu.run"] == "r1", name
        # No VIP and no routing mesh (no IPVS needed): names are task addresses.
        assert service["deploy"]["endpoint_mode"] == "dnsrr"
        assert PASSWORD_SECRET in service["secrets"]
    for kind in ("networks", "configs", "secrets"):
        for obj in doc[kind].values():
            assert obj["labels"] == {"bagemu.region": "mini", "bagemu.run": "r1"}
    broker = doc["services"]["mosquitto"]
    assert broker["ports"] == [{"target": 1883, "protocol": "tcp", "mode": "host"}]  # no fixed port
    script = broker["command"][-1]
    assert "allow_anonymous false" in script and "password_file" in script
    assert "$$(cat" in script  # escaped: the stack loader would interpolate a single $
    shard = doc["services"]["shard1"]
    args = shlex.split(shard["command"][-1].split("&& exec ", 1)[1])  # after the launcher
    assert args[args.index("--shard") + 1] == "1" and args[args.index("--shards") + 1] == "3"
    assert args[0] == "setpriv" and "--reuid=10001" in args  # unprivileged (composefile.py)
    assert shard["cap_drop"] == ["ALL"]
    assert shard["cap_add"] == ["NET_ADMIN", "SETUID", "SETGID", "SETPCAP"]
    assert broker["cap_drop"] == ["ALL"] and broker["cap_add"] == ["SETUID", "SETGID"]
    assert shard["deploy"]["restart_policy"] == {"condition": "none"}
    assert doc["networks"]["region"]["driver"] == "overlay"
    assert doc["networks"]["region"]["attachable"] is True


def test_placement_and_memory_are_written_when_planned() -> None:
    topo = load_topology(MINI)
    options = StackOptions("./t.yaml", "./pw", shards=2, hosts={0: 1, 1: 0}, memory_mb={0: 90})
    doc = stack_document(topo, options)
    deploy = doc["services"]["shard0"]["deploy"]
    assert deploy["placement"] == {"constraints": ["node.labels.bagemu.host==1"]}
    assert deploy["resources"] == {"reservations": {"memory": "90M"}}
    assert "resources" not in doc["services"]["shard1"]["deploy"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shards": 0}, "shards must be at least 1"),
        ({"shards": 99}, "99 shards for region mini's 36 speakers"),
        ({"speaker_subnet": ipaddress.IPv4Network("172.30.0.0/16")}, "overlaps"),
        ({"port": 70000}, "not a TCP port"),
    ],
)
def test_bad_options_are_named(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"topology_path": "t", "password_path": "p", **change}
    options = StackOptions(**fields)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        stack_document(load_topology(MINI), options)


def agent_args(*argv: str) -> argparse.Namespace:
    base = ["--topology", str(MINI), "--subnet", "10.208.0.0/16", "--broker", "mqtt://b:1883"]
    return parser().parse_args([*base, *argv])


@pytest.mark.parametrize("transport", ["tcp", "memory"])
def test_each_agent_runs_the_shard_the_region_gives_it(transport: str) -> None:
    """What the tasks compute alone is what ``Region`` computes for the swarm placement
    (runtimes/region.py: the placement's groups and addresses, ``shard_specs``)."""
    topo = load_topology(MINI)
    subnet = ipaddress.IPv4Network("10.208.0.0/16")
    addresses = container_addresses(topo, subnet)
    configs = speaker_configs(topo, port=1179, addresses=addresses, delays=True)  # as Region
    groups = [g for g in partition(topo, 3) if g]
    region_specs = shard_specs(configs, groups, transport, 7, "region")
    for i in range(3):
        args = agent_args("--shard", str(i), "--shards", "3", "--transport", transport)
        args.seed, args.clock, args.port = 7, "region", 1179
        mine = plan_shard(args, topo)
        assert mine.name == f"shard{i}"
        assert mine.spec == region_specs[i]
        assert [list(g) for g in mine.groups] == groups


def test_a_compose_agent_is_a_shard_of_one() -> None:
    topo = load_topology(MINI)
    node = "r1-nsf1-ftsw1-1"
    mine = plan_shard(agent_args("--node", node), topo)
    assert list(mine.spec.configs) == [node] and mine.name == node
    assert mine.spec.seed == 1000 + list(speaker_configs(topo)).index(node)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--shard", "3", "--shards", "3"), "--shard 3: region mini has shards 0 to 2"),
        (("--node", "r1-nsf1-fdsw1-1"), "is not a node"),
    ],
)
def test_the_agent_names_a_shard_it_cannot_run(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(AgentError, match=message):
        plan_shard(agent_args(*argv), load_topology(MINI))


def test_addressing_and_link_fault_lines() -> None:
    a, b, via = (ipaddress.IPv4Address(x) for x in ("10.208.0.16", "10.208.0.17", "172.30.0.5"))
    assert agentnet.shard_routes([a], {b: via}) == [
        "address replace 10.208.0.16/32 dev lo",
        "route replace 10.208.0.17/32 via 172.30.0.5",
    ]
    # Only this speaker's packets to that peer: the shard's others may use the same peer.
    assert agentnet.rule("add", a, b) == (
        "rule add from 10.208.0.16/32 to 10.208.0.17/32 unreachable pref 1000"
    )


def test_the_plan_adds_up_on_a_small_region() -> None:
    topo = load_topology(SMALL)
    held = paths_per_switch(topo)
    p = plan(topo, hosts=2, memory_per_host_gb=1, shards=3)
    groups = [g for g in partition(topo, 3) if g]
    assert [s.speakers for s in p.shards] == [len(g) for g in groups]
    ends = {i: 0 for i in range(3)}
    where = {n: i for i, g in enumerate(groups) for n in g}
    for b in topo.sessions():
        ends[where[b.a]] += 1
        ends[where[b.b]] += 1
    for s in p.shards:
        assert s.session_ends == ends[s.index]
        assert s.paths == sum(held[n] for n in groups[s.index])
        memory = (
            BASE_MB
            + (
                s.speakers * BYTES_PER_SPEAKER
                + s.session_ends * BYTES_PER_SESSION_END
                + s.paths * BYTES_PER_PATH
            )
            / MB
        )
        assert s.memory_mb == round(memory, 1)
    for h in p.hosts:
        assert h.memory_mb == pytest.approx(sum(p.shards[i].memory_mb for i in h.shards), abs=0.2)
        assert h.capacity_mb == 1024
    assert sorted(i for h in p.hosts for i in h.shards) == [0, 1, 2]
    # Sessions cut between hosts, counted by hand from the placement.
    host = {n: p.shards[where[n]].host for n in where}
    for h in p.hosts:
        assert h.cut_sessions == sum(
            1
            for b in topo.sessions()
            if host[b.a] != host[b.b] and h.index in (host[b.a], host[b.b])
        )
    assert p.fits and p.problem is None
    tight = plan(topo, hosts=1, memory_per_host_gb=0.1, shards=2)
    assert not tight.fits and "needs" in (tight.problem or "")


def test_paths_counted_from_the_model_are_what_mini_holds() -> None:
    """mini's speakers hold 2,816 Adj-RIB-In paths once converged (measured: the sum
    over every speaker and neighbor of ``len(adj_in)``); the model counts the same."""
    assert sum(paths_per_switch(load_topology(MINI)).values()) == 2816


def test_swarm_plan_cli_prints_and_exits_by_fit() -> None:
    proc = run_bagctl(
        "swarm", "plan", str(MINI), "--hosts", "2", "--memory-per-host", "1", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] and out["fits"] and len(out["shards"]) == 2 and len(out["hosts"]) == 2
    tight = run_bagctl("swarm", "plan", str(MINI), "--hosts", "1", "--memory-per-host", "0.01")
    assert tight.returncode == 1 and "does not fit: shard" in tight.stdout
    bad = run_bagctl("swarm", "plan", str(MINI), "--hosts", "0", "--memory-per-host", "1")
    assert bad.returncode == 2 and "--hosts" in bad.stderr


def test_swarm_generate_writes_the_stack_and_a_private_password(tmp_path: Path) -> None:
    out = tmp_path / "stack" / "stack.yml"
    out.parent.mkdir()
    proc = run_bagctl("swarm", "generate", str(MINI), "-o", str(out), "--shards", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["shards"] == 3 and summary["password_made"] is True
    password = out.parent / "broker-password"
    assert stat.S_IMODE(password.stat().st_mode) == 0o600
    doc = yaml.safe_load(out.read_text())
    shipped = out.parent / doc["configs"]["topology"]["file"]
    assert shipped.name == "stack.topology.yaml.gz" and summary["topology_file"] == str(shipped)
    assert load_topology(shipped) == load_topology(MINI)  # the agents read it so
    assert doc["secrets"][PASSWORD_SECRET]["file"] == "./broker-password"
    first = password.read_text()
    again = run_bagctl("swarm", "generate", str(MINI), "-o", str(out), "--json")
    assert json.loads(again.stdout)["password_made"] is False and password.read_text() == first


class _Events:
    def __init__(self) -> None:
        self.progress: list[tuple[int, int, str]] = []

    def shard_event(self, index: int, event: object) -> None:
        pass

    def shard_lost(self, index: int, why: str) -> None:
        pass

    def placement_progress(self, done: int, total: int, what: str) -> None:
        self.progress.append((done, total, what))


async def test_a_ready_said_before_the_handle_exists_is_not_lost() -> None:
    """A swarm task may say ``ready`` (retained: delivered once, when the host
    subscribes) before the region has made its handle: attaching replays it."""
    from bagctl.mqtt.broker import BrokerUrl
    from bagctl.mqtt.topics import Topics
    from bagctl.runtimes.agentbus import AgentBus, AgentShard

    bus = AgentBus(BrokerUrl("127.0.0.1", 1), Topics("mini"))
    events = _Events()
    bus._early["shard0"] = {"v": 1, "state": "ready", "node": "shard0", "nodes": ["a"]}
    early = AgentShard(0, "shard0", bus, events, lambda: events.placement_progress(1, 1, "x"))
    late = AgentShard(1, "shard1", bus, events, lambda: None)
    bus.attach("shard0", early)
    bus.attach("shard1", late)
    assert early.ready.is_set() and early.said["nodes"] == ["a"]
    assert not late.ready.is_set() and events.progress == [(1, 1, "x")]


@pytest.mark.slow
def test_prometheus_fits_four_hosts_of_16_gb() -> None:
    """The issue's placement: ``prometheus`` (5,856 speakers) on 4 hosts of 16 GB."""
    proc = run_bagctl(
        "swarm", "plan", str(ROOT / "topologies" / "prometheus.yaml"),
        "--hosts", "4", "--memory-per-host", "16", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["fits"] and len(out["shards"]) == 4
    assert sum(s["speakers"] for s in out["shards"]) == 5856
    for host in out["hosts"]:
        assert len(host["shards"]) == 1 and 0 < host["memory_mb"] <= host["capacity_mb"] == 16384
    assert 10e6 < sum(s["paths"] for s in out["shards"]) < 20e6  # 15.4 million, the model's
