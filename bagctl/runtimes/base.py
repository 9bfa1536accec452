"""The runtimes a region can run on, by ``--runtime`` name (containerlab's runtime/ in
miniature): each is a way to place the shards of one ``Region`` (runtimes/region.py).

- ``embedded``: every speaker in this process (``workers=1``), or sharded over worker
  processes (``workers`` > 1; 0 means one per usable CPU core; ``bagctl up --workers
  auto`` chooses the count before it gets here: workercount.py)
- ``compose``: one docker container per speaker, driven over the region's own MQTT broker
- ``swarm``: one Docker Swarm service per shard (``workers`` shards, 2 when 1 is given),
  a whole shard of speakers in each task, over the region's own (authenticated) broker

Each factory takes the topology and the runtime's options and returns a ``Region`` that
has not started; options a runtime cannot honour are refused, by name. Every runtime
runs on the region's emulated clock by default (``clock="region"``; ``pace`` ``fast``
for tests and scenarios, ``live`` for ``bagctl up``), or on the host's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..topology.configs import DEFAULT_PORT
from ..topology.model import Topology
from .composefile import DEFAULT_IMAGE
from .progress import RegionProgress
from .region import Region
from .workercount import usable_cores

if TYPE_CHECKING:
    from .composeattach import GeneratedProject


def embedded(
    topo: Topology,
    *,
    workers: int = 1,
    transport: str = "tcp",
    port: int | None = None,
    seed: int = 1,
    on_progress: Callable[[RegionProgress], None] | None = None,
    clock: str = "region",
    pace: str = "fast",
) -> Region:
    """One process, or ``workers`` worker processes (module docstring)."""
    from .local import InProcess
    from .process import WorkerProcesses

    if workers == 0:
        workers = usable_cores()
    if workers < 0:
        raise ValueError(f"workers must be 0 (one per core) or more, not {workers}")
    placement = WorkerProcesses(workers) if workers > 1 else InProcess()
    return Region(
        topo,
        placement=placement,
        transport=transport,
        port=port,
        seed=seed,
        on_progress=on_progress,
        clock=clock,
        pace=pace,
    )


def compose(
    topo: Topology,
    *,
    workers: int = 1,
    transport: str = "tcp",
    port: int | None = None,
    seed: int = 1,
    on_progress: Callable[[RegionProgress], None] | None = None,
    subnet: str | None = None,
    image: str = DEFAULT_IMAGE,
    mqtt_port: int | None = None,
    clock: str = "region",
    pace: str = "fast",
) -> Region:
    """One docker container per speaker (runtimes/compose.py)."""
    from .compose import Containers

    if transport != "tcp":
        raise ValueError(
            f"transport {transport!r}: the compose runtime runs every session over TCP "
            "between containers"
        )
    if workers != 1:
        raise ValueError(f"workers {workers}: the compose runtime runs one container per speaker")
    port = DEFAULT_PORT if port is None else port  # each container has its own addresses
    placement = Containers(
        topo, port=port, subnet=subnet, image=image, mqtt_port=mqtt_port, clock=clock
    )
    return Region(
        topo,
        placement=placement,
        transport="tcp",
        port=port,
        seed=seed,
        on_progress=on_progress,
        clock=clock,
        pace=pace,
    )


def swarm(
    topo: Topology,
    *,
    workers: int = 2,
    transport: str = "tcp",
    port: int | None = None,
    seed: int = 1,
    on_progress: Callable[[RegionProgress], None] | None = None,
    subnet: str | None = None,
    image: str = DEFAULT_IMAGE,
    hosts: int | None = None,
    memory_per_host_gb: float | None = None,
    clock: str = "region",
    pace: str = "fast",
) -> Region:
    """A Swarm service per shard (runtimes/swarm.py): ``workers`` shards (0: one per
    CPU core; 1, the CLI's default, means the runtime's own default of 2); ``hosts``:
    placed on the nodes labelled ``bagemu.host`` as ``bagctl swarm plan`` says."""
    from .swarm import SwarmShards

    if workers < 0:
        raise ValueError(f"workers must be 0 (one per core) or more, not {workers}")
    shards = (os.cpu_count() or 1) if workers == 0 else max(workers, 2)
    port = DEFAULT_PORT if port is None else port  # the speakers' addresses are the run's own
    placement = SwarmShards(
        topo,
        shards=shards,
        port=port,
        subnet=subnet,
        image=image,
        transport=transport,
        seed=seed,
        clock=clock,
        hosts=hosts,
        memory_per_host_gb=memory_per_host_gb,
    )
    return Region(
        topo,
        placement=placement,
        transport=transport,
        port=port,
        seed=seed,
        on_progress=on_progress,
        clock=clock,
        pace=pace,
    )


def compose_attached(
    topo: Topology,
    *,
    project: GeneratedProject,
    seed: int = 1,
    on_progress: Callable[[RegionProgress], None] | None = None,
) -> Region:
    """The containers of a compose project already running (``docker compose up`` of a
    generated file: runtimes/composeattach.py): their agents run on the host's clock."""
    from .composeattach import AttachedContainers

    return Region(
        topo,
        placement=AttachedContainers(topo, project),
        transport="tcp",
        port=project.port,
        seed=seed,
        on_progress=on_progress,
        clock="host",
    )


RUNTIMES: dict[str, Callable[..., Region]] = {
    "embedded": embedded,
    "compose": compose,
    "swarm": swarm,
}


def get_runtime(name: str) -> Callable[..., Region]:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise ValueError(
            f"unknown runtime {name!r} (runtimes: {', '.join(sorted(RUNTIMES))})"
        ) from None


__all__ = ["RUNTIMES", "compose", "compose_attached", "embedded", "get_runtime", "swarm"]
