"""``bagctl events``: the running region's events as they happen (commands, results,
rejections), until Ctrl-C or ``--count N``. ``listening`` goes to stderr once subscribed,
so a script can start it, wait for that line, and then act."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from ..bus import BusClient, BusError
from .control import fail_bus, report_line, resolve, target_options


def event_line(e: dict[str, Any]) -> str:
    head = f"#{e.get('seq')} {e.get('kind')}"
    if e.get("kind") == "command":
        return f"{head} {e.get('cmd')} {json.dumps(e.get('args', {}))} from {e.get('client')}"
    if e.get("kind") == "result":
        if "error" in e:
            err = e["error"]
            return f"{head} {e.get('cmd')} failed: {err.get('code')}: {err.get('message')}"
        result = e.get("result")
        report = result.get("report") if isinstance(result, dict) else None
        return f"{head} {e.get('cmd')} ok" + (f": {report_line(report)}" if report else "")
    if e.get("kind") == "rejected":
        err = e.get("error", {})
        return f"{head} from {e.get('client') or '?'}: {err.get('code')}: {err.get('message')}"
    return head


@click.command()
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after N events.")
@target_options
def events(count: int | None, as_json: bool, **target: Any) -> None:
    """Follow the region's events (Ctrl-C stops)."""

    async def run() -> None:
        async with BusClient(t.url, t.region) as bus:
            await bus.follow()
            click.echo(f"listening to region {t.region}", err=True)
            seen = 0
            async for event in bus.events():
                click.echo(json.dumps(event) if as_json else event_line(event))
                seen += 1
                if count is not None and seen >= count:
                    return

    try:
        t = resolve(**target)
        asyncio.run(run())
    except BusError as error:
        fail_bus(error, as_json)
    except KeyboardInterrupt:
        pass
