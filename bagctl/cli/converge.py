"""``bagctl converge``: wait until the commands sent so far have run (the region runs them
in order, each to quiescence) and print the last event's convergence report."""

from __future__ import annotations

from typing import Unpack

import click

from .control import TargetOptions, command, render_report, target_options, timeout_option


@click.command()
@timeout_option(default=60.0, help="Seconds to wait for quiescence.")
@target_options
def converge(timeout_s: float, **target: Unpack[TargetOptions]) -> None:
    """Wait for quiescence; print the last convergence report."""
    command("converge", {}, timeout_s=timeout_s, render=render_report, **target)
