"""``bagctl show sessions|rib|fib NODE [PREFIX]``: one switch's state in the running region
(``bagctl.views``), as aligned text or ``--json``."""

from __future__ import annotations

from typing import Any, Unpack

import click

from .complete import complete_speaker
from .control import TargetOptions, command, target_options, timeout_option
from .tables import print_table


def _bps(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if value >= scale:
            return f"{value / scale:.4g}{unit}"
    return f"{value:.0f}"


def render_sessions(result: dict[str, Any]) -> None:
    rows = [
        [s["neighbor"], s["address"], s["remote_as"], s["state"], s["updates_in"],
         s["updates_out"], s["prefixes_received"], s["flaps"], s["last_down"] or "-"]
        for s in result["sessions"]
    ]  # fmt: skip
    headers = ["NEIGHBOR", "ADDRESS", "AS", "STATE", "UPD IN", "UPD OUT", "PFX RCVD", "FLAPS"]
    print_table([*headers, "LAST DOWN"], rows)


def render_rib(result: dict[str, Any]) -> None:
    rows = []
    for r in result["rib"]:
        multipath = ", ".join(
            f"{p['source']}({_bps(p['link_bandwidth_bps'])})" for p in r["multipath"]
        )
        rows.append([r["prefix"], r["best"]["source"], r["best"]["as_path"] or "-", multipath])
    print_table(["PREFIX", "BEST", "AS PATH", "MULTIPATH (LINK BANDWIDTH)"], rows)


def render_fib(result: dict[str, Any]) -> None:
    rows = []
    for entry in result["fib"]:
        for i, hop in enumerate(entry["next_hops"]):
            prefix = entry["prefix"] if i == 0 else ""
            rows.append(
                [prefix, hop["neighbor"], hop["next_hop"], hop["weight"],
                 f"{hop['ucmp_weight']:.4f}"]
            )  # fmt: skip
    asked, fib = result.get("prefix"), result["fib"]
    if asked is not None and fib and fib[0]["prefix"] != asked:
        click.echo(f"{asked}: forwarded by {fib[0]['prefix']} (longest-prefix match)")
    print_table(["PREFIX", "NEIGHBOR", "NEXT HOP", "WEIGHT", "UCMP"], rows)


RENDER = {"sessions": render_sessions, "rib": render_rib, "fib": render_fib}


@click.group()
def show() -> None:
    """Show one switch's sessions, RIB or FIB in the running region."""


def _show(what: str, with_prefix: bool) -> click.Command:
    def run(
        node: str, timeout_s: float, prefix: str | None = None, **target: Unpack[TargetOptions]
    ) -> None:
        args = {"what": what, "node": node, "prefix": prefix}
        command("show", args, timeout_s=timeout_s, render=RENDER[what], **target)

    run.__doc__ = f"NODE's {what}" + (" (one PREFIX, or all)." if with_prefix else ".")
    cmd = target_options(run)
    cmd = timeout_option(default=10.0, help="Seconds to wait for the reply.")(cmd)
    if with_prefix:
        cmd = click.argument("prefix", required=False)(cmd)
    cmd = click.argument("node", shell_complete=complete_speaker)(cmd)
    return show.command(what)(cmd)


_show("sessions", False)
_show("rib", True)
_show("fib", True)
