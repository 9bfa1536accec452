"""``bagctl down``: stop the running region (its speakers, bus server and embedded broker)
and wait for its process to exit; no process and no listening socket is left.

A compose region's containers, network and volumes are removed by its process when it
stops; whatever still carries the region's label and compose project afterwards (its
process was killed, or had died: then there is no process to ask) is removed here.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from typing import Any

import click

from ..bus import BusError
from ..bus.host import StateDir
from .control import fail_bus, request, resolve, target_options, timeout_option
from .output import emit_json


def _wait_exit(pid: int, timeout_s: float) -> bool:
    from ..bus.host import pid_alive

    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # another process: nothing to await but its end
    return True


def _compose_left(region: str | None) -> list[str]:
    """Regions whose compose project left containers: ``region`` if it did, else every
    one found ([] without docker, or without a daemon: nothing of ours runs there)."""
    if shutil.which("docker") is None:
        return []
    from ..runtimes import docker
    from ..runtimes.composefile import project_name

    try:
        left = docker.regions_left()
    except docker.DockerError:
        return []
    found = [r for r, project in left.items() if project == project_name(r)]
    return [r for r in found if region is None or r == region]


def _remove_compose(region: str) -> dict[str, int]:
    """Remove what the region's compose project left (by label and project): how many
    containers, networks and volumes (nothing, without docker or a daemon)."""
    if shutil.which("docker") is None:
        return {}
    from ..runtimes import docker
    from ..runtimes.composefile import project_name

    try:
        removed = docker.remove_leftovers(region, project_name(region))
    except docker.DockerError:
        return {}
    return {kind: n for kind, n in removed.items() if n}


def _removed_text(removed: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in removed.items() if n)


@click.command()
@timeout_option(default=30.0, help="Seconds to wait for the region to stop.")
@target_options
def down(timeout_s: float, as_json: bool, **target: Any) -> None:
    """Stop the running region and remove its state."""
    named = target.get("region")
    states = StateDir(target.get("state_dir")).regions()
    try:
        t = resolve(**target)
    except BusError as error:
        # No process to ask: a compose region whose `up` died may have left containers.
        if error.code != "not-running" or (not named and len(states) > 1):
            fail_bus(error, as_json)
            return
        candidates = _compose_left(named or (states[0] if states else None))
        if len(candidates) != 1:
            if len(candidates) > 1:
                several = ", ".join(sorted(candidates))
                message = f"several regions left containers ({several}): use --region"
                error = BusError("not-running", message)
            fail_bus(error, as_json)
            return
        region = candidates[0]
        removed = _remove_compose(region)
        how = "removing what its compose project left (its process had died)"
        if as_json:
            emit_json(
                {"ok": True, "region": region, "pid": None, "stopped_by": how, "removed": removed}
            )
        else:
            click.echo(f"region {region} stopped (by {how}: {_removed_text(removed)})")
        return
    how = "shutdown command"
    try:
        request(t, "shutdown", {}, timeout_s=min(timeout_s, 10.0))
    except BusError as error:
        if t.pid is None:
            fail_bus(error, as_json)
            return
        how = f"SIGTERM ({error.message})"
        os.kill(t.pid, signal.SIGTERM)
    if t.pid is not None and not _wait_exit(t.pid, timeout_s):
        os.kill(t.pid, signal.SIGKILL)
        how += ", then SIGKILL"
        _wait_exit(t.pid, 5.0)
    t.state_dir.remove(t.region)
    removed = _remove_compose(t.region)
    if removed:
        how += f", then removed what its compose project left ({_removed_text(removed)})"
    if as_json:
        emit_json(
            {"ok": True, "region": t.region, "pid": t.pid, "stopped_by": how, "removed": removed}
        )
    else:
        click.echo(f"region {t.region} stopped (pid {t.pid}, by {how})")
