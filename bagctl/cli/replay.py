"""``bagctl replay LOG``: re-issue, in order, the commands of an event log (the
``command`` events of the ones that change the region) against the running region
(``bagctl/bus/replay.py``); print what each gave, exit 1 if any failed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from ..bus import BusError
from ..bus.replay import logged_commands, replay
from ..bus.target import resolve
from .control import fail_bus, report_line, target_options
from .output import emit_json, fail


@click.command("replay")
@click.argument("log", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@target_options
def replay_cmd(log: Path, as_json: bool, **target: Any) -> None:
    """Re-run the commands recorded in LOG (an event log), in order."""
    try:
        commands = logged_commands(log)
    except (OSError, ValueError) as exc:
        fail(str(exc), as_json=as_json)
        return
    try:
        t = resolve(**target)
        results = asyncio.run(replay(t, commands))
    except BusError as error:
        fail_bus(error, as_json)
        return
    failed = [r for r in results if not r.ok]
    if as_json:
        replayed = [r.as_dict() for r in results]
        emit_json({"ok": not failed, "region": t.region, "replayed": replayed})
    else:
        for r in results:
            what = f"{r.command.name} {json.dumps(r.command.args)}"
            if r.error is None:
                click.echo(f"{what}: {report_line(r.result.get('report'))}")
            else:
                click.echo(f"{what}: failed: {r.error.code}: {r.error.message}")
    if failed:
        raise SystemExit(1)
