"""``bagctl up FILE``: run a region in the foreground until interrupted (or ``--once``),
serving the management bus (``bagctl.bus``), or ``--detach``ed in a background process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

import aiomqtt
import click

from speakers.yamldoc import ConfigError

from ..bus.host import AlreadyRunning, StateDir, pid_alive, serve_region
from ..runtimes import RegionProgress, get_runtime
from ..runtimes.gctune import tune_for_region
from ..topology import load_topology
from .output import emit_json, fail


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second: sessions
    established of those expected (or ``what`` else is counted: the compose runtime's
    containers while they start), and the FIB changes (routes installed, replaced or
    removed anywhere in the region) so far."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, p: RegionProgress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and p.done != p.total:
            return
        self._last = now
        width = 30
        done = int(width * p.done / p.total) if p.total else width
        bar = "#" * done + "." * (width - done)
        click.echo(
            f"\r{p.what:<10} [{bar}] {p.done}/{p.total}  FIB changes {p.fib_changes:,}",
            nl=False,
            err=True,
        )


async def _run(
    path: str,
    runtime: str,
    transport: str,
    port: int,
    workers: int,
    once: bool,
    as_json: bool,
    **extra: Any,
) -> int:
    topo = load_topology(path)
    factory = get_runtime(runtime)
    region = factory(
        topo,
        transport=transport,
        port=port,
        workers=workers,
        on_progress=None if as_json else Progress(),
        **extra,
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
        await region.aclose()


def _ready_text(state: dict[str, Any]) -> str:
    r = state["report"]
    return (
        f"region {state['region']} converged: {r['sessions_established']}/"
        f"{r['sessions_expected']} sessions, last FIB change at {r['converged_s']:.3f} s; "
        f"pid {state['pid']}, broker {state['broker']}, events {state['events']}"
    )


async def _serve(
    path: str, state_dir: StateDir, broker: str | None, child: bool, as_json: bool, **opts: Any
) -> int:
    """Foreground with the bus; as a ``--detach``ed child, one JSON line on stdout when
    ready (then stdout is closed: the parent has gone)."""
    topo = load_topology(path)

    def ready(state: dict[str, Any]) -> None:
        if child:
            sys.stdout.write(json.dumps({"ok": True, **state}) + "\n")
            sys.stdout.flush()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        elif as_json:
            emit_json({"ok": True, **state})
        else:
            click.echo("", err=True)  # end the progress line
            click.echo(_ready_text(state))
            click.echo("running; Ctrl-C or `bagctl down` stops it")

    await serve_region(topo, state_dir=state_dir, broker=broker, on_ready=ready, **opts)
    return 0


def _detach(
    argv: list[str], path: str, state_dir: StateDir, timeout_s: float, broker: str | None
) -> dict[str, Any]:
    """Start ``bagctl up`` as a background process; return its ready line, or raise
    RuntimeError with its error (or its log's last lines)."""
    topo = load_topology(path)
    state = state_dir.read(topo.name)
    if state is not None and isinstance(state.get("pid"), int) and pid_alive(state["pid"]):
        raise AlreadyRunning(
            f"region {topo.name} is already running (pid {state['pid']}); stop it with "
            f"`bagctl down --region {topo.name}`"
        )
    state_dir.path.mkdir(parents=True, exist_ok=True)
    log_path = state_dir.file(topo.name, ".log")
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bagctl", "up", *argv, "--daemon-child"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,  # Ctrl-C in this terminal does not reach the region
            # The URL may hold a password: through the environment, not the command line.
            env={**os.environ, "BAGEMU_BROKER": broker or ""},
        )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    line = proc.stdout.readline() if ready else b""
    proc.stdout.close()
    if not line:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"region {topo.name} did not converge within {timeout_s:g} s")
        proc.wait()
        tail = log_path.read_text().strip().splitlines()[-5:]
        raise RuntimeError(f"region {topo.name} failed to start: " + " | ".join(tail))
    reply: dict[str, Any] = json.loads(line)
    if not reply.get("ok"):
        proc.wait()
        raise RuntimeError(str(reply.get("error")))
    proc.returncode = 0  # not waited for, by design: the region outlives this command
    return reply


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
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Worker processes the speakers are sharded over (0: one per CPU core). Sessions "
    "between workers run over TCP whatever --transport says.",
)
@click.option(
    "--subnet",
    default=None,
    metavar="CIDR",
    help="--runtime compose: the IPv4 subnet of the region's network (default 172.31.0.0/16).",
)
@click.option("--once", is_flag=True, help="Exit once the region has converged.")
@click.option("--json", "as_json", is_flag=True, help="Print the convergence report as JSON.")
@click.option("--detach", is_flag=True, help="Run in the background; other commands find it.")
@click.option(
    "--broker",
    default=None,
    envvar="BAGEMU_BROKER",
    metavar="URL",
    help="External mqtt://[user:pass@]host:port (or $BAGEMU_BROKER).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where running regions are recorded (default: $BAGEMU_STATE_DIR, else "
    "~/.local/state/bagemu).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="--detach: seconds to wait for cold-start convergence.",
)
@click.option("--daemon-child", is_flag=True, hidden=True)
def up(
    file: str,
    runtime: str,
    transport: str,
    port: int,
    workers: int,
    subnet: str | None,
    once: bool,
    as_json: bool,
    detach: bool,
    broker: str | None,
    state_dir: str | None,
    timeout_s: float,
    daemon_child: bool,
) -> None:
    """Start every speaker of the region in FILE and report cold-start convergence.

    Without --once, the region then serves the management bus (an embedded MQTT broker
    on 127.0.0.1 unless --broker is given; with --runtime compose, the region's own
    mosquitto) until Ctrl-C or `bagctl down`."""
    tune_for_region()  # this process holds the region (bagctl/runtimes/gctune.py)
    sd = StateDir(state_dir)
    broker = broker or None  # an empty $BAGEMU_BROKER: the embedded broker
    extra = {} if subnet is None else {"subnet": subnet}
    if subnet is not None and runtime != "compose":
        raise click.BadParameter("applies to --runtime compose only", param_hint="--subnet")
    try:
        if detach:
            argv = [file, "--runtime", runtime, "--transport", transport, "--port", str(port)]
            argv += ["--workers", str(workers)]
            argv += ["--subnet", subnet] if subnet is not None else []
            argv += ["--state-dir", str(sd.path)]
            state = _detach(argv, file, sd, timeout_s, broker)
            state.pop("ok", None)
            if as_json:
                emit_json({"ok": True, **state})
            else:
                click.echo(_ready_text(state))
            return
        if once:
            code = asyncio.run(
                _run(file, runtime, transport, port, workers, once, as_json, **extra)
            )
        else:
            opts = {"runtime": runtime, "transport": transport, "port": port, "workers": workers}
            opts |= extra
            if not (daemon_child or as_json):
                opts["on_progress"] = Progress()
            code = asyncio.run(_serve(file, sd, broker, daemon_child, as_json, **opts))
    except (ConfigError, AlreadyRunning, RuntimeError) as exc:
        if daemon_child:
            sys.stdout.write(json.dumps({"ok": False, "error": str(exc)}) + "\n")
            sys.exit(1)
        fail(str(exc), as_json=as_json)
        return
    except aiomqtt.MqttError as exc:
        message = f"cannot use the MQTT broker{f' {broker}' if broker else ''}: {exc}"
        if daemon_child:
            sys.stdout.write(json.dumps({"ok": False, "error": message}) + "\n")
            sys.exit(1)
        fail(message, as_json=as_json)
        return
    except (ValueError, OSError, TimeoutError) as exc:
        if daemon_child:
            error = f"{type(exc).__name__}: {exc}"
            sys.stdout.write(json.dumps({"ok": False, "error": error}) + "\n")
            sys.exit(1)
        fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, as_json=as_json)
        return
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    sys.exit(code)
