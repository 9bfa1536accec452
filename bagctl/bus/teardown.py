"""Stop a running region and remove what it leaves behind (``bagctl down``).

The region's own process tears it down (speakers, bus server, embedded broker; a compose
region's containers, network and volumes), so it is asked first, over the bus
(``shutdown``); if the bus does not answer it gets SIGTERM, and SIGKILL if it outlives the
timeout. Then its state file goes. Whatever a compose region still has afterwards (its
process was killed, or had died: then there was no process to ask) is found by the
region's label and the compose project its state file names, that run's own
(runtimes/compose.py), and removed here. Nothing else is ever touched: no state file,
nothing removed, even if containers of a region of that name run (another job's, or
another user's); docker is reached only through ``ComposeLeftovers``, so the decisions
can be tested without it.

Errors are ``BusError``, as for any command against a region: the one ``resolve`` raised
when there is nothing to stop, ``not-running`` naming the regions when several are
recorded and none was named. What docker would not remove is not an error of stopping:
the region is stopped, and ``Stopped.not_removed`` says what stays and why.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .host import StateDir, pid_alive
from .payloads import BusError
from .target import Target, request, resolve

SHUTDOWN_REPLY_TIMEOUT_S = 10.0  # at most: past that the region gets SIGTERM
KILL_WAIT_S = 5.0  # after SIGKILL, how long to wait for the process to be gone


class StopMethod(enum.StrEnum):
    """How the region was stopped; the value starts ``Stopped.stopped_by``."""

    SHUTDOWN_COMMAND = "shutdown command"
    SIGTERM = "SIGTERM"  # the shutdown command failed (``Stopped.shutdown_error`` says how)
    LEFTOVERS = "removing what its compose project left (its process had died)"


def removed_text(removed: Mapping[str, int]) -> str:
    """``10 containers, 1 network``: what was removed, by kind."""
    return ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in removed.items() if n)


@dataclass(frozen=True, slots=True)
class Stopped:
    """A region that is no longer running, and how it got so."""

    region: str
    pid: int | None  # None: found by --broker, or its process had died
    method: StopMethod
    removed: Mapping[str, int]  # compose leftovers removed, by kind ("container": 10)
    shutdown_error: str | None = None  # SIGTERM: why the shutdown command failed
    killed: bool = False  # it outlived the timeout after SIGTERM or shutdown: SIGKILL
    not_removed: str | None = None  # what docker would not remove, and what it said
    # An attached region (bagctl compose attach): the compose file and project whose
    # containers keep running, as they are not this run's to remove.
    kept: Mapping[str, str] | None = None

    @property
    def stopped_by(self) -> str:
        """The method in words, with each step that followed (``--json``'s ``stopped_by``)."""
        if self.method is StopMethod.LEFTOVERS:
            return self.method.value
        how = self.method.value
        if self.method is StopMethod.SIGTERM:
            how += f" ({self.shutdown_error})"
        if self.killed:
            how += ", then SIGKILL"
        if self.removed:
            how += f", then removed what its compose project left ({removed_text(self.removed)})"
        return how

    def as_dict(self) -> dict[str, object]:
        return {
            "region": self.region,
            "pid": self.pid,
            **({"kept": dict(self.kept)} if self.kept else {}),
            "stopped_by": self.stopped_by,
            "removed": dict(self.removed),
            **({"not_removed": self.not_removed} if self.not_removed else {}),
        }


class LeftoversError(RuntimeError):
    """Something of the run's that docker would not remove (the message says what);
    ``removed``: what was removed, by kind, as ``ComposeLeftovers.remove`` returns it."""

    def __init__(self, message: str, removed: Mapping[str, int]) -> None:
        super().__init__(message)
        self.removed = dict(removed)


class ComposeLeftovers(Protocol):
    """What a compose run left on this machine, and removing it."""

    def remove(self, region: str, project: str) -> dict[str, int]:
        """Remove what carries the region's label and the run's ``project``; how many of
        each kind (kinds with none are left out). ``LeftoversError`` if some stays."""
        ...


class DockerLeftovers:
    """``ComposeLeftovers`` from docker, by label and compose project or swarm stack.
    Without docker or without a daemon nothing of ours runs there: nothing removed."""

    def remove(self, region: str, project: str) -> dict[str, int]:
        if shutil.which("docker") is None:
            return {}
        from ..runtimes import docker, swarmdocker

        try:
            docker.check_daemon()
        except docker.DockerError:
            return {}
        removed: dict[str, int] = {}
        errors: list[str] = []
        for remove in (docker.remove_leftovers, swarmdocker.remove_leftovers):
            try:
                found = remove(region, project)
            except docker.DockerError as error:
                errors.append(str(error))
                continue
            for kind, n in found.items():
                removed[kind] = removed.get(kind, 0) + n
        removed = {kind: n for kind, n in removed.items() if n}
        if errors:
            raise LeftoversError("; ".join(errors), removed)
        return removed


def stop_region(
    state_dir: Path | str | None,
    region: str | None = None,
    broker: str | None = None,
    *,
    timeout_s: float,
    leftovers: ComposeLeftovers | None = None,
) -> Stopped:
    """Stop the region that ``resolve(state_dir, region, broker)`` finds and wait up to
    ``timeout_s`` for its process to exit; with no process to ask, remove what its compose
    run left (module doc). ``BusError`` if there is nothing to stop."""
    leftovers = DockerLeftovers() if leftovers is None else leftovers
    # Read before resolve: it removes a stale state file, the one trace of a run whose
    # process died and whose containers may still run (its project: what to remove).
    sd = StateDir(state_dir)
    states = {r: state for r in sd.regions() if (state := sd.read(r))}
    projects = {r: state.get("project") for r, state in states.items()}
    try:
        target = resolve(state_dir, region, broker)
    except BusError as error:
        if error.code != "not-running" or (not region and len(projects) > 1):
            raise
        wanted = region or next(iter(projects), None)
        project = projects.get(wanted) if wanted is not None else None
        if wanted is None or not isinstance(project, str):
            raise  # no run of ours to clean up after
        removed, not_removed = _sweep(leftovers, wanted, project)
        return Stopped(wanted, None, StopMethod.LEFTOVERS, removed, not_removed=not_removed)
    stopped = _stop(target, timeout_s, leftovers, projects.get(target.region))
    state = states.get(target.region, {})
    if "attached" in state:
        kept = {"file": str(state["attached"]), "project": str(state.get("compose_project"))}
        stopped = dataclasses.replace(stopped, kept=kept)
    return stopped


def _stop(
    target: Target, timeout_s: float, leftovers: ComposeLeftovers, project: object
) -> Stopped:
    method, shutdown_error = StopMethod.SHUTDOWN_COMMAND, None
    try:
        request(target, "shutdown", {}, timeout_s=min(timeout_s, SHUTDOWN_REPLY_TIMEOUT_S))
    except BusError as error:
        if target.pid is None:
            raise
        method, shutdown_error = StopMethod.SIGTERM, error.message
        os.kill(target.pid, signal.SIGTERM)
    killed = False
    if target.pid is not None and not _wait_exit(target.pid, timeout_s):
        os.kill(target.pid, signal.SIGKILL)
        killed = True
        _wait_exit(target.pid, KILL_WAIT_S)
    target.state_dir.remove(target.region)
    removed, not_removed = _sweep(leftovers, target.region, project)
    return Stopped(target.region, target.pid, method, removed, shutdown_error, killed, not_removed)


def _sweep(
    leftovers: ComposeLeftovers, region: str, project: object
) -> tuple[Mapping[str, int], str | None]:
    """What the run's compose ``project`` (None: not a compose run) left, removed; and
    what docker would not remove."""
    if not isinstance(project, str):
        return {}, None
    try:
        return leftovers.remove(region, project), None
    except LeftoversError as error:
        return error.removed, str(error)


def _wait_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # another process: nothing to await but its end
    return True


__all__ = [
    "ComposeLeftovers",
    "DockerLeftovers",
    "LeftoversError",
    "StopMethod",
    "Stopped",
    "removed_text",
    "stop_region",
]
