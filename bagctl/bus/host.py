"""Host a region on the bus: the region, its broker (embedded unless one is given) and a
``BusServer`` in one process, plus the state file other ``bagctl`` commands find it by
(``serve_region``); or only until it has converged, with no bus (``cold_start``).

State directory (``--state-dir``, else ``$BAGEMU_STATE_DIR``, else
``~/.local/state/bagemu``), per region ``NAME``:

- ``NAME.json``: region, pid, broker URL, log paths, the topology's copy (mode 0600:
  the URL may hold a password); written once the region has converged, removed when it
  stops
- ``NAME.topology.yaml``: the topology the region runs, as ``dump.py`` writes it (one
  node or bundle per line): what shell completion reads node names and bundles from
  (``bagctl/cli/complete.py``) without asking the region; removed with ``NAME.json``
- ``NAME.lock``: held (``flock``) by the process serving the region for its whole life,
  so a second ``up`` of the same region fails at once, and a crash frees it
- ``NAME.log``: the process's stderr when detached; ``NAME.events.jsonl``: the event log
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..interrupts import SIGNALS, Interrupted
from ..mqtt.broker import BrokerUrl, EmbeddedBroker
from ..mqtt.topics import check_name
from ..runtimes import ConvergenceReport, Region, get_runtime
from ..topology.model import Topology
from .server import BusServer


def default_state_dir() -> Path:
    env = os.environ.get("BAGEMU_STATE_DIR")
    if env:
        return Path(env)
    return Path.home() / ".local" / "state" / "bagemu"


def pid_alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie (a detached region's parent may not reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


class AlreadyRunning(Exception):
    pass


class StateDir:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_state_dir()

    def file(self, region: str, suffix: str) -> Path:
        return self.path / f"{check_name('region', region)}{suffix}"

    def read(self, region: str) -> dict[str, Any] | None:
        try:
            state = json.loads(self.file(region, ".json").read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def regions(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name[: -len(".json")] for p in self.path.glob("*.json"))

    def write(self, state: dict[str, Any]) -> Path:
        path = self.file(str(state["region"]), ".json")
        tmp = path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=2)
        tmp.replace(path)
        return path

    def remove(self, region: str) -> None:
        """The region's state and topology copy: what says it runs (the logs stay)."""
        for suffix in (".json", ".topology.yaml"):
            with contextlib.suppress(FileNotFoundError):
                self.file(region, suffix).unlink()

    def write_topology(self, topo: Topology) -> Path:
        """The running region's topology as ``NAME.topology.yaml`` (0.3 s and 4 MB for
        prometheus), for whatever needs its names without asking the region. Mode 0600
        as the state file: a topology may hold TCP-MD5 keys."""
        from ..topology.dump import dump_topology

        path = self.file(topo.name, ".topology.yaml")
        tmp = path.with_suffix(".yaml.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(dump_topology(topo))
        tmp.replace(path)
        return path.absolute()  # read from any directory (a relative --state-dir)

    def lock(self, region: str) -> int:
        """Hold the region's lock (an fd, released when the process ends), or raise
        ``AlreadyRunning`` naming the process that holds it."""
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.file(region, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            state = self.read(region) or {}
            raise AlreadyRunning(
                f"region {region} is already running (pid {state.get('pid', '?')}, state in "
                f"{self.path}); stop it with `bagctl down --region {region}`"
            ) from None
        return fd


async def cold_start(
    topo: Topology,
    *,
    runtime: str = "embedded",
    on_ready: Callable[[ConvergenceReport], None] | None = None,
    **options: Any,
) -> ConvergenceReport:
    """Start ``topo`` on ``runtime``, wait for cold-start convergence, stop it; the report.
    ``on_ready`` has it while the region still runs: stopping a large region (worker
    processes, containers) takes a while, and the report need not wait for that."""
    factory = get_runtime(runtime)
    region = factory(topo, **options)
    try:
        report = await region.start()
        if on_ready is not None:
            on_ready(report)
        return report
    finally:
        await region.aclose()


async def serve_region(
    topo: Topology,
    *,
    state_dir: StateDir,
    broker: str | None = None,
    runtime: str = "embedded",
    on_ready: Callable[[dict[str, Any]], None] | None = None,
    factory: Callable[..., Region] | None = None,
    **options: Any,
) -> None:
    """Run ``topo`` on the bus until a ``shutdown`` command, SIGTERM or SIGINT (then
    ``Interrupted``, once everything is torn down: bagctl/interrupts.py). Without
    ``broker``, the bus runs on the runtime's own broker if it has one (``broker()``: the
    compose runtime's mosquitto), else on an embedded one. ``factory`` builds the region
    instead of ``runtime``'s (which then only names it: ``bagctl compose attach``)."""
    region_name = check_name("region", topo.name)
    url = BrokerUrl.parse(broker) if broker else None  # fail before anything starts
    factory = factory or get_runtime(runtime)
    lock = state_dir.lock(region_name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signalled: list[int] = []  # the signal that stopped it (then: ``Interrupted``)

    def on_signal(signum: int) -> None:
        signalled.append(signum)
        stop.set()

    for sig in SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    embedded: EmbeddedBroker | None = None
    region: Region | None = None
    try:
        region = factory(topo, **options)
        if url is None:
            url = await region.broker()
        if url is None:
            embedded = EmbeddedBroker()
            url = await embedded.start()
        info = {"pid": os.getpid(), "broker": url.redacted(), "runtime": runtime}
        events = state_dir.file(region_name, ".events.jsonl")
        async with BusServer(region, url, events, info=info) as server:
            start = asyncio.create_task(region.start())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({start, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not start.done():
                start.cancel()
                return
            stopping.cancel()
            report = start.result()
            server.started(report)
            placed = region.placement.status()
            state: dict[str, object] = {
                "region": region_name,
                "pid": os.getpid(),
                "broker": str(url),
                "runtime": runtime,
                # a compose run's own project: what `bagctl down` may remove, and only it
                **({"project": placed["project"]} if "project" in placed else {}),
                # an attached region's containers are not ours: `down` says they stay
                **({k: placed[k] for k in ("attached", "compose_project") if k in placed}),
                "log": str(state_dir.file(region_name, ".log")),
                "events": str(events),
                "topology": str(state_dir.write_topology(topo)),
                "started_at": time.time(),
            }
            state_dir.write(state)
            if on_ready is not None:
                on_ready({**state, "broker": url.redacted(), "report": report.as_dict()})
            stopping = asyncio.create_task(stop.wait())
            done = asyncio.create_task(server.stopped())
            await asyncio.wait({stopping, done}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            done.cancel()
    finally:
        state_dir.remove(region_name)
        if region is not None:
            await region.aclose()
        if embedded is not None:
            await embedded.stop()
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
        os.close(lock)
    if signalled:
        raise Interrupted(signalled[0])  # cleaned up; the exit status must still say so


__all__ = [
    "AlreadyRunning",
    "StateDir",
    "cold_start",
    "default_state_dir",
    "pid_alive",
    "serve_region",
]
