"""Docker Swarm, as the swarm runtime uses it: is this engine a manager, deploy a stack,
the broker's published port, tasks that failed, and what a stack left behind (found by
label).

Only the docker CLI is used, as in runtimes/docker.py; every failure raises
``DockerError`` naming the command and what it said. What is removed carries both the
region's label and the stack's namespace (``com.docker.stack.namespace``, which
``docker stack deploy`` puts on everything it makes): never another run's, never
another user's.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from .composefile import LABEL_REGION
from .docker import GONE_TIMEOUT_S, POLL_S, DockerError, docker, output_tail

STACK_LABEL = "com.docker.stack.namespace"
KINDS = ("service", "container", "network", "config", "secret")


def check_manager() -> None:
    """DockerError unless this engine is a manager of an active swarm."""
    out = docker("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
    state, _, manager = out.strip().partition(" ")
    if state != "active":
        raise DockerError(
            f"the swarm runtime needs Docker Swarm: this engine's swarm is {state or 'unknown'} "
            "(`docker swarm init` makes a one-node swarm)"
        )
    if manager != "true":
        raise DockerError("this engine is a swarm worker: run bagctl on a manager node")


async def deploy(stack: str, path: Path) -> None:
    """``docker stack deploy`` of the stack file ``path`` (its relative paths resolved
    from its own directory); the image is never looked up in a registry."""
    argv = ["docker", "stack", "deploy", "--compose-file", path.name]
    argv += ["--resolve-image", "never", stack]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=path.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ},
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        text = err.decode(errors="replace") or out.decode(errors="replace")
        hint = " (choose another --subnet)" if "overlap" in text else ""
        raise DockerError(f"`{' '.join(argv)}` failed: {output_tail(text)}{hint}")


async def published_port(service: str, timeout_s: float) -> int:
    """The port published on its node (``mode: host``, the swarm picks it) by the
    running task of ``service``."""
    deadline = time.monotonic() + timeout_s
    while True:
        tasks = await asyncio.to_thread(
            docker, "service", "ps", "--quiet", "--filter", "desired-state=running", service
        )
        for task in tasks.split():
            out = await asyncio.to_thread(
                docker, "inspect", "--format", "{{json .Status.PortStatus.Ports}}", task
            )
            for port in json.loads(out.strip() or "null") or []:
                if port.get("PublishedPort"):
                    return int(port["PublishedPort"])
        if time.monotonic() > deadline:
            raise DockerError(f"service {service} has no published port after {timeout_s:g} s")
        await asyncio.sleep(POLL_S)  # the swarm publishes when it schedules: no event


def log_tail(service: str, lines: int = 3) -> str:
    """The last lines a service's tasks logged (for an error that names it)."""
    out = docker("service", "logs", "--raw", "--tail", str(lines), service, check=False)
    return output_tail(out, lines) or "(nothing logged)"


def check_host_labels(hosts: int) -> None:
    """DockerError unless nodes carry ``bagemu.host`` = 0 .. ``hosts`` - 1 (where
    ``--hosts`` places the shards), naming the missing ones and the command."""
    ids = docker("node", "ls", "--quiet").split()
    fmt = '{{index .Spec.Labels "bagemu.host"}}'
    found = set(docker("node", "inspect", "--format", fmt, *ids).split()) if ids else set()
    missing = [str(i) for i in range(hosts) if str(i) not in found]
    if missing:
        raise DockerError(
            f"--hosts {hosts}: no swarm node labelled bagemu.host={', '.join(missing)} "
            "(`docker node update --label-add bagemu.host=N NODE` for each host)"
        )


def node_id() -> str:
    """This engine's node in the swarm (where ``bagctl up`` pins the broker)."""
    return docker("info", "--format", "{{.Swarm.NodeID}}").strip()


