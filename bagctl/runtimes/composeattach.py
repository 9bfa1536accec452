"""Attaching to a region somebody else started: ``docker compose up`` of a file that
``bagctl compose generate`` wrote.

Such a region runs by itself: each agent brings its speaker up on the host's clock and
says ``ready`` (retained) on the project's mosquitto. What it lacks is the region's
controller, the process that answers ``bagctl status``, ``link down`` or ``verify``;
``bagctl compose attach FILE`` is that process, over the containers that are already
there. So every command works as on a region ``bagctl up --runtime compose`` started.

- ``read_project``: what the attach needs, read back from the compose file itself (the
  topology it mounts, the password file, the subnet, the BGP port and the broker's port
  on 127.0.0.1, ``$BAGEMU_MQTT_PORT`` first as compose reads it), with file:line:field
  errors for a file ``bagctl compose generate`` did not write.
- ``AttachedContainers``: the placement. ``spawn`` creates nothing: it waits (briefly)
  for every speaker's ``ready`` and names those missing. ``aclose`` only leaves the
  broker: the containers are not this process's, so ``bagctl down`` of an attached
  region leaves them running (and whatever it failed in them, failed), and says so;
  ``docker compose down`` is their owner's to run.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speakers.yamldoc import ConfigError, YamlDocument, read_file

from ..mqtt import passwordfile
from ..mqtt.broker import BrokerUrl
from ..mqtt.topics import Topics
from ..topology.addresses import container_addresses
from ..topology.model import Topology
from . import docker
from .agentbus import AgentBus, AgentHandles, AgentShard, NoEvents
from .composefile import (
    BROKER_PORT,
    BROKER_SERVICE,
    BROKER_USER,
    MQTT_PORT_VARIABLE,
    NETWORK,
    PASSWORD_IN_CONTAINER,
    TOPOLOGY_IN_CONTAINER,
)
from .placement import RegionEvents, ShardHandle
from .records import ShardSpec

READY_TIMEOUT_S = 60.0  # every agent's retained ``ready`` arrives at once when it runs
BROKER_TIMEOUT_S = 10.0
# 127.0.0.1:${BAGEMU_MQTT_PORT:-11883}:1883, as composefile writes it (or a plain port)
_PUBLISHED = re.compile(
    r"127\.0\.0\.1:(?:\$\{"
    + MQTT_PORT_VARIABLE
    + r":-(?P<default>\d+)\}|(?P<port>\d+)):"
    + str(BROKER_PORT)
)


@dataclass(frozen=True, slots=True)
class GeneratedProject:
    """A generated compose file, as an attach needs it (paths resolved)."""

    file: Path
    topology: Path
    password_file: Path
    subnet: ipaddress.IPv4Network
    port: int  # BGP, inside the containers
    mqtt_port: int  # the broker on 127.0.0.1
    project: str  # compose's project name: ``docker compose ps`` of it shows the containers


def default_project(file: Path, env: Mapping[str, str]) -> str:
    """The project name compose gives a file when ``-p`` is not used:
    ``$COMPOSE_PROJECT_NAME``, else its directory's name, lower-cased and kept to
    ``[a-z0-9_-]``."""
    name = env.get("COMPOSE_PROJECT_NAME") or file.resolve().parent.name
    return re.sub(r"[^a-z0-9_-]", "", name.lower())


def _volume(doc: YamlDocument, service: dict[str, Any], where: str, target: str) -> Path:
    """The host path a service mounts at ``target``, resolved against the file's directory."""
    for spec in service.get("volumes") or []:
        parts = str(spec).split(":")
        if len(parts) >= 2 and parts[1] == target:
            host = Path(parts[0])
            return host if host.is_absolute() else (Path(doc.file).parent / host).resolve()
    raise doc.error(f"{where}.volumes", f"nothing is mounted at {target}")


def _argv(command: object) -> list[str]:
    """A service's command as words: a list, or the words of its ``sh -c`` script (the
    agents' launcher: composefile.unprivileged)."""
    words = [str(a) for a in command] if isinstance(command, list) else []
    if words[:2] == ["sh", "-c"] and len(words) == 3:
        with contextlib.suppress(ValueError):
            return shlex.split(words[2])
    return words


def _option(command: list[str], name: str) -> str | None:
    for i, arg in enumerate(command[:-1]):
        if arg == name:
            return command[i + 1]
    return None


