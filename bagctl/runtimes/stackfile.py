"""A region as a Docker Swarm stack file: one service per shard of the region (the
partitioner's groups, runtimes/partition.py), each task an agent running a whole shard
(runtimes/agent.py ``--shard``), and the region's MQTT broker, on one attachable
overlay network.

Pure: a ``Topology`` and ``StackOptions`` in, the stack document (and its YAML text)
out; ``docker stack deploy`` runs it (runtimes/swarm.py, or a user without bagctl).
Compose format 3.8, which ``docker stack deploy`` reads.

- **Shards**: services ``shard0`` ... ``shardN-1``, one replica each, ``endpoint_mode:
  dnsrr`` so that a shard's service name is its task's address on the overlay (the other
  shards route its speakers' addresses there: agentnet.py). ``cap_add: NET_ADMIN`` (the
  speakers' addresses, the routes, link faults); no restart (a dead shard is reported
  by the region, as a dead worker is: a new task would have lost its routes and
  sessions). Placement: ``--hosts`` pins shards to nodes labelled ``bagemu.host=<i>``
  (``bagctl swarm plan`` says which), and each task reserves the memory the plan
  estimates, so the scheduler never overfills a node.
- **Speaker addresses**: from ``speaker_subnet`` (``addresses.container_addresses``),
  which lives only inside the region's tasks; the overlay network has its own subnet.
- **Broker**: ``mosquitto`` from the same image, clients authenticated (user ``bagemu``,
  its password a Docker secret read from ``password_path``): its port is published on
  its node's every address (``mode: host``; swarm picks the port), so anonymous access
  would be anyone's. Nothing relies on the routing mesh or service VIPs (IPVS): every
  service is ``endpoint_mode: dnsrr``, and the broker runs on a manager (``bagctl up``:
  its own node), where bagctl reaches it.
- **Files**: the topology is a Docker config (no bind mount: a task may run on any
  node), gzip-compressed (a config holds at most 500 kB; ``prometheus`` dumps to 4.1 MB,
  214 kB compressed), mounted where the agents read it.
- **Labels**: ``bagemu.region`` and, for a run of ``bagctl up``, ``bagemu.run`` on every
  service (service and container labels), the network, the config and the secret:
  ``bagctl down`` removes the stack and whatever still carries its labels, nothing else.
"""

from __future__ import annotations

import gzip
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..topology.configs import DEFAULT_PORT
from ..topology.dump import dump_topology
from ..topology.model import Topology
from .composefile import (
    AGENT_CAPABILITIES,
    BROKER_CAPABILITIES,
    BROKER_PORT,
    BROKER_SERVICE,
    BROKER_USER,
    DEFAULT_IMAGE,
    LABEL_REGION,
    LABEL_ROLE,
    LABEL_RUN,
    PASSWORD_SECRET,
    FlowListDumper,
    broker_command,
    project_name,
    unprivileged,
)
from .partition import partition

FORMAT_VERSION = "3.8"
NETWORK = "region"
TOPOLOGY_CONFIG = "topology"
# gzip-compressed: a Docker config holds at most 500 kB (prometheus: 4.1 MB, 214 kB so)
TOPOLOGY_GZ_IN_CONTAINER = "/etc/bagemu/topology.yaml.gz"
LABEL_SHARD = "bagemu.shard"
LABEL_HOST = "bagemu.host"  # a node label: ``--hosts`` places shards on nodes by it
DEFAULT_SPEAKER_SUBNET = ipaddress.IPv4Network("10.208.0.0/16")
DEFAULT_NETWORK_SUBNET = ipaddress.IPv4Network("172.30.0.0/24")


def shard_service(index: int) -> str:
    """The service (and so the DNS name on the overlay) of shard ``index``."""
    return f"shard{index}"


@dataclass(frozen=True, slots=True)
class StackOptions:
    """What a stack file needs besides the topology; paths as the file names them
    (``docker stack deploy`` resolves them from its working directory)."""

    topology_path: str  # the topology, gzip-compressed (``topology_gz``)
    password_path: str
    shards: int = 2
    network_subnet: ipaddress.IPv4Network = DEFAULT_NETWORK_SUBNET
    speaker_subnet: ipaddress.IPv4Network = DEFAULT_SPEAKER_SUBNET
    port: int = DEFAULT_PORT
    image: str = DEFAULT_IMAGE
    transport: str = "tcp"  # inside each shard; between shards always TCP
    seed: int = 1
    clock: str = "host"  # as for compose: a file deployed by itself runs on the host's
    run_id: str | None = None
    # shard -> host index (node label bagemu.host), and memory reserved per shard (MB)
    hosts: Mapping[int, int] = field(default_factory=dict)
    memory_mb: Mapping[int, int] = field(default_factory=dict)
    # Where the broker runs (its port is published on that node only): ``bagctl up``
    # pins it to its own node (``node.id==...``).
    broker_constraint: str = "node.role==manager"


def topology_gz(topo: Topology) -> bytes:
    """The topology as the tasks read it: dumped, gzip-compressed (module docstring)."""
    return gzip.compress(dump_topology(topo).encode(), compresslevel=9, mtime=0)


def stack_name(region: str, run_id: str | None = None) -> str:
    """``bagemu-<region>[-<run>]`` as for compose (``composefile.project_name``)."""
    return project_name(region, run_id)


