"""``bagctl replay LOG``: re-issue, in order, the commands of an event log (the
``command`` events of the ones that change the region) against the running region."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from ..bus import BusClient, BusError
from ..bus.payloads import MUTATING
from .control import fail_bus, report_line, resolve, target_options
from .output import emit_json, fail


def commands_of(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The mutating commands of an event log, in order; ValueError naming a bad line."""
    out = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise ValueError(f"{path}:{lineno}: not JSON") from None
        if not isinstance(event, dict):
            raise ValueError(f"{path}:{lineno}: not an event object")
        if event.get("kind") == "command" and event.get("cmd") in MUTATING:
            args = event.get("args", {})
            if not isinstance(args, dict):
                raise ValueError(f"{path}:{lineno}: args is not an object")
            out.append((event["cmd"], args))
    return out


@click.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@target_options
def replay(log: Path, as_json: bool, **target: Any) -> None:
    """Re-run the commands recorded in LOG (an event log), in order."""
    try:
        commands = commands_of(log)
    except (OSError, ValueError) as exc:
        fail(str(exc), as_json=as_json)
        return
    results: list[dict[str, Any]] = []

    async def run() -> None:
        async with BusClient(t.url, t.region) as bus:
            for cmd, args in commands:
                wait = float(args.get("timeout_s", 120.0)) + 15.0
                if cmd == "link-flap":
                    wait += 2 * args.get("count", 1) * args.get("interval_s", 0)
                try:
                    result = await bus.request(cmd, args, timeout_s=wait)
                    results.append({"cmd": cmd, "args": args, "ok": True, "result": result})
                except BusError as error:
                    if error.code in ("not-answering", "not-running"):
                        raise
                    results.append(
                        {"cmd": cmd, "args": args, "ok": False, "error": error.as_dict()}
                    )

    try:
        t = resolve(**target)
        asyncio.run(run())
    except BusError as error:
        fail_bus(error, as_json)
        return
    failed = [r for r in results if not r["ok"]]
    if as_json:
        emit_json({"ok": not failed, "region": t.region, "replayed": results})
    else:
        for r in results:
            what = f"{r['cmd']} {json.dumps(r['args'])}"
            if r["ok"]:
                click.echo(f"{what}: {report_line(r['result'].get('report'))}")
            else:
                click.echo(f"{what}: failed: {r['error']['code']}: {r['error']['message']}")
    if failed:
        raise SystemExit(1)