def failed_tasks(stack: str) -> dict[str, str]:
    """Tasks of ``stack`` that failed, were rejected or ended, and that the swarm has not
    replaced: name -> why."""
    out = docker(
        "stack",
        "ps",
        "--no-trunc",
        "--format",
        "{{.Name}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}",
        stack,
        check=False,
    )
    return ended_tasks(out)


def ended_tasks(listing: str) -> dict[str, str]:
    """``failed_tasks`` of a ``docker stack ps`` listing (name, desired state, current
    state, error; a task's earlier attempts carry its name too). A task that ended while
    the swarm wants another attempt of it (desired Ready or Running) is not reported: the
    broker's restart policy starts it again when it fails, and the engine can fail a
    start before any of our code runs (a busy remount of the stack's secret did). The
    shards are never restarted, so a shard's failed attempt has no successor and is."""
    rows = [[*line.split("\t", 3), "", "", ""][:4] for line in listing.splitlines()]
    again = {name for name, desired, _, _ in rows if desired in ("Ready", "Running")}
    found: dict[str, str] = {}
    for name, _, state, error in rows:
        if name not in again and state.startswith(("Failed", "Rejected", "Complete")):
            found[name] = f"{state.split(' ')[0].lower()}: {error or 'no error given'}"
    return found


def _filters(region: str, stack: str) -> list[str]:
    return [
        "--filter",
        f"label={LABEL_REGION}={region}",
        "--filter",
        f"label={STACK_LABEL}={stack}",
    ]


def leftovers(region: str, stack: str) -> dict[str, list[str]]:
    """What carries both the region's label and the stack's namespace, by kind (ids).
    An engine outside a swarm has no services, configs or secrets to list."""
    f = _filters(region, stack)
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    found["container"] = docker("ps", "--all", "--quiet", *f).split()
    found["network"] = docker("network", "ls", "--quiet", *f).split()
    for kind in ("service", "config", "secret"):
        found[kind] = docker(kind, "ls", "--quiet", *f, check=False).split()
    return found


def remove_leftovers(region: str, stack: str, run_id: str | None = None) -> dict[str, int]:
    """Remove what ``leftovers`` finds: the services first, then their containers once
    stopped (forced after ``GONE_TIMEOUT_S``), then the network, config and secret; how
    many of each kind were removed. ``run_id`` is for the message only."""
    found = leftovers(region, stack)
    if found["service"]:
        docker("service", "rm", *found["service"])
    deadline = time.monotonic() + GONE_TIMEOUT_S
    containers = found["container"]
    while docker("ps", "--all", "--quiet", *_filters(region, stack)).split():
        if time.monotonic() > deadline:
            ids = docker("ps", "--all", "--quiet", *_filters(region, stack)).split()
            docker("rm", "--force", *ids, check=False)
            break
        time.sleep(POLL_S)  # the swarm stops tasks in its own time: no event here
    removed = {"service": len(found["service"]), "container": len(containers)}
    for kind in ("network", "config", "secret"):
        if found[kind]:
            _remove_retrying(kind, found[kind], run_id)
        removed[kind] = len(found[kind])
    return removed


def _remove_retrying(kind: str, ids: list[str], run_id: str | None) -> None:
    """A network is busy for a moment after its last task goes: asked again until
    ``GONE_TIMEOUT_S``."""
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while True:
        try:
            docker(kind, "rm", *ids)
            return
        except DockerError as exc:
            remaining = docker(kind, "ls", "--quiet", "--filter", f"id={ids[0]}", check=False)
            if not remaining.strip() and len(ids) == 1:
                return
            if time.monotonic() > deadline:
                run = f" of run {run_id}" if run_id else ""
                raise DockerError(f"could not remove the {kind}{run}: {exc}") from None
        time.sleep(POLL_S)


__all__ = [
    "KINDS",
    "check_host_labels",
    "STACK_LABEL",
    "check_manager",
    "deploy",
    "ended_tasks",
    "failed_tasks",
    "leftovers",
    "log_tail",
    "node_id",
    "published_port",
    "remove_leftovers",
]
