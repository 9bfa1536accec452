"""``bagctl status``: the running region's state (sessions, bundles down, broker, last
convergence report)."""

from __future__ import annotations

from typing import Any, Unpack

import click

from .control import TargetOptions, command, report_line, target_options, timeout_option


def render_status(s: dict[str, Any]) -> None:
    down = ", ".join(f"{a}-{b}" for a, b in s["bundles_down"]) or "none"
    where = s["transport"]
    if s.get("runtime") == "compose":
        where = f"containers of compose project {s.get('project')}, {where}"
    click.echo(
        f"region {s['region']}: {s['state']}, pid {s.get('pid', '?')}, {s['speakers']} "
        f"speakers ({where}), broker {s.get('broker', '?')}\n"
        f"sessions established: {s['sessions_established']}/{s['sessions_expected']}\n"
        f"bundles down: {down}\n"
        f"commands run: {s['commands_run']}, queued: {s['queued']}\n"
        f"last: {report_line(s['last_report'])}"
    )


@click.command()
@timeout_option(default=10.0, help="Seconds to wait for the reply.")
@target_options
def status(timeout_s: float, **target: Unpack[TargetOptions]) -> None:
    """Is the region running, and how is it."""
    command("status", {}, timeout_s=timeout_s, render=render_status, **target)
