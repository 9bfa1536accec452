"""``bagctl cancel``: stop the region's running command (or, given its request id, that
command, running or queued). The cancelled command answers ``cancelled``; what it had
done stays done (a flap brings its bundle back up first): ``status`` shows the region."""

from __future__ import annotations

from typing import Any, Unpack

import click

from .control import TargetOptions, command, target_options, timeout_option


def render_cancel(result: dict[str, Any]) -> None:
    job = result["cancelled"]
    click.echo(f"cancelled {job['cmd']} (request {job['request']}, {result['was']})")


@click.command()
@click.argument("request", required=False)
@timeout_option(default=10.0, help="Seconds to wait for the reply.")
@target_options
def cancel(request: str | None, timeout_s: float, **target: Unpack[TargetOptions]) -> None:
    """Cancel the running command, or the one with request id REQUEST (bagctl events)."""
    command("cancel", {"request": request}, timeout_s=timeout_s, render=render_cancel, **target)