def agent_command(index: int, options: StackOptions) -> list[str]:
    """How shard ``index``'s task starts its agent: unprivileged (composefile.py)."""
    return unprivileged(
        {
            "--topology": TOPOLOGY_GZ_IN_CONTAINER,
            "--shard": str(index),
            "--shards": str(options.shards),
            "--subnet": str(options.speaker_subnet),
            "--port": str(options.port),
            "--broker": f"mqtt://{BROKER_USER}@{BROKER_SERVICE}:{BROKER_PORT}",
            "--transport": options.transport,
            "--seed": str(options.seed),
            "--clock": options.clock,
        }
    )


def _check(topo: Topology, options: StackOptions) -> list[list[str]]:
    if options.shards < 1:
        raise ValueError(f"shards must be at least 1, not {options.shards}")
    if options.network_subnet.overlaps(options.speaker_subnet):
        raise ValueError(
            f"the speakers' subnet {options.speaker_subnet} overlaps the overlay network's "
            f"{options.network_subnet}"
        )
    if not 0 < options.port < 65536:
        raise ValueError(f"BGP port {options.port}: not a TCP port")
    groups = [g for g in partition(topo, options.shards) if g]
    if len(groups) < options.shards:
        raise ValueError(
            f"{options.shards} shards for region {topo.name}'s {sum(map(len, groups))} speakers"
        )
    return groups


def stack_document(topo: Topology, options: StackOptions) -> dict[str, Any]:
    """The stack of ``topo`` as a mapping (module docstring)."""
    groups = _check(topo, options)
    labels = {LABEL_REGION: topo.name} | (
        {} if options.run_id is None else {LABEL_RUN: options.run_id}
    )
    broker_labels = labels | {LABEL_ROLE: "broker"}
    services: dict[str, Any] = {
        BROKER_SERVICE: {
            "image": options.image,
            "command": broker_command(escape=True),
            "cap_drop": ["ALL"],
            "cap_add": list(BROKER_CAPABILITIES),
            "labels": broker_labels,
            "secrets": [PASSWORD_SECRET],
            "ports": [{"target": BROKER_PORT, "protocol": "tcp", "mode": "host"}],
            "networks": [NETWORK],
            "stop_grace_period": "2s",
            "deploy": {
                "endpoint_mode": "dnsrr",
                "labels": broker_labels,
                "restart_policy": {"condition": "on-failure"},
                "placement": {"constraints": [options.broker_constraint]},
            },
        }
    }
    for i in range(len(groups)):
        shard_labels = labels | {LABEL_ROLE: "shard", LABEL_SHARD: str(i)}
        deploy: dict[str, Any] = {
            "endpoint_mode": "dnsrr",
            "replicas": 1,
            "labels": shard_labels,
            "restart_policy": {"condition": "none"},
        }
        if i in options.hosts:
            deploy["placement"] = {"constraints": [f"node.labels.{LABEL_HOST}=={options.hosts[i]}"]}
        if i in options.memory_mb:
            deploy["resources"] = {"reservations": {"memory": f"{options.memory_mb[i]}M"}}
        services[shard_service(i)] = {
            "image": options.image,
            "command": agent_command(i, options),
            "hostname": shard_service(i),
            "labels": shard_labels,
            "cap_drop": ["ALL"],
            "cap_add": list(AGENT_CAPABILITIES),
            "configs": [{"source": TOPOLOGY_CONFIG, "target": TOPOLOGY_GZ_IN_CONTAINER}],
            "secrets": [PASSWORD_SECRET],
            "networks": [NETWORK],
            # None: the swarm leaves a task out of DNS until healthy, and the shards
            # find each other by DNS before any session can be up.
            "healthcheck": {"disable": True},
            "stop_grace_period": "5s",
            "deploy": deploy,
        }
    return {
        "version": FORMAT_VERSION,
        "services": services,
        "networks": {
            NETWORK: {
                "driver": "overlay",
                "attachable": True,
                "labels": labels,
                "ipam": {"config": [{"subnet": str(options.network_subnet)}]},
            }
        },
        "configs": {TOPOLOGY_CONFIG: {"file": options.topology_path, "labels": labels}},
        "secrets": {PASSWORD_SECRET: {"file": options.password_path, "labels": labels}},
    }


def render(topo: Topology, options: StackOptions) -> str:
    """The stack file as YAML, with a header saying where it comes from."""
    speakers = sum(1 for _ in topo.speakers())
    header = [
        f"# bagemu region {topo.name}: {speakers} BGP speakers in {options.shards} shards (a "
        "service each) and the",
        f"# region's MQTT broker. Made by `bagctl swarm generate` from {options.topology_path}:",
        "# regenerate it, do not edit it.",
        f"#   docker stack deploy -c stack.yml {stack_name(topo.name)}",
        "#   bagctl up --runtime swarm TOPOLOGY    # the same, watched and controlled",
    ]
    body = yaml.dump(
        stack_document(topo, options), Dumper=FlowListDumper, sort_keys=False, width=1000
    )
    return "\n".join(header) + "\n" + body


__all__ = [
    "BROKER_USER",
    "DEFAULT_NETWORK_SUBNET",
    "DEFAULT_SPEAKER_SUBNET",
    "LABEL_HOST",
    "LABEL_SHARD",
    "PASSWORD_SECRET",
    "StackOptions",
    "agent_command",
    "broker_command",
    "render",
    "shard_service",
    "stack_document",
    "stack_name",
    "topology_gz",
]
