"""``bagctl inspect``: the running region's switches, one row each, as containerlab's
``inspect`` lists a lab's nodes: role, AS, address, where each runs (process, worker or
container), sessions up of configured, RIB and FIB sizes."""

from __future__ import annotations

from typing import Any, Unpack

import click

from .control import TargetOptions, command, target_options, timeout_option
from .tables import print_table


def render_inspect(result: dict[str, Any]) -> None:
    rows = [
        [
            n["node"], n["role"], n["asn"], n["address"], n["runs_in"],
            f"{n['sessions_up']}/{n['sessions']}" if n["state"] == "running" else n["state"],
            n.get("rib_prefixes", "-"), n.get("fib_entries", "-"),
        ]
        for n in result["nodes"]
    ]  # fmt: skip
    header = ["NODE", "ROLE", "ASN", "ADDRESS", "RUNS IN", "SESSIONS", "RIB", "FIB"]
    print_table(header, rows)
    down = sum(1 for n in result["nodes"] if n.get("sessions_up") != n.get("sessions"))
    click.echo(f"region {result['region']}: {len(rows)} switches, {down} with a session down")


@click.command()
@timeout_option(default=30.0, help="Seconds to wait for the reply.")
@target_options
def inspect(timeout_s: float, **target: Unpack[TargetOptions]) -> None:
    """The region's switches: role, AS, address, where each runs, sessions, RIB, FIB."""
    command("inspect", {}, timeout_s=timeout_s, render=render_inspect, **target)
