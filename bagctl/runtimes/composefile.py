"""A region as a docker compose file: one container per BGP speaker, and the region's
MQTT broker (mosquitto), on one network with a fixed subnet.

Pure: a ``Topology`` and ``ComposeOptions`` in, a compose document (and its YAML text)
out; nothing here runs docker (runtimes/docker.py does). The file is compose format 2.4,
which Debian's ``docker-compose`` 1.29 and ``docker compose`` v2 both accept (v2 ignores
``version``).

- **Speakers**: a service per node that speaks BGP, named after the node (FDSW nodes
  carry no BGP: no container). Each runs ``python -m bagctl.runtimes.agent`` with the
  topology file mounted read-only and its node name: the agent builds the same
  ``speakers.Speaker`` configuration every runtime builds (``topology.configs.speaker_configs``),
  with its container address in place of a loopback, and brings its speaker up by itself,
  so a bare ``docker compose up`` yields a working region. ``cap_add: NET_ADMIN`` lets the
  agent make a failed link real (``ip route``); the healthcheck is the file the agent
  keeps while every session it expects is Established.
- **Broker**: the ``mosquitto`` service, from the same image, on 1883 inside the region's
  network (the agents), published on 127.0.0.1 only, at ``$BAGEMU_MQTT_PORT`` (``bagctl
  up`` picks a free port) or the generated default. Anonymous clients are refused: the
  password is a file beside the compose file (mode 0600, made once by ``bagctl compose
  generate``; ``bagctl up`` makes one per run), mounted read-only where a Docker secret
  would be, for the broker and every agent (user ``bagemu``). A port on 127.0.0.1 is
  still open to every local user.
- **Addresses**: ``addresses.container_addresses`` (node i of the file at host 16 + i,
  the broker at host 2), each pinned with ``ipv4_address``.
- **Labels**: ``bagemu.region``, ``bagemu.node``, ``bagemu.role`` on every service (so on
  its containers), ``bagemu.region`` on the network: ``bagctl down`` removes what carries
  the region's label and compose project, and nothing else.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from ..topology.addresses import broker_address, container_addresses
from ..topology.configs import DEFAULT_PORT
from ..topology.model import Topology

FORMAT_VERSION = "2.4"
DEFAULT_IMAGE = "bagemu-speaker:latest"
DEFAULT_SUBNET = ipaddress.IPv4Network("172.31.0.0/16")
DEFAULT_MQTT_PORT = 11883  # on 127.0.0.1, when $BAGEMU_MQTT_PORT is not set
MQTT_PORT_VARIABLE = "BAGEMU_MQTT_PORT"
BROKER_SERVICE = "mosquitto"
BROKER_PORT = 1883  # inside the region's network
NETWORK = "region"
TOPOLOGY_IN_CONTAINER = "/etc/bagemu/topology.yaml"
STATUS_DIR = "/run/bagemu"  # the agent's status.json, and ``established`` (healthcheck)
LABEL_REGION, LABEL_NODE, LABEL_ROLE = "bagemu.region", "bagemu.node", "bagemu.role"
LABEL_RUN = "bagemu.run"  # the run that made it (``bagctl up``): teardown removes only its own
SERVICE_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
BROKER_USER = "bagemu"
PASSWORD_SECRET = "broker_password"
PASSWORD_IN_CONTAINER = f"/run/secrets/{PASSWORD_SECRET}"  # a secret (swarm) or a mount
AGENT_UID = 10001  # the image's user ``bagemu`` (Dockerfile): agents never run as root
PASSWORD_FD = 3
# What a speaker's container may do: its launcher (``unprivileged``) needs SETUID,
# SETGID and SETPCAP to become the agent's user with NET_ADMIN alone; nothing else.
AGENT_CAPABILITIES = ["NET_ADMIN", "SETUID", "SETGID", "SETPCAP"]
BROKER_CAPABILITIES = ["SETUID", "SETGID"]


@dataclass(frozen=True, slots=True)
class ComposeOptions:
    """What a compose file needs besides the topology. Paths are as the file names them:
    relative to its own directory (compose resolves them so)."""

    topology_path: str  # the topology file, mounted read-only into every speaker
    subnet: ipaddress.IPv4Network = DEFAULT_SUBNET
    port: int = DEFAULT_PORT  # BGP, inside each container
    image: str = DEFAULT_IMAGE
    build_context: str | None = None  # a ``build`` section (the Dockerfile's directory)
    mqtt_port: int = DEFAULT_MQTT_PORT
    # The speakers' time: the host's for a file run by itself (``docker compose up``:
    # nobody would move a region's clock), the region's when ``bagctl up`` runs it.
    clock: str = "host"
    run_id: str | None = None  # ``bagctl up``'s run: on every label, in the project's name
    password_path: str = "./broker-password"  # the broker's password, mounted read-only


def project_name(region: str, run_id: str | None = None) -> str:
    """The compose project of a region: ``bagemu-<region>`` for a generated file,
    ``bagemu-<region>-<run>`` for a run of ``bagctl up``, so two runs of one region
    never share a project. Compose lower-cases project names and keeps only
    ``[a-z0-9_-]``, so the name is made so from the start."""
    name = "bagemu-" + re.sub(r"[^a-z0-9_-]", "", region.lower())
    return name if run_id is None else f"{name}-{run_id}"


def broker_url(subnet: ipaddress.IPv4Network) -> str:
    """The broker as the agents reach it, inside the region's network."""
    return f"mqtt://{BROKER_USER}@{broker_address(subnet)}:{BROKER_PORT}"


