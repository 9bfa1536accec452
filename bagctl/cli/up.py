"""``bagctl up FILE``: run a region in the foreground until interrupted (or ``--once``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time

import click

from speakers.yamldoc import ConfigError

from ..runtimes import get_runtime
from ..topology import load_topology
from .output import emit_json, fail


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, up: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and up != total:
            return
        self._last = now
        width = 30
        done = int(width * up / total) if total else width
        bar = "#" * done + "." * (width - done)
        click.echo(f"\rsessions [{bar}] {up}/{total}", nl=False, err=True)


async def _run(
    path: str, runtime: str, transport: str, port: int, once: bool, as_json: bool
) -> int:
    topo = load_topology(path)
    factory = get_runtime(runtime)
    region = factory(
        topo, transport=transport, port=port, on_progress=None if as_json else Progress()
    )
    try:
        report = await region.start()
        if as_json:
            emit_json({"ok": True, "region": topo.name, "report": report.as_dict()})
        else:
            click.echo("", err=True)
            click.echo(
                f"region {topo.name} converged: {report.sessions_established}/"
                f"{report.sessions_expected} sessions, {report.fib_changes} FIB changes, "
                f"{report.updates_sent} UPDATEs, last FIB change at {report.converged_s:.3f} s"
            )
        if once:
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if not as_json:
            click.echo("running; Ctrl-C stops it")
        await stop.wait()
        return 0
    finally:
        region.close()


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--runtime", default="embedded", show_default=True, help="Where the speakers run.")
@click.option(
    "--transport",
    type=click.Choice(["tcp", "memory"]),
    default="tcp",
    show_default=True,
    help="Real TCP on 127/8, or the in-memory network (same BGP bytes, no sockets).",
)
@click.option("--port", default=1179, show_default=True, help="BGP port every speaker listens on.")
@click.option("--once", is_flag=True, help="Exit once the region has converged.")
@click.option("--json", "as_json", is_flag=True, help="Print the convergence report as JSON.")
def up(file: str, runtime: str, transport: str, port: int, once: bool, as_json: bool) -> None:
    """Start every speaker of the region in FILE and report cold-start convergence."""
    try:
        code = asyncio.run(_run(file, runtime, transport, port, once, as_json))
    except ConfigError as exc:
        fail(str(exc), as_json=as_json)
        return
    except (ValueError, OSError, TimeoutError) as exc:
        fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, as_json=as_json)
        return
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    sys.exit(code)
