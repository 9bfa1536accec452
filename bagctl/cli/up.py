"""``bagctl up FILE``: run a region in the foreground until interrupted (or ``--once``),
serving the management bus (``bagctl.bus``), or ``--detach``ed in a background process.

``bagctl/bus/host.py`` runs the region (``cold_start``, ``serve_region``) and
``bagctl/bus/detach.py`` the background process, its progress lines and its ready line;
``progress.py`` shows the progress by phase; this parses the options, prints the reports
(after the progress display has finished: nothing is drawn after a report), and maps
errors to exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any

import aiomqtt
import click

from speakers.yamldoc import ConfigError

from .. import interrupts
from ..bus.detach import (
    BROKER_ENV,
    ProgressLines,
    read_broker,
    report_failure,
    start_detached,
)
from ..bus.host import AlreadyRunning, StateDir, cold_start, serve_region
from ..interrupts import Interrupted
from ..mqtt.broker import BrokerUrl, BrokerUrlError
from ..runtimes import RUNTIMES, ConvergenceReport
from ..runtimes.gctune import tune_for_region
from ..runtimes.workercount import (
    AUTO,
    WorkerChoice,
    WorkerRequest,
    parse_workers,
    resolve_workers,
)
from ..topology import load_topology
from ..topology.model import Topology
from .control import warn_losses
from .output import emit_json, fail, interrupted
from .progress import LINE_INTERVAL_S, ProgressView, final_progress, progress_display


def _parse_workers(ctx: click.Context, param: click.Parameter, value: str) -> WorkerRequest:
    """``--workers``: ``auto`` or a count of at least 0 (runtimes/workercount.py)."""
    try:
        return parse_workers(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _workers(
    asked: WorkerRequest, topo: Topology, runtime: str, transport: str
) -> tuple[int, WorkerChoice | None]:
    """The count ``--workers`` gives the runtime, and the choice to show: the embedded
    runtime's worker processes. A container runtime's ``auto`` is 1 as before ``auto``
    (compose: a container per speaker; swarm: its own default of 2 shards), shown by its
    own progress and status."""
    if runtime == "embedded":
        choice = resolve_workers(asked, topo, transport)
        return choice.workers, choice
    return (1 if asked == AUTO else int(asked)), None


def _converged(
    region: str, view: ProgressView | None, workers: dict[str, object]
) -> Callable[[ConvergenceReport], None]:
    """``--once``: print the cold-start report (as JSON without a progress ``view``)."""

    def show(report: ConvergenceReport) -> None:
        if view is None:
            emit_json({"ok": True, "region": region, "report": report.as_dict(), **workers})
        else:
            view.finish(final_progress(report.as_dict()))
            click.echo(
                f"region {region} converged: {report.sessions_established}/"
                f"{report.sessions_expected} sessions, {report.fib_changes} FIB changes, "
                f"{report.updates_sent} UPDATEs, last FIB change at {report.converged_s:.3f} s"
                f"{_on_clock(report.as_dict())}"
            )
        warn_losses(report.as_dict())

    return show


def _on_clock(report: dict[str, Any]) -> str:
    emulated = report.get("converged_emulated_s")
    return f" ({emulated * 1e3:.3f} ms on the region's clock)" if emulated else ""


def _ready_text(state: dict[str, Any]) -> str:
    r = state["report"]
    return (
        f"region {state['region']} converged: {r['sessions_established']}/"
        f"{r['sessions_expected']} sessions, last FIB change at {r['converged_s']:.3f} s"
        f"{_on_clock(r)}; "
        f"pid {state['pid']}, broker {state['broker']}, events {state['events']}"
    )


def _serving(
    view: ProgressView | None, workers: dict[str, object]
) -> Callable[[dict[str, Any]], None]:
    """In the foreground, serving the bus: print the state once the region has converged
    (as JSON without a progress ``view``)."""

    def show(state: dict[str, Any]) -> None:
        if view is None:
            emit_json({"ok": True, **state, **workers})
        else:
            view.finish(final_progress(state["report"]))
            click.echo(_ready_text(state))
            click.echo("running; Ctrl-C or `bagctl down` stops it")
        warn_losses(state.get("report"))

    return show


def redacted(url: str) -> str:
    """``url`` without its password (it parsed already: the MQTT error came after)."""
    try:
        return BrokerUrl.parse(url).redacted()
    except ValueError:
        return "(an unparsable URL)"


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--runtime",
    type=click.Choice(sorted(RUNTIMES)),
    default="embedded",
    show_default=True,
    help="Where the speakers run: in this process or worker processes, in containers (one "
    "per switch), or on Docker Swarm (a service per shard).",
)
@click.option(
    "--transport",
    type=click.Choice(["tcp", "memory"]),
    default="tcp",
    show_default=True,
    help="Real TCP on 127/8, or the in-memory network (same BGP bytes, no sockets).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="BGP port every speaker listens on (default: 1179, or the next port free on "
    "every speaker's address, so that regions on one host do not collide).",
)
@click.option(
    "--workers",
    default=AUTO,
    callback=_parse_workers,
    metavar="auto|N",
    show_default=True,
    help="Worker processes the speakers are sharded over: auto chooses from the region's "
    "sessions, the usable cores and the open-file limit (one process below 4,000 sessions), "
    "0 is one per core, 1 one process; with --runtime swarm, shards (a service each; at "
    "least 2). Sessions between workers run over TCP whatever --transport says.",
)
@click.option(
    "--subnet",
    default=None,
    metavar="CIDR",
    help="--runtime compose or swarm: the IPv4 subnet of the region's network (default: a free one "
    "of 172.16.0.0/12, sized to the region, that no docker network overlaps).",
)
@click.option(
    "--hosts",
    type=click.IntRange(min=1),
    default=None,
    help="--runtime swarm: place the shards on the nodes labelled bagemu.host=0 .. N-1 as "
    "`bagctl swarm plan` says (reserving the memory it estimates with --memory-per-host).",
)
@click.option(
    "--memory-per-host",
    "memory_per_host",
    type=click.FloatRange(min=0.001),
    default=None,
    metavar="GB",
    help="--runtime swarm --hosts: the memory each node gives the region (GiB).",
)
@click.option(
    "--clock",
    type=click.Choice(["region", "host"]),
    default="region",
    show_default=True,
    help="Whose time the speakers' timers run on: the region's emulated clock (no session "
    "is lost because the host fell behind) or the host's.",
)
@click.option(
    "--pace",
    type=click.Choice(["live", "fast"]),
    default="live",
    show_default=True,
    help="How the region's clock moves when the region is quiet: at wall rate (keepalives "
    "as on a real network), or straight to the next timer.",
)
@click.option("--once", is_flag=True, help="Exit once the region has converged.")
@click.option("--json", "as_json", is_flag=True, help="Print the convergence report as JSON.")
@click.option("--detach", is_flag=True, help="Run in the background; other commands find it.")
@click.option(
    "--broker",
    default=None,
    envvar=BROKER_ENV,
    metavar="URL",
    help="External mqtt://[user:pass@]host:port, or mqtts://[user:pass@]host[:8883]"
    "[?ca=FILE[&cert=FILE&key=FILE]] over TLS, verified against FILE, else the system's CAs "
    "(or $BAGEMU_BROKER).",
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
@click.option(
    "--progress-interval",
    "progress_interval_s",
    type=click.FloatRange(min=0),
    default=LINE_INTERVAL_S,
    show_default=True,
    metavar="SECONDS",
    help="Without a terminal on stderr (CI logs): a progress line at each phase, else at "
    "most one this often.",
)
@click.option("--daemon-child", is_flag=True, hidden=True)
def up(
    file: str,
    runtime: str,
    transport: str,
    port: int | None,
    workers: WorkerRequest,
    subnet: str | None,
    hosts: int | None,
    memory_per_host: float | None,
    clock: str,
    pace: str,
    once: bool,
    as_json: bool,
    detach: bool,
    broker: str | None,
    state_dir: str | None,
    timeout_s: float,
    progress_interval_s: float,
    daemon_child: bool,
) -> None:
    """Start every speaker of the region in FILE and report cold-start convergence.

    Without --once, the region then serves the management bus (an embedded MQTT broker
    on 127.0.0.1 unless --broker is given; with --runtime compose, the region's own
    mosquitto) until Ctrl-C or `bagctl down`."""
    tune_for_region()  # this process holds the region (bagctl/runtimes/gctune.py)
    sd = StateDir(state_dir)
    broker = broker or None  # an empty $BAGEMU_BROKER: the embedded broker
    if daemon_child:
        broker = read_broker()  # from the parent, on stdin (bus/detach.py)
    extra: dict[str, Any] = {} if subnet is None else {"subnet": subnet}
    if (hosts is not None or memory_per_host is not None) and runtime != "swarm":
        raise click.BadParameter("applies to --runtime swarm only", param_hint="--hosts")
    if memory_per_host is not None and hosts is None:
        raise click.BadParameter("needs --hosts", param_hint="--memory-per-host")
    if hosts is not None:
        extra |= {"hosts": hosts, "memory_per_host_gb": memory_per_host}
    if subnet is not None and runtime not in ("compose", "swarm"):
        raise click.BadParameter("applies to --runtime compose or swarm", param_hint="--subnet")
    try:
        with contextlib.ExitStack() as stack:  # the progress display stops before any error
            shown = not (as_json or daemon_child)  # (a daemon child's go to its parent)
            if broker is not None:  # a bad URL or TLS file: said here, before any child
                BrokerUrl.parse(broker)
            topo = load_topology(file)
            count, choice = _workers(workers, topo, runtime, transport)
            chosen: dict[str, object] = {} if choice is None else {"workers": choice.as_dict()}
            if shown and choice is not None and choice.workers > 1:  # (one process: plain)
                click.echo(choice.describe())  # before the progress display: nothing after it
            view = stack.enter_context(progress_display(progress_interval_s)) if shown else None
            if detach:  # the child runs what was chosen here, and says nothing of it
                argv = [file, "--runtime", runtime, "--transport", transport]
                argv += ["--port", str(port)] if port is not None else []
                argv += ["--workers", str(count), "--clock", clock, "--pace", pace]
                argv += ["--subnet", subnet] if subnet is not None else []
                argv += ["--hosts", str(hosts)] if hosts is not None else []
                argv += ["--memory-per-host", str(memory_per_host)] if memory_per_host else []
                argv += ["--state-dir", str(sd.path)]
                child = [sys.executable, "-m", "bagctl", "up", *argv, "--daemon-child"]
                state = start_detached(child, topo.name, sd, timeout_s, broker, on_progress=view)
                if view is None:
                    emit_json({"ok": True, **state, **chosen})
                else:
                    view.finish(final_progress(state["report"]))
                    click.echo(_ready_text(state))
                return
            opts: dict[str, Any] = {"transport": transport, "port": port}
            opts |= {"workers": count, "clock": clock, "pace": pace}
            opts |= extra
            if once:
                ready = _converged(topo.name, view, chosen)
                interrupts.run(
                    cold_start(topo, runtime=runtime, on_ready=ready, on_progress=view, **opts)
                )
            else:
                on_ready: Callable[[dict[str, Any]], None] = _serving(view, chosen)
                if daemon_child:  # progress and the ready line to the parent's pipe
                    lines = ProgressLines()
                    opts["on_progress"], on_ready = lines, lines.ready
                else:
                    opts["on_progress"] = view
                asyncio.run(
                    serve_region(
                        topo,
                        state_dir=sd,
                        broker=broker,
                        runtime=runtime,
                        on_ready=on_ready,
                        **opts,
                    )
                )
    except Interrupted as exc:  # Ctrl-C or SIGTERM: torn down, never exit 0
        interrupted(exc)
        return
    except (ConfigError, AlreadyRunning, RuntimeError, BrokerUrlError) as exc:
        message = child_message = str(exc)
    except aiomqtt.MqttError as exc:
        message = child_message = (
            f"cannot use the MQTT broker{f' {redacted(broker)}' if broker else ''}: {exc}"
        )
    except (ValueError, OSError, TimeoutError) as exc:
        child_message = f"{type(exc).__name__}: {exc}"
        message = child_message if str(exc) else type(exc).__name__
    else:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        sys.exit(0)
    if daemon_child:
        report_failure(child_message)
        sys.exit(1)
    fail(message, as_json=as_json)