def unprivileged(args: dict[str, str]) -> list[str]:
    """The agent (runtimes/agent.py, with ``args``) as user ``AGENT_UID`` holding only
    CAP_NET_ADMIN (its ``ip`` commands: addresses, link faults): the container starts as
    root only to open the broker's password (0600, root's) on descriptor ``PASSWORD_FD``,
    then util-linux's ``setpriv`` changes user and keeps NET_ADMIN as an ambient
    capability, every other one dropped, with no way back (no_new_privs)."""
    agent = ["python", "-m", "bagctl.runtimes.agent"]
    agent += [x for kv in args.items() for x in kv]
    agent += ["--broker-password-fd", str(PASSWORD_FD)]
    caps = "-all,+net_admin"
    setpriv = [
        "setpriv", f"--reuid={AGENT_UID}", f"--regid={AGENT_UID}", "--clear-groups",
        f"--inh-caps={caps}", f"--ambient-caps={caps}", f"--bounding-set={caps}",
        "--no-new-privs",
    ]  # fmt: skip
    script = f"exec {PASSWORD_FD}< {PASSWORD_IN_CONTAINER} && exec {shlex.join(setpriv + agent)}"
    return ["sh", "-c", script]


def agent_command(node: str, options: ComposeOptions) -> list[str]:
    """How a speaker's container starts its agent (runtimes/agent.py): unprivileged."""
    return unprivileged(
        {
            "--topology": TOPOLOGY_IN_CONTAINER,
            "--node": node,
            "--subnet": str(options.subnet),
            "--port": str(options.port),
            "--broker": broker_url(options.subnet),
            "--clock": options.clock,
        }
    )


def broker_command(escape: bool = False) -> list[str]:
    """mosquitto with the password mounted at ``PASSWORD_IN_CONTAINER``, no anonymous
    clients, TCP_NODELAY. ``escape``: ``$`` doubled, as compose and stack files need
    (their loaders interpolate variables)."""
    dollar = "$$" if escape else "$"
    conf = (
        f"listener {BROKER_PORT}\\npassword_file /tmp/passwd\\nallow_anonymous false\\n"
        "set_tcp_nodelay true\\n"
    )
    script = (
        f"mosquitto_passwd -c -b /tmp/passwd {BROKER_USER} "
        f'"{dollar}(cat {PASSWORD_IN_CONTAINER})"'
        f" && printf '{conf}' > /tmp/mosquitto.conf && exec mosquitto -c /tmp/mosquitto.conf"
    )
    return ["sh", "-c", script]


def _check(topo: Topology, options: ComposeOptions) -> None:
    for node in topo.speakers():
        if not SERVICE_RE.fullmatch(node.name):
            raise ValueError(
                f"node {node.name!r} cannot be a compose service name (letters, digits, "
                "'_', '.', '-', starting with a letter or digit)"
            )
        if node.name == BROKER_SERVICE:
            raise ValueError(f"node {node.name!r} has the name of the broker's service")
    if not 0 < options.port < 65536:
        raise ValueError(f"BGP port {options.port}: not a TCP port")
    if not 0 < options.mqtt_port < 65536:
        raise ValueError(f"MQTT port {options.mqtt_port}: not a TCP port")


