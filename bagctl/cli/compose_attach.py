"""``bagctl compose attach FILE``: control a region that ``docker compose up`` of a generated
file started (runtimes/composeattach.py says how).

It serves the management bus on the project's own mosquitto, as ``bagctl up --runtime
compose`` does, so ``status``, ``inspect``, ``link``, ``show``, ``verify`` and the rest find
the region; ``--detach`` runs it in the background. ``bagctl down`` stops only this
controller: the containers are the project's owner's, and keep running."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from functools import partial
from typing import Any

import aiomqtt
import click

from speakers.yamldoc import ConfigError

from ..bus.detach import report_failure, report_ready, start_detached
from ..bus.host import AlreadyRunning, StateDir, serve_region
from ..interrupts import Interrupted
from .control import warn_losses
from .output import emit_json, fail, interrupted

RUNTIME = "compose-attached"  # what the state file and ``status`` say it runs on


def _text(state: dict[str, Any]) -> str:
    r = state["report"]
    return (
        f"attached to region {state['region']} (compose project {state['compose_project']}): "
        f"{r['sessions_established']}/{r['sessions_expected']} sessions; pid {state['pid']}, "
        f"broker {state['broker']}, events {state['events']}. `bagctl down` detaches and "
        "leaves the containers running"
    )


def _serving(as_json: bool, project: str, state: dict[str, Any]) -> None:
    state = {**state, "compose_project": project}
    if as_json:
        emit_json({"ok": True, **state})
    else:
        click.echo(_text(state))
        click.echo("running; Ctrl-C or `bagctl down` detaches")
    warn_losses(state.get("report"))


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-p",
    "--project",
    default=None,
    help="The compose project (default: $COMPOSE_PROJECT_NAME, else the file's directory "
    "name, as compose names it).",
)
@click.option("--detach", is_flag=True, help="Run in the background; other commands find it.")
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
    default=120.0,
    show_default=True,
    help="--detach: seconds to wait for the region to be attached and converged.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@click.option("--daemon-child", is_flag=True, hidden=True)
def attach(
    file: str,
    project: str | None,
    detach: bool,
    state_dir: str | None,
    timeout_s: float,
    as_json: bool,
    daemon_child: bool,
) -> None:
    """Control the region that `docker compose up` of FILE (made by `bagctl compose
    generate`) runs: serve the bus on its broker until Ctrl-C or `bagctl down`, which
    leave the containers running."""
    from ..runtimes.base import compose_attached
    from ..runtimes.composeattach import read_project
    from ..topology import load_topology

    sd = StateDir(state_dir)
    try:
        generated = read_project(file, project)
        topo = load_topology(str(generated.topology))
        if detach:
            argv = [sys.executable, "-m", "bagctl", "compose", "attach", file]
            argv += ["--project", generated.project, "--state-dir", str(sd.path)]
            state = start_detached([*argv, "--daemon-child"], topo.name, sd, timeout_s)
            _serving(as_json, generated.project, state)
            return
        on_ready = report_ready if daemon_child else partial(_serving, as_json, generated.project)
        asyncio.run(
            serve_region(
                topo,
                state_dir=sd,
                runtime=RUNTIME,
                on_ready=on_ready,
                factory=partial(compose_attached, project=generated),
            )
        )
    except Interrupted as exc:
        interrupted(exc)
        return
    except (ConfigError, AlreadyRunning, RuntimeError, ValueError, OSError) as exc:
        message = str(exc) or type(exc).__name__
    except (aiomqtt.MqttError, TimeoutError) as exc:
        message = (
            f"cannot reach the broker of {file} on 127.0.0.1 ({exc or type(exc).__name__}): "
            "is `docker compose up` running, and $BAGEMU_MQTT_PORT as it was then?"
        )
    else:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        sys.exit(0)
    if daemon_child:
        report_failure(message)
        sys.exit(1)
    fail(message, as_json=as_json)
