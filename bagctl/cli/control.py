"""Shared by the commands that control a running region over the bus: their
``--region``/``--broker``/``--state-dir``/``--json`` options, one command run on the region
the library finds (``bagctl.bus.target``), the result printed as text or ``--json``, and
failing with the error's code and message (exit 1)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypedDict, Unpack

import click

from ..bus import BusError, Command
from ..bus.client import reply_timeout_s
from ..bus.target import Target, request, resolve
from .complete import complete_region
from .output import emit_json, fail


def target_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--region``, ``--broker``, ``--state-dir``, ``--json``: every control command."""
    f = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)
    f = click.option(
        "--state-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Where running regions are recorded (default: $BAGEMU_STATE_DIR, else "
        "~/.local/state/bagemu).",
    )(f)
    f = click.option(
        "--broker",
        default=None,
        metavar="URL",
        help="mqtt://[user:pass@]host:port, or mqtts://[user:pass@]host[:8883]"
        "[?ca=FILE[&cert=FILE&key=FILE]] over TLS (no state).",
    )(f)
    f = click.option(
        "--region",
        default=None,
        shell_complete=complete_region,
        help="Region name (default: the one running).",
    )(f)
    return f


def fail_bus(error: BusError, as_json: bool) -> None:
    fail(error.message, as_json=as_json, detail={"code": error.code})


class TargetOptions(TypedDict):
    """What ``target_options`` adds to a command's keyword arguments."""

    region: str | None
    broker: str | None
    state_dir: str | None
    as_json: bool


def command(
    cmd: str,
    args: dict[str, Any],
    *,
    region: str | None,
    broker: str | None,
    state_dir: str | None,
    as_json: bool,
    timeout_s: float,
    render: Callable[[Any], None],
) -> None:
    """Find the region, run ``cmd``, print (``render`` or JSON); exit 1 on any error."""
    try:
        target = resolve(state_dir, region, broker)
        result = request(target, cmd, {k: v for k, v in args.items() if v is not None}, timeout_s)
    except BusError as error:
        fail_bus(error, as_json)
        return
    if as_json:
        emit_json({"ok": True, "region": target.region, "cmd": cmd, "result": result})
        if isinstance(result, dict):
            warn_losses(result.get("report"))  # on stderr: stdout stays one JSON object
    else:
        render(result)


def change(cmd: str, args: dict[str, Any], **target: Unpack[TargetOptions]) -> None:
    """Run ``cmd``, one that changes the region, waiting as long as it may take
    (``reply_timeout_s``); print its convergence report."""
    wait = reply_timeout_s(Command(cmd, args))
    command(cmd, args, timeout_s=wait, render=render_report, **target)


def report_line(report: dict[str, Any] | None) -> str:
    if report is None:
        return "no convergence report yet"
    emulated = report.get("converged_emulated_s")
    on_clock = f", {emulated * 1e3:.3f} ms on the region's clock" if emulated else ""
    return (
        f"{report['event']}: converged in {report['converged_s']:.3f} s{on_clock} (quiet "
        f"after {report['quiescent_s']:.3f} s), {report['fib_changes']} FIB changes, "
        f"{report['updates_sent']} UPDATEs, sessions {report['sessions_established']}/"
        f"{report['sessions_expected']}"
    )


def losses_warning(report: dict[str, Any] | None) -> str | None:
    """A warning when sessions left Established without being asked to (the report's
    ``losses``): on the region's clock that is a real protocol event, never the host's
    lateness, and on the host's clock it may be either."""
    if report is None or not report.get("losses"):
        return None
    losses = report["losses"]
    shown = "; ".join(f"{x['node']} - {x['peer']}: {x['cause']}" for x in losses[:5])
    more = f"; and {len(losses) - 5} more" if len(losses) > 5 else ""
    return (
        f"warning: {len(losses)} session(s) lost during {report['event']} "
        f"without being asked to ({shown}{more})"
    )


def warn_losses(report: dict[str, Any] | None) -> None:
    warning = losses_warning(report)
    if warning is not None:
        click.echo(warning, err=True)


def render_report(result: dict[str, Any]) -> None:
    failed = result.get("failed")
    if failed is not None:  # (converge: the last change did not converge)
        click.echo(f"the last change, {failed['cmd']}, failed: {failed['error']['message']}")
        return
    click.echo(report_line(result.get("report")))
    warn_losses(result.get("report"))
    if "members_up" in result:
        a, b = result["bundle"]
        click.echo(f"bundle {a} - {b}: {result['members_up']}/{result['members']} members up")


timeout_option = functools.partial(
    click.option, "--timeout", "timeout_s", type=click.FloatRange(min=0.1), show_default=True
)

__all__ = [
    "Target",
    "change",
    "command",
    "fail_bus",
    "losses_warning",
    "render_report",
    "report_line",
    "request",
    "resolve",
    "target_options",
    "timeout_option",
    "warn_losses",
]
