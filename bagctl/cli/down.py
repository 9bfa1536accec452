"""``bagctl down``: stop the running region (its speakers, bus server and embedded broker)
and wait for its process to exit; no process and no listening socket is left."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import click

from ..bus import BusError
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


@click.command()
@timeout_option(default=30.0, help="Seconds to wait for the region to stop.")
@target_options
def down(timeout_s: float, as_json: bool, **target: Any) -> None:
    """Stop the running region and remove its state."""
    try:
        t = resolve(**target)
    except BusError as error:
        fail_bus(error, as_json)
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
    if as_json:
        emit_json({"ok": True, "region": t.region, "pid": t.pid, "stopped_by": how})
    else:
        click.echo(f"region {t.region} stopped (pid {t.pid}, by {how})")
