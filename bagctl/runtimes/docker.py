"""Docker, as the compose runtime uses it: which compose command exists, one compose
project's commands, and what a region left behind (found by label).

Only the docker CLI is used (no Python docker client): ``docker compose`` (v2) when
``docker compose version`` works, else Debian's ``docker-compose`` (v1). Every failure
raises ``DockerError`` naming the command and what it said.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import random
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .composefile import LABEL_NODE, LABEL_REGION

PROJECT_LABEL = "com.docker.compose.project"
KINDS = ("container", "network", "volume")
GONE_TIMEOUT_S = 30.0  # a removal: what is left then is reported
POLL_S = 0.5  # between looks at what docker is removing (it tells nothing when done)


class DockerError(RuntimeError):
    """Docker is missing, unreachable, or a docker command failed (the message says which)."""


def output_tail(text: str, lines: int = 8) -> str:
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())


def compose_command() -> tuple[str, ...]:
    """The compose command to use: ``docker compose`` (v2) if it works, else
    ``docker-compose`` (v1); DockerError if neither is installed."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return (docker, "compose")
    v1 = shutil.which("docker-compose")
    if v1 is not None:
        return (v1,)
    raise DockerError(
        "the compose runtime needs `docker compose` (v2) or `docker-compose` (v1), and "
        + ("neither works" if docker else "docker is not installed (no `docker` on PATH)")
    )


