"""``bagctl down``: stop the running region (its speakers, bus server and embedded broker)
and wait for its process to exit; no process and no listening socket is left.

A compose region's containers, network and volumes are removed by its process when it
stops; whatever still carries the region's label and compose project afterwards (its
process was killed, or had died: then there is no process to ask) is removed too.
``bagctl/bus/teardown.py`` decides how; this prints what it did.

Nothing to stop is not a failure (as containerlab's ``destroy``): ``down`` says so and
exits 0, so a CI job's cleanup step can always run it. Several regions running and no
``--region`` is still an error: which one to stop is the caller's to say. So is what
docker would not remove (exit 1, ``ok`` false, ``not_removed`` saying what and why):
the region is stopped, but the run has left something on the machine.
"""

from __future__ import annotations

from typing import Any

import click

from ..bus import BusError
from ..bus.teardown import StopMethod, removed_text, stop_region
from .control import fail_bus, target_options, timeout_option
from .output import emit_json, fail


@click.command()
@timeout_option(default=30.0, help="Seconds to wait for the region to stop.")
@target_options
def down(timeout_s: float, as_json: bool, **target: Any) -> None:
    """Stop the running region and remove its state."""
    try:
        stopped = stop_region(**target, timeout_s=timeout_s)
    except BusError as error:
        if error.code == "not-running" and not error.message.startswith("several regions"):
            note = f"nothing to stop: {error.message}"
            if as_json:
                emit_json({"ok": True, "stopped": None, "note": note})
            else:
                click.echo(note)
            return
        fail_bus(error, as_json)
        return
    problem = f"docker would not remove: {stopped.not_removed}" if stopped.not_removed else None
    if as_json:
        if problem:
            fail(problem, as_json=True, detail=stopped.as_dict())
        emit_json({"ok": True, **stopped.as_dict()})
        return
    if stopped.method is StopMethod.LEFTOVERS:
        click.echo(
            f"region {stopped.region} stopped "
            f"(by {stopped.stopped_by}: {removed_text(stopped.removed)})"
        )
    else:
        click.echo(f"region {stopped.region} stopped (pid {stopped.pid}, by {stopped.stopped_by})")
    if stopped.kept:
        file, project = stopped.kept["file"], stopped.kept["project"]
        click.echo(
            f"its containers (compose project {project}) keep running, as attached: "
            f"`docker compose -p {project} -f {file} down` stops them"
        )
    if problem:
        fail(problem, as_json=False)
