"""``bagctl node drain|undrain|restart X``: maintenance operations on one switch of a
running region; each prints the convergence report."""

from __future__ import annotations

from typing import Unpack

import click

from speakers.speaker import DrainMethod

from .complete import complete_speaker
from .control import TargetOptions, change, target_options, timeout_option


@click.group()
def node() -> None:
    """Drain, undrain or restart one switch's speaker in the running region."""


@node.command("drain")
@click.argument("name", shell_complete=complete_speaker)
@click.option(
    "--method",
    type=click.Choice([m.value for m in DrainMethod]),
    default=DrainMethod.LINK_BANDWIDTH_ZERO.value,
    show_default=True,
    help="Zero link bandwidth (RFC 10005 §3.1) or AS-path prepending.",
)
@timeout_option(default=120.0, help="Seconds the region may take to converge.")
@target_options
def node_drain(name: str, method: str, timeout_s: float, **target: Unpack[TargetOptions]) -> None:
    """Move traffic off NAME without withdrawing its routes."""
    args = {"node": name, "method": method, "timeout_s": timeout_s}
    change("node-drain", args, **target)


@node.command("undrain")
@click.argument("name", shell_complete=complete_speaker)
@timeout_option(default=120.0, help="Seconds the region may take to converge.")
@target_options
def node_undrain(name: str, timeout_s: float, **target: Unpack[TargetOptions]) -> None:
    """Put NAME back into service."""
    args = {"node": name, "timeout_s": timeout_s}
    change("node-undrain", args, **target)


@node.command("restart")
@click.argument("name", shell_complete=complete_speaker)
@click.option(
    "--graceful",
    is_flag=True,
    help="RFC 4724: NAME's FIB keeps forwarding and its neighbors keep its routes while its "
    "BGP restarts (the topology's defaults.graceful_restart must be on).",
)
@timeout_option(default=120.0, help="Seconds the region may take to converge.")
@target_options
def node_restart(
    name: str, graceful: bool, timeout_s: float, **target: Unpack[TargetOptions]
) -> None:
    """Restart NAME's BGP process: plainly (a Cease to every neighbor, its FIB flushed)
    or --graceful."""
    args: dict[str, object] = {"node": name, "timeout_s": timeout_s}
    if graceful:
        args["graceful"] = True
    change("node-restart", args, **target)