def docker(*args: str, check: bool = True) -> str:
    """Run ``docker ARGS``; its stdout, or DockerError with what it printed."""
    exe = shutil.which("docker")
    if exe is None:
        raise DockerError("docker is not installed (no `docker` on PATH)")
    proc = subprocess.run([exe, *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise DockerError(
            f"`docker {' '.join(args)}` failed: {output_tail(proc.stderr or proc.stdout)}"
        )
    return proc.stdout


def check_daemon() -> str:
    """The docker daemon's version, or DockerError saying it cannot be reached."""
    exe = shutil.which("docker")
    if exe is None:
        raise DockerError("docker is not installed (no `docker` on PATH)")
    proc = subprocess.run(
        [exe, "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise DockerError(f"cannot reach the docker daemon: {output_tail(proc.stderr)}")
    return proc.stdout.strip()


def image_exists(image: str) -> bool:
    return bool(docker("image", "ls", "--quiet", image).strip())


@dataclass(frozen=True, slots=True)
class ComposeProject:
    """One compose project: its file, its name, the compose command that runs it."""

    command: tuple[str, ...]
    name: str
    file: Path

    def argv(self, *args: str) -> list[str]:
        return [*self.command, "--project-name", self.name, "--file", str(self.file), *args]

    async def run(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run a compose subcommand to its end; its stdout, or DockerError."""
        proc = await asyncio.create_subprocess_exec(
            *self.argv(*args),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        try:
            out, err = await proc.communicate()
        except asyncio.CancelledError:
            # Stopped half-way (Ctrl-C during `up`): end the command before anything
            # else runs against the project (`down`, the label sweep).
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            await proc.wait()
            raise
        if proc.returncode != 0:
            raise DockerError(
                f"`{' '.join(self.argv(*args))}` failed ({proc.returncode}): "
                f"{output_tail(err.decode(errors='replace'))}"
            )
        return out.decode(errors="replace")


def _filters(region: str, project: str) -> list[str]:
    return [
        "--filter",
        f"label={LABEL_REGION}={region}",
        "--filter",
        f"label={PROJECT_LABEL}={project}",
    ]


def leftovers(region: str, project: str) -> dict[str, list[str]]:
    """Containers, networks and volumes that carry both the region's label and its
    compose project's (by id)."""
    f = _filters(region, project)
    return {
        "container": docker("ps", "--all", "--quiet", *f).split(),
        "network": docker("network", "ls", "--quiet", *f).split(),
        "volume": docker("volume", "ls", "--quiet", *f).split(),
    }


def container_names(region: str, project: str) -> list[str]:
    """The names of the project's containers: the names of their endpoints on its
    network, should docker keep one after the container goes (``remove_network``)."""
    return docker("ps", "--all", "--format", "{{.Names}}", *_filters(region, project)).split()


def remove_leftovers(region: str, project: str, endpoints: Sequence[str] = ()) -> dict[str, int]:
    """Remove what ``leftovers`` finds, containers first (they hold the network); how
    many of each kind were removed. ``endpoints``: names of containers the network held
    that may be gone already (taken before ``compose down``), for ``remove_network``.
    DockerError naming what stays after ``GONE_TIMEOUT_S``."""
    found = leftovers(region, project)
    names = [*endpoints, *container_names(region, project)]
    deadline = time.monotonic() + GONE_TIMEOUT_S
    if found["container"]:
        # A container that compose is removing at this moment refuses a second removal
        # ("already in progress"): what counts is that it goes.
        docker("rm", "--force", "--volumes", *found["container"], check=False)
        while remaining := docker("ps", "--all", "--quiet", *_filters(region, project)).split():
            if time.monotonic() > deadline:
                docker("rm", "--force", "--volumes", *remaining)  # DockerError says why
                break
            time.sleep(POLL_S)  # docker says nothing when a removal ends: polled
    for network in found["network"]:
        remove_network(network, names, deadline)
    if found["volume"]:
        docker("volume", "rm", "--force", *found["volume"])
    return {kind: len(ids) for kind, ids in found.items()}


def remove_network(network: str, endpoints: Sequence[str], deadline: float) -> None:
    """Remove ``network`` once its containers are gone. Docker 20.10 can keep the
    endpoint of a container it has removed, and then refuses with "has active endpoints"
    while listing no container (moby/moby#17217, #42119). Such an endpoint is deleted by
    the container's name (``network disconnect --force``): those in ``endpoints`` and
    those the network still lists, at least once. DockerError if it stays past
    ``deadline`` (``time.monotonic()``)."""
    named = list(endpoints)
    fmt = "{{range .Containers}}{{.Name}} {{end}}"
    deleted = False
    while True:
        try:
            docker("network", "rm", network)
            return
        except DockerError as exc:
            if not docker("network", "inspect", "--format", "{{.Id}}", network, check=False):
                return  # removed meanwhile (by compose)
            if "active endpoints" not in str(exc):
                raise
            if deleted and time.monotonic() > deadline:
                tried = ", ".join(named) or "none named"
                raise DockerError(f"{exc} (so after deleting these endpoints: {tried})") from None
        held = docker("network", "inspect", "--format", fmt, network, check=False).split()
        named = list(dict.fromkeys([*named, *held]))
        for name in named:
            docker("network", "disconnect", "--force", network, name, check=False)
        deleted = True
        time.sleep(POLL_S)  # an endpoint being deleted: polled, as docker says nothing


SUBNET_POOL = ipaddress.IPv4Network("172.16.0.0/12")  # where a run's network is chosen


def used_subnets() -> list[ipaddress.IPv4Network]:
    """Every IPv4 subnet a docker network on this host holds (any owner's)."""
    ids = docker("network", "ls", "--quiet").split()
    if not ids:
        return []
    fmt = "{{range .IPAM.Config}}{{.Subnet}} {{end}}"
    out = docker("network", "inspect", "--format", fmt, *ids)
    nets = []
    for text in out.split():
        with contextlib.suppress(ValueError):
            net = ipaddress.ip_network(text, strict=False)
            if isinstance(net, ipaddress.IPv4Network):
                nets.append(net)
    return nets


def free_subnet(
    addresses: int,
    rng: random.Random | None = None,
    avoid: Sequence[ipaddress.IPv4Network] = (),
) -> ipaddress.IPv4Network:
    """A subnet of ``SUBNET_POOL`` with room for ``addresses`` that no docker network on
    this host overlaps (nor any of ``avoid``), drawn at random among the free ones, so
    two runs choosing at the same moment rarely draw the same (if they do, docker refuses
    the second network and that run says so). DockerError if the pool is full."""
    length = min(24, 32 - max(2, (addresses - 1).bit_length()))  # a /24 at the least
    used = used_subnets() + list(avoid)
    pool = SUBNET_POOL.subnets(new_prefix=length)
    free = [n for n in pool if not any(n.overlaps(u) for u in used)]
    if not free:
        raise DockerError(f"no /{length} in {SUBNET_POOL} is free of docker networks: --subnet")
    return (rng or random.SystemRandom()).choice(free)


def exited(region: str, project: str) -> dict[str, str]:
    """Containers of the project that have stopped: node (its label) -> the last lines
    of its log."""
    out = docker(
        "ps",
        "--all",
        "--filter",
        "status=exited",
        *_filters(region, project),
        "--format",
        f'{{{{.ID}}}}\t{{{{.Label "{LABEL_NODE}"}}}}',
    )
    found: dict[str, str] = {}
    for line in out.splitlines():
        cid, _, node = line.partition("\t")
        proc = subprocess.run(
            ["docker", "logs", "--tail", "3", cid], capture_output=True, text=True, check=False
        )
        found[node or cid] = output_tail(proc.stdout + proc.stderr, 3)
    return found


def memory_by_container(ids: list[str]) -> dict[str, str]:
    """``docker stats --no-stream``: container name -> memory used, as docker prints it
    (``22.3MiB``)."""
    if not ids:
        return {}
    out = docker("stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", *ids)
    rows = (line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    return {name: usage.split(" / ")[0] for name, usage in rows}  # less the limit


__all__ = [
    "KINDS",
    "PROJECT_LABEL",
    "SUBNET_POOL",
    "ComposeProject",
    "DockerError",
    "check_daemon",
    "compose_command",
    "container_names",
    "docker",
    "exited",
    "free_subnet",
    "image_exists",
    "output_tail",
    "leftovers",
    "memory_by_container",
    "remove_leftovers",
    "remove_network",
]
