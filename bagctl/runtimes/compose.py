"""The compose placement: a region as docker compose containers, one per BGP speaker,
each a shard of one speaker whose agent (runtimes/agent.py) the region reaches over the
region's own MQTT broker (the compose project's mosquitto, published on 127.0.0.1).

So every operation, query and the quiescence waves are ``Region``'s own code
(runtimes/region.py); what this module adds is the lifecycle:

- ``broker()``: writes the project (the topology, dumped, the compose file from
  ``composefile`` and the run's broker password, mode 0600) to a temporary directory,
  starts the ``mosquitto`` service on a free 127.0.0.1 port, and connects to it with
  that password (anonymous clients are refused); ``bagctl up`` also serves the management bus there
- ``spawn()``: ``compose up -d``, then every agent says ``ready``. On the region's clock
  (the default) the region then drives each agent as any shard (listen, start the
  sessions, originate, and time: runtimes/timekeeping.py), and the cold start is
  measured from there. On the host's clock each agent brings its speaker up by itself
  (the placement is ``autonomous``, as a file run by ``docker compose up`` must be), and
  the cold start runs from before ``compose up``: the agents' FIB counters run from
  their own start, and container clocks are the host's CLOCK_MONOTONIC, so
  ``converged_s`` means what it means in every runtime
- ``aclose()``: ``compose down --volumes``, then whatever still carries the region's label
  and project is removed (``docker.remove_leftovers``, as ``bagctl down`` does when the
  ``up`` process died), an endpoint docker kept of a removed container by the name it had
  (``docker.remove_network``); what still stays is a DockerError, not a clean teardown

Each run is its own: a run id (``bagemu.run`` on every container and the network, and in
the project's name, ``bagemu-<region>-<run>``) and, unless ``--subnet`` names one, a
subnet drawn among those no docker network on the host holds (``docker.free_subnet``).
So two runs of one region, by two CI jobs, never share a project or a network, and a
teardown removes only its own run's containers.

Containers take seconds to start, so the agents are awaited on their ``ready`` message;
docker itself is only waited on for its commands to return.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import shutil
import socket
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..mqtt import passwordfile
from ..mqtt.broker import BrokerUrl
from ..mqtt.topics import Topics
from ..topology.addresses import CONTAINER_FIRST_HOST, container_addresses
from ..topology.configs import DEFAULT_PORT
from ..topology.dump import dump_topology
from ..topology.model import Topology
from . import docker
from .agentbus import AgentBus, AgentHandles, AgentShard, NoEvents
from .composefile import (
    BROKER_SERVICE,
    BROKER_USER,
    DEFAULT_IMAGE,
    MQTT_PORT_VARIABLE,
    ComposeOptions,
    project_name,
    render,
)
from .placement import RegionEvents, ShardHandle
from .records import ShardSpec, check_clock

READY_TIMEOUT_S = 300.0  # every container up and its agent connected
BROKER_TIMEOUT_S = 30.0
EXITED_POLL_S = 2.0  # while containers start: has one exited?


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Containers:
    """A container per speaker (module docstring)."""

    name = "compose"

    def __init__(
        self,
        topo: Topology,
        *,
        port: int = DEFAULT_PORT,
        subnet: str | ipaddress.IPv4Network | None = None,
        image: str = DEFAULT_IMAGE,
        mqtt_port: int | None = None,
        ready_timeout_s: float = READY_TIMEOUT_S,
        clock: str = "region",
    ) -> None:
        self.clock = check_clock(clock)  # the agents' time: the region's (emulated) or host
        # On the host's clock each agent brings its speaker up by itself; on the
        # region's the region drives them, as every other shard.
        self.autonomous = self.clock == "host"
        # This run's own: its project, every label, its network (never a fixed one).
        self.run_id = secrets.token_hex(4)
        try:
            given = None if subnet is None else ipaddress.IPv4Network(subnet)
        except ValueError as exc:
            raise ValueError(f"subnet {subnet!r}: {exc}") from None
        if given is None:
            docker.compose_command()  # without docker, say what is missing first
            given = docker.free_subnet(len(topo.nodes) + CONTAINER_FIRST_HOST + 1)
        self.subnet = given
        self.topo = topo
        self.port = port
        self.image = image
        self.project_name = project_name(topo.name, self.run_id)
        self.topics = Topics(topo.name)
        self.events: RegionEvents = NoEvents()
        self.handles: list[AgentShard] = []
        self._mqtt_port = mqtt_port
        self._ready_timeout_s = ready_timeout_s
        self._dir: Path | None = None
        self._project: docker.ComposeProject | None = None
        self._bus: AgentBus | None = None
        self._url: BrokerUrl | None = None
        self._env: dict[str, str] = {}
        self._password = passwordfile.new_password()  # the run's broker: no anonymous client

    def addresses(self, topo: Topology) -> Mapping[str, ipaddress.IPv4Address]:
        return container_addresses(topo, self.subnet)

    def groups(self, topo: Topology) -> list[list[str]]:
        return [[n.name] for n in topo.speakers()]  # one container each

    # --- lifecycle ----------------------------------------------------------------------

    def _write_project(self) -> docker.ComposeProject:
        """Check docker, the image and that the region is not running; then write the
        project's files. DockerError naming what is missing."""
        command = docker.compose_command()
        docker.check_daemon()
        if not docker.image_exists(self.image):
            raise docker.DockerError(
                f"image {self.image} not found: build it with `docker compose build` (where "
                "images can be pulled) or scripts/build-local-base.sh (where they cannot)"
            )
        running = docker.leftovers(self.topo.name, self.project_name)["container"]
        if running:
            raise docker.DockerError(
                f"region {self.topo.name} already has {len(running)} containers (compose "
                f"project {self.project_name}); stop it with `bagctl down --region "
                f"{self.topo.name}`"
            )
        self._dir = Path(tempfile.mkdtemp(prefix=f"bagemu-compose-{self.topo.name}-"))
        (self._dir / "topology.yaml").write_text(dump_topology(self.topo))
        passwordfile.write_private(self._dir / "broker-password", self._password)
        options = ComposeOptions(
            topology_path="./topology.yaml",
            subnet=self.subnet,
            port=self.port,
            image=self.image,
            clock=self.clock,
            run_id=self.run_id,
        )
        (self._dir / "docker-compose.yml").write_text(render(self.topo, options))
        return docker.ComposeProject(command, self.project_name, self._dir / "docker-compose.yml")

    async def broker(self) -> BrokerUrl:
        """Start the region's mosquitto (once) and connect to it; its URL on 127.0.0.1,
        where ``bagctl up`` serves the management bus too."""
        if self._url is not None:
            return self._url
        self._project = self._write_project()
        port = self._mqtt_port or _free_port()
        self._env = {MQTT_PORT_VARIABLE: str(port)}
        try:
            await self._project.run("up", "-d", BROKER_SERVICE, env=self._env)
        except docker.DockerError as exc:
            if "overlap" not in str(exc):
                raise
            raise docker.DockerError(
                f"{exc} (subnet {self.subnet} is taken by another docker network: choose "
                "another with --subnet)"
            ) from None
        url = BrokerUrl("127.0.0.1", port, BROKER_USER, self._password)
        self._bus = AgentBus(url, self.topics)
        await self._bus.connect(BROKER_TIMEOUT_S)
        self._url = url
        return url

    async def spawn(self, specs: Sequence[ShardSpec], events: RegionEvents) -> list[ShardHandle]:
        """Every speaker's container up, every agent ``ready``."""
        self.events = events
        await self.broker()
        assert self._bus is not None and self._project is not None
        agents = AgentHandles(self._bus, events, "containers")
        for spec in specs:
            (node,) = spec.configs
            agents.attach(spec.index, node)
        self.handles = agents.handles
        agents.progress()
        await self._project.run("up", "-d", env=self._env)
        if not await agents.all_ready(self._ready_timeout_s, self._check_exited, EXITED_POLL_S):
            missing = agents.missing()
            raise docker.DockerError(
                f"{len(missing)} agents not ready after {self._ready_timeout_s:g} s: "
                f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''} (docker logs "
                f"of {self.project_name}'s containers say why)"
            )
        return list(self.handles)

    async def _check_exited(self) -> None:
        stopped = await asyncio.to_thread(docker.exited, self.topo.name, self.project_name)
        if stopped:
            node, log = next(iter(stopped.items()))
            raise docker.DockerError(
                f"the container of {node} exited ({len(stopped)} of {self.project_name}'s "
                f"have): {log}"
            )

    async def aclose(self) -> None:
        self.handles = []
        if self._bus is not None:
            await self._bus.aclose()
            self._bus = None
        try:
            await self._remove()
        finally:
            self._cleanup_dir()
            self._url = None

    async def _remove(self) -> None:
        """``compose down``, then the label sweep, which removes what compose left and
        says what it could not (DockerError): a region's ``down`` does not report a
        clean teardown while its network stays. Nothing if no project was started."""
        if self._project is None:
            return
        region, project = self.topo.name, self.project_name
        endpoints: list[str] = []
        with contextlib.suppress(docker.DockerError):  # no daemon: the sweep says so
            endpoints = await asyncio.to_thread(docker.container_names, region, project)
        with contextlib.suppress(docker.DockerError):  # what compose leaves, the sweep finds
            await self._project.run("down", "--volumes", "--remove-orphans", "--timeout", "5")
        self._project = None
        await asyncio.to_thread(docker.remove_leftovers, region, project, endpoints)

    def _cleanup_dir(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # --- queries ------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        return {
            "project": self.project_name,
            "subnet": str(self.subnet),
            "containers": sum(1 for _ in self.topo.speakers()) + 1,  # and the broker
            "image": self.image,
        }

    async def memory(self) -> dict[str, str]:
        """Memory used by each of the project's containers (``docker stats``)."""
        ids = docker.leftovers(self.topo.name, self.project_name)["container"]
        return docker.memory_by_container(ids)


__all__ = ["READY_TIMEOUT_S", "AgentShard", "Containers"]