def read_project(
    path: str | Path, project: str | None = None, env: Mapping[str, str] | None = None
) -> GeneratedProject:
    """What attaching to the region of compose file ``path`` needs (module docstring);
    ``ConfigError`` (file:line: field: message) where the file is not one ``bagctl compose
    generate`` wrote."""
    env = os.environ if env is None else env
    text, name = read_file(path)
    doc = YamlDocument(text, name)
    data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
    services = data.get("services")
    if not isinstance(services, dict):
        raise doc.error("services", "no services: not a compose file")
    broker = services.get(BROKER_SERVICE)
    if not isinstance(broker, dict):
        raise doc.error(
            "services", f"no {BROKER_SERVICE!r} service: not written by `bagctl compose generate`"
        )
    speakers = {
        k: v
        for k, v in services.items()
        if isinstance(v, dict) and "bagctl.runtimes.agent" in _argv(v.get("command"))
    }
    if not speakers:
        raise doc.error("services", "no speaker (agent) service: not a bagemu region")
    first, service = next(iter(speakers.items()))
    where = f"services.{first}"
    command = _argv(service["command"])
    mqtt_port: int | None = None
    for i, spec in enumerate(broker.get("ports") or []):
        m = _PUBLISHED.fullmatch(str(spec))
        if m:
            given = env.get(MQTT_PORT_VARIABLE) if m["default"] else None
            mqtt_port = int(given or m["default"] or m["port"])
            if not 0 < mqtt_port < 65536:
                raise doc.error(f"services.{BROKER_SERVICE}.ports[{i}]", f"port {mqtt_port}")
    if mqtt_port is None:
        raise doc.error(
            f"services.{BROKER_SERVICE}.ports", "the broker is not published on 127.0.0.1"
        )
    try:
        subnet = ipaddress.IPv4Network(data["networks"][NETWORK]["ipam"]["config"][0]["subnet"])
        port = int(_option(command, "--port") or "")
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise doc.error(f"networks.{NETWORK}", f"no region subnet or BGP port ({exc})") from None
    return GeneratedProject(
        file=Path(path),
        topology=_volume(doc, service, where, TOPOLOGY_IN_CONTAINER),
        password_file=_volume(doc, broker, f"services.{BROKER_SERVICE}", PASSWORD_IN_CONTAINER),
        subnet=subnet,
        port=port,
        mqtt_port=mqtt_port,
        project=project or default_project(Path(path), env),
    )


class AttachedContainers:
    """The containers of a running compose project, as a region's shards (module
    docstring)."""

    name = "compose-attached"
    autonomous = True  # the agents run their speakers by themselves, on the host's clock
    clock = "host"

    def __init__(
        self, topo: Topology, project: GeneratedProject, ready_timeout_s: float = READY_TIMEOUT_S
    ) -> None:
        self.topo = topo
        self.project = project
        self.topics = Topics(topo.name)
        self.events: RegionEvents = NoEvents()
        self.handles: list[AgentShard] = []
        self._ready_timeout_s = ready_timeout_s
        self._bus: AgentBus | None = None
        self._url: BrokerUrl | None = None

    def addresses(self, topo: Topology) -> Mapping[str, ipaddress.IPv4Address]:
        return container_addresses(topo, self.project.subnet)

    def groups(self, topo: Topology) -> list[list[str]]:
        return [[n.name] for n in topo.speakers()]  # one container each

    async def broker(self) -> BrokerUrl:
        """The project's mosquitto, with the password file beside the compose file."""
        if self._url is not None:
            return self._url
        try:
            password = passwordfile.read(self.project.password_file)
        except OSError as exc:
            where = str(self.project.password_file)
            raise ConfigError(f"the broker's password: {exc.strerror or exc}", file=where) from None
        url = BrokerUrl("127.0.0.1", self.project.mqtt_port, BROKER_USER, password)
        bus = AgentBus(url, self.topics)
        try:
            await bus.connect(BROKER_TIMEOUT_S)
        except docker.DockerError as exc:
            raise docker.DockerError(
                f"{exc}: is `docker compose -p {self.project.project} -f {self.project.file} "
                "up` running (and $BAGEMU_MQTT_PORT as it was then)?"
            ) from None
        self._bus, self._url = bus, url
        return url

    async def spawn(self, specs: Sequence[ShardSpec], events: RegionEvents) -> list[ShardHandle]:
        """A handle per running agent; nothing is started."""
        self.events = events
        await self.broker()
        assert self._bus is not None
        agents = AgentHandles(self._bus, events, "containers")
        for spec in specs:
            (node,) = spec.configs
            agents.attach(spec.index, node)
        self.handles = agents.handles
        if not await agents.all_ready(self._ready_timeout_s):
            missing = agents.missing()
            raise docker.DockerError(
                f"{len(missing)} of {len(self.handles)} speakers of {self.project.file} are "
                f"not running: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''} "
                f"(`docker compose -p {self.project.project} -f {self.project.file} ps` says "
                "why)"
            )
        return list(self.handles)

    async def aclose(self) -> None:
        """Leave the broker; the containers are their owner's (module docstring)."""
        self.handles = []
        if self._bus is not None:
            await self._bus.aclose()
            self._bus = None
        self._url = None

    def status(self) -> dict[str, object]:
        return {
            "attached": str(self.project.file),
            "compose_project": self.project.project,
            "subnet": str(self.project.subnet),
            "containers": sum(1 for _ in self.topo.speakers()) + 1,  # and the broker
        }

    async def memory(self) -> dict[str, str]:
        """Memory used by each of the project's containers (``docker stats``)."""
        ids = docker.leftovers(self.topo.name, self.project.project)["container"]
        return docker.memory_by_container(ids)


__all__ = ["AttachedContainers", "GeneratedProject", "default_project", "read_project"]