def compose_document(topo: Topology, options: ComposeOptions) -> dict[str, Any]:
    """The compose file of ``topo`` as a mapping (module docstring)."""
    _check(topo, options)
    addresses = container_addresses(topo, options.subnet)
    region = topo.name
    run = {} if options.run_id is None else {LABEL_RUN: options.run_id}
    broker: dict[str, Any] = {"image": options.image}
    if options.build_context is not None:
        broker["build"] = {"context": options.build_context}
    password = f"{options.password_path}:{PASSWORD_IN_CONTAINER}:ro"
    broker |= {
        "command": broker_command(escape=True),
        "volumes": [password],
        "labels": {LABEL_REGION: region, LABEL_NODE: BROKER_SERVICE, LABEL_ROLE: "broker"} | run,
        "ports": [f"127.0.0.1:${{{MQTT_PORT_VARIABLE}:-{options.mqtt_port}}}:{BROKER_PORT}"],
        # mosquitto started as root drops to its own user: that is all it needs
        "cap_drop": ["ALL"],
        "cap_add": list(BROKER_CAPABILITIES),
        "networks": {NETWORK: {"ipv4_address": str(broker_address(options.subnet))}},
        "stop_grace_period": "2s",
    }
    services: dict[str, Any] = {BROKER_SERVICE: broker}
    for node in topo.speakers():
        services[node.name] = {
            "image": options.image,
            "command": agent_command(node.name, options),
            "hostname": node.name,
            "labels": {LABEL_REGION: region, LABEL_NODE: node.name, LABEL_ROLE: node.role.value}
            | run,
            "cap_drop": ["ALL"],
            "cap_add": list(AGENT_CAPABILITIES),
            "depends_on": [BROKER_SERVICE],
            "volumes": [f"{options.topology_path}:{TOPOLOGY_IN_CONTAINER}:ro", password],
            "networks": {NETWORK: {"ipv4_address": str(addresses[node.name])}},
            "healthcheck": {
                "test": ["CMD", "test", "-f", f"{STATUS_DIR}/established"],
                "interval": "5s",
                "timeout": "3s",
                "retries": 3,
                "start_period": "10s",
            },
            "stop_grace_period": "5s",
        }
    return {
        "version": FORMAT_VERSION,
        "services": services,
        "networks": {
            NETWORK: {
                "labels": {LABEL_REGION: region} | run,
                "ipam": {"config": [{"subnet": str(options.subnet)}]},
            }
        },
    }


class FlowListDumper(yaml.SafeDumper):
    """Lists of plain values on one line (commands, capabilities), the rest in blocks."""

    def represent_list(self, data: list[Any]) -> yaml.Node:  # type: ignore[override]
        flow = all(isinstance(v, str | int) for v in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


FlowListDumper.add_representer(list, FlowListDumper.represent_list)


def render(topo: Topology, options: ComposeOptions) -> str:
    """The compose file as YAML, with a header saying where it comes from."""
    speakers = sum(1 for _ in topo.speakers())
    header = [
        f"# bagemu region {topo.name}: {speakers} BGP speakers, one container each, and the",
        f"# region's MQTT broker. Made by `bagctl compose generate` from {options.topology_path}:",
        "# regenerate it, do not edit it.",
        f"#   docker compose up -d    # the broker on 127.0.0.1:${MQTT_PORT_VARIABLE} "
        f"(default {options.mqtt_port})",
        "#   bagctl compose attach THIS_FILE    # control it: status, link, verify ...",
        "#   bagctl up --runtime compose TOPOLOGY    # or all of it in one command",
        f"# The broker admits user {BROKER_USER} with the password in {options.password_path}",
        "# (bagctl compose generate makes it, mode 0600; never commit it).",
    ]
    body = yaml.dump(
        compose_document(topo, options), Dumper=FlowListDumper, sort_keys=False, width=1000
    )
    return "\n".join(header) + "\n" + body


def summary(topo: Topology, options: ComposeOptions) -> dict[str, Any]:
    """What ``bagctl compose generate --json`` reports."""
    addresses = container_addresses(topo, options.subnet)
    return {
        "region": topo.name,
        "project": project_name(topo.name),
        "speakers": sum(1 for _ in topo.speakers()),
        "services": 1 + sum(1 for _ in topo.speakers()),
        "skipped": sorted(n.name for n in topo.nodes if not n.role.speaks_bgp),
        "subnet": str(options.subnet),
        "broker": {
            "service": BROKER_SERVICE,
            "address": str(broker_address(options.subnet)),
            "published": f"127.0.0.1:{options.mqtt_port}",
        },
        "image": options.image,
        "addresses": {n.name: str(addresses[n.name]) for n in topo.speakers()},
    }


__all__ = [
    "BROKER_SERVICE",
    "BROKER_USER",
    "DEFAULT_IMAGE",
    "DEFAULT_MQTT_PORT",
    "DEFAULT_SUBNET",
    "FlowListDumper",
    "LABEL_NODE",
    "LABEL_REGION",
    "LABEL_ROLE",
    "LABEL_RUN",
    "MQTT_PORT_VARIABLE",
    "PASSWORD_IN_CONTAINER",
    "PASSWORD_SECRET",
    "STATUS_DIR",
    "ComposeOptions",
    "broker_command",
    "broker_url",
    "compose_document",
    "project_name",
    "render",
    "summary",
]
