"""The swarm placement: a region's shards as Docker Swarm services, a whole shard of
speakers in each task, driven over the region's own MQTT broker.

A runtime is a way to place shards (runtimes/placement.py), so every operation, query
and the region's clock are ``Region``'s own code, as for worker processes and compose;
what this module adds is the lifecycle:

- ``groups``: the partitioner's (runtimes/partition.py: fabrics kept together, few
  sessions cut), one per ``--workers`` shard
- ``addresses``: each speaker's address in the run's speaker subnet, which exists only
  inside the region's tasks (runtimes/agentnet.py routes it over the overlay)
- ``broker()``: writes the stack (``stackfile``: the topology as a Docker config, the
  broker's password as a Docker secret, mode 0600 on disk) to a temporary directory,
  ``docker stack deploy``s it, and connects to the broker at the port the swarm's routing
  mesh published (127.0.0.1, with the password: the port is open on every node)
- ``spawn()``: every shard's agent says ``ready`` (its addresses and routes in place),
  naming the speakers it runs, which must be the region's groups; a task that fails
  meanwhile is named with its error
- ``aclose()``: ``docker stack rm``, then whatever still carries the region's label and
  the stack's namespace (services, containers, the network, the config, the secret) is
  removed (``swarmdocker.remove_leftovers``, as ``bagctl down`` does after a dead ``up``)

Each run is its own: a run id on every label and in the stack's name, the overlay's
subnet drawn among those no docker network holds. Two regions on one swarm share
nothing but the image.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import secrets
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..mqtt import passwordfile
from ..mqtt.broker import BrokerUrl
from ..mqtt.topics import Topics
from ..topology.addresses import CONTAINER_FIRST_HOST, container_addresses
from ..topology.configs import DEFAULT_PORT
from ..topology.model import Topology
from . import docker, swarmdocker, swarmplan
from .agentbus import AgentBus, AgentHandles, AgentShard, NoEvents
from .composefile import DEFAULT_IMAGE
from .partition import partition
from .placement import RegionEvents, ShardHandle
from .records import ShardSpec, check_clock, check_transport
from .stackfile import (
    BROKER_USER,
    StackOptions,
    render,
    shard_service,
    stack_name,
    topology_gz,
)

READY_TIMEOUT_S = 300.0  # every task scheduled, its agent addressed and connected
BROKER_TIMEOUT_S = 60.0  # the broker's task scheduled and its port published
FAILED_POLL_S = 2.0  # while tasks start: has one failed?


class SwarmShards:
    """A service per shard (module docstring)."""

    name = "swarm"

    def __init__(
        self,
        topo: Topology,
        *,
        shards: int,
        port: int = DEFAULT_PORT,
        subnet: str | ipaddress.IPv4Network | None = None,
        image: str = DEFAULT_IMAGE,
        transport: str = "tcp",
        seed: int = 1,
        clock: str = "region",
        hosts: int | None = None,
        memory_per_host_gb: float | None = None,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        self.clock = check_clock(clock)
        self.autonomous = self.clock == "host"  # as for compose
        self.topo = topo
        self._shards = shards  # asked for (a region smaller than that has fewer)
        self._groups = [g for g in partition(topo, shards) if g]
        self.run_id = secrets.token_hex(4)
        self.stack = stack_name(topo.name, self.run_id)
        try:
            given = None if subnet is None else ipaddress.IPv4Network(subnet)
        except ValueError as exc:
            raise ValueError(f"subnet {subnet!r}: {exc}") from None
        speakers_room = len(topo.nodes) + CONTAINER_FIRST_HOST + 1
        if given is None:
            docker.check_daemon()  # without docker, say what is missing first
            given = docker.free_subnet(4 * len(self._groups) + 16)
        self.network_subnet = given
        # Lives only inside the region's tasks: anything but the overlay's own subnet.
        self.speaker_subnet = docker.free_subnet(speakers_room, avoid=[given])
        placed, memory = self._placed(hosts, memory_per_host_gb)
        self.options = StackOptions(
            topology_path="./topology.yaml.gz",
            password_path="./broker-password",
            shards=len(self._groups),
            network_subnet=given,
            speaker_subnet=self.speaker_subnet,
            port=port,
            image=image,
            transport=check_transport(transport),
            seed=seed,
            clock=self.clock,
            run_id=self.run_id,
            hosts=placed,
            memory_mb=memory,
        )
        self.hosts = hosts
        self.topics = Topics(topo.name)
        self.events: RegionEvents = NoEvents()
        self.handles: list[AgentShard] = []
        self._ready_timeout_s = ready_timeout_s
        self._password = passwordfile.new_password()
        self._dir: Path | None = None
        self._deployed = False
        self._bus: AgentBus | None = None
        self._url: BrokerUrl | None = None

    def _placed(
        self, hosts: int | None, memory_gb: float | None
    ) -> tuple[dict[int, int], dict[int, int]]:
        """The plan's placement (runtimes/swarmplan.py): shard -> host, and the memory
        each task reserves when the hosts' memory is given; ValueError if it does not fit."""
        if hosts is None:
            return {}, {}
        plan = swarmplan.plan(self.topo, hosts, memory_gb or swarmplan.UNLIMITED_GB, self._shards)
        if not plan.fits:
            raise ValueError(f"region {self.topo.name} on {hosts} hosts: {plan.problem}")
        placed = {s.index: s.host for s in plan.shards}
        memory = {s.index: int(s.memory_mb) + 1 for s in plan.shards} if memory_gb else {}
        return placed, memory

    def addresses(self, topo: Topology) -> Mapping[str, ipaddress.IPv4Address]:
        return container_addresses(topo, self.speaker_subnet)

    def groups(self, topo: Topology) -> list[list[str]]:
        return [list(g) for g in self._groups]

    # --- lifecycle ----------------------------------------------------------------------

    def _write_stack(self) -> Path:
        swarmdocker.check_manager()
        if self.hosts is not None:
            swarmdocker.check_host_labels(self.hosts)
        pinned = f"node.id=={swarmdocker.node_id()}"  # the broker's port: published here
        self.options = dataclasses.replace(self.options, broker_constraint=pinned)
        if not docker.image_exists(self.options.image):
            raise docker.DockerError(
                f"image {self.options.image} not found: build it with scripts/build-local-base.sh "
                "(or `docker compose build`); on a swarm of several nodes every node needs it "
                "(README: Swarm)"
            )
        self._dir = Path(tempfile.mkdtemp(prefix=f"bagemu-swarm-{self.topo.name}-"))
        (self._dir / "topology.yaml.gz").write_bytes(topology_gz(self.topo))
        passwordfile.write_private(self._dir / "broker-password", self._password)
        path = self._dir / "stack.yml"
        path.write_text(render(self.topo, self.options))
        return path

    async def broker(self) -> BrokerUrl:
        """Deploy the stack (once) and connect to its broker (module docstring)."""
        if self._url is not None:
            return self._url
        path = self._write_stack()
        self._deployed = True
        await swarmdocker.deploy(self.stack, path)
        port = await swarmdocker.published_port(
            f"{self.stack}_mosquitto", timeout_s=BROKER_TIMEOUT_S
        )
        url = BrokerUrl("127.0.0.1", port, BROKER_USER, self._password)
        self._bus = AgentBus(url, self.topics)
        await self._bus.connect(BROKER_TIMEOUT_S)
        self._url = url
        return url

    async def spawn(self, specs: Sequence[ShardSpec], events: RegionEvents) -> list[ShardHandle]:
        """Every shard's agent ``ready``, running the speakers of its spec."""
        self.events = events
        await self.broker()
        assert self._bus is not None
        agents = AgentHandles(self._bus, events, "shards")
        for spec in specs:
            agents.attach(spec.index, shard_service(spec.index))
        self.handles = agents.handles
        agents.progress()
        if not await agents.all_ready(self._ready_timeout_s, self._check_failed, FAILED_POLL_S):
            missing = agents.missing()
            service = f"{self.stack}_{missing[0]}"
            said = await asyncio.to_thread(swarmdocker.log_tail, service)
            raise docker.DockerError(
                f"{len(missing)} shards not ready after {self._ready_timeout_s:g} s: "
                f"{', '.join(missing)}; {service} logged: {said}"
            )
        for spec, handle in zip(specs, self.handles, strict=True):
            runs = handle.said.get("nodes")
            if runs != list(spec.configs):
                raise docker.DockerError(
                    f"{handle.label} runs {runs!r}, the region expects {list(spec.configs)!r} "
                    "(the image's bagemu differs from this one: rebuild it)"
                )
        return list(self.handles)

    async def _check_failed(self) -> None:
        failed = await asyncio.to_thread(swarmdocker.failed_tasks, self.stack)
        if failed:
            task, why = next(iter(failed.items()))
            raise docker.DockerError(f"task {task} of {self.stack} failed: {why}")

    async def aclose(self) -> None:
        self.handles = []
        if self._bus is not None:
            await self._bus.aclose()
            self._bus = None
        try:
            if self._deployed:  # DockerError saying what stays (not a clean teardown)
                self._deployed = False
                await asyncio.to_thread(
                    swarmdocker.remove_leftovers, self.topo.name, self.stack, self.run_id
                )
        finally:
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
            self._url = None

    # --- queries ------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        return {
            "project": self.stack,
            "subnet": str(self.network_subnet),
            "speaker_subnet": str(self.speaker_subnet),
            "containers": len(self._groups) + 1,  # and the broker
            "image": self.options.image,
            **({"hosts": dict(self.options.hosts)} if self.options.hosts else {}),
        }

    async def memory(self) -> dict[str, str]:
        """Memory used by each of the stack's containers (``docker stats``)."""
        ids = swarmdocker.leftovers(self.topo.name, self.stack)["container"]
        return docker.memory_by_container(ids)


__all__ = ["READY_TIMEOUT_S", "SwarmShards"]
