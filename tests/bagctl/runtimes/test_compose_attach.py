"""``bagctl compose attach``: a region started by a plain ``docker compose up`` of a
generated file answers every ``bagctl`` command once attached, its broker refuses
anonymous clients, and ``bagctl down`` detaches without touching the containers (they
are whoever ran ``docker compose up``'s).

The fast tests read generated files back (``read_project``) and name what is wrong with
files ``bagctl compose generate`` did not write; the slow one runs containers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from bagctl.runtimes import docker
from bagctl.runtimes.composeattach import default_project, read_project
from bagctl.topology import load_topology
from bagctl.topology.addresses import CONTAINER_FIRST_HOST
from bagctl.topology.dump import dump_topology
from speakers.yamldoc import ConfigError

ROOT = Path(__file__).resolve().parents[3]
SMALL = ROOT / "tests" / "bagctl" / "topology" / "small.yaml"


def bagctl(*args: str, env: dict[str, str] | None = None, code: int = 0) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bagctl", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == code, (args, proc.stdout, proc.stderr)
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def generated(tmp: Path, region: str, *extra: str) -> tuple[Path, dict[str, Any]]:
    """``small`` under the name ``region``, and its compose file in ``tmp/deploy``."""
    topo = dataclasses.replace(load_topology(SMALL), name=region)
    (tmp / "topo").mkdir()
    (tmp / "topo" / "small.yaml").write_text(dump_topology(topo))
    out = tmp / "deploy" / "docker-compose.yml"
    out.parent.mkdir()
    summary = bagctl(
        "compose", "generate", str(tmp / "topo" / "small.yaml"), "-o", str(out), *extra
    )
    return out, summary


def test_generate_makes_the_password_once_private(tmp_path: Path) -> None:
    out, summary = generated(tmp_path, "attach-password", "--mqtt-port", "12345")
    password = Path(summary["password_file"])
    assert summary["password_made"] and password == out.parent / "broker-password"
    assert stat.S_IMODE(password.stat().st_mode) == 0o600
    kept = password.read_text()
    again = bagctl("compose", "generate", str(tmp_path / "topo" / "small.yaml"), "-o", str(out))
    assert not again["password_made"] and password.read_text() == kept  # a region may use it


def test_read_project_finds_what_an_attach_needs(tmp_path: Path) -> None:
    out, _ = generated(tmp_path, "attach-read", "--subnet", "10.78.0.0/24", "--mqtt-port", "12345")
    p = read_project(out, env={})
    assert p.topology == (tmp_path / "topo" / "small.yaml").resolve()
    assert p.password_file == (out.parent / "broker-password").resolve()
    assert str(p.subnet) == "10.78.0.0/24" and p.port == 1179 and p.mqtt_port == 12345
    assert p.project == "deploy"  # compose's default: the directory's name
    # As compose reads the file: $BAGEMU_MQTT_PORT first, -p or $COMPOSE_PROJECT_NAME.
    env = {"BAGEMU_MQTT_PORT": "23456", "COMPOSE_PROJECT_NAME": "My_Lab"}
    p = read_project(out, env=env)
    assert p.mqtt_port == 23456 and p.project == "my_lab"
    assert read_project(out, "mine", env=env).project == "mine"
    assert default_project(Path("/x/Lab.Two/docker-compose.yml"), {}) == "labtwo"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("services: {}\n", r":1: services: no 'mosquitto' service"),
        ("services:\n  mosquitto: {image: x}\n", r":2: services: no speaker \(agent\) service"),
        (
            "services:\n  mosquitto:\n    image: x\n    ports: ['1883:1883']\n"
            "  r1:\n    command: [python, -m, bagctl.runtimes.agent, --port, '179']\n",
            r":4: services.mosquitto.ports: the broker is not published on 127.0.0.1",
        ),
        ("- just a list\n", r"services: no services: not a compose file"),
    ],
)
def test_a_file_not_generated_is_named_with_its_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=where):
        read_project(path, env={})
    err = bagctl("compose", "attach", str(path), code=1)
    assert not err["ok"] and str(path) in err["error"]


def test_attach_without_a_running_project_says_what_to_run(tmp_path: Path) -> None:
    out, _ = generated(tmp_path, "attach-absent", "--mqtt-port", str(free_port()))
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path / "state")}
    err = bagctl("compose", "attach", str(out), env=env, code=1)
    assert "is `docker compose -p deploy -f" in err["error"] and "up` running" in err["error"], err


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def anonymous_refused(port: int) -> bool:
    try:
        async with aiomqtt.Client("127.0.0.1", port, timeout=10):
            return False
    except aiomqtt.MqttError:
        return True


@pytest.mark.slow
def test_attach_to_a_plain_docker_compose_up(speaker_image: str, tmp_path: Path) -> None:
    region = f"attach-{secrets.token_hex(3)}"
    topo = dataclasses.replace(load_topology(SMALL), name=region)
    subnet = docker.free_subnet(len(topo.nodes) + CONTAINER_FIRST_HOST + 1)
    mqtt = free_port()
    out, _ = generated(tmp_path, region, "--subnet", str(subnet), "--mqtt-port", str(mqtt))
    project = f"bagemu-test-{region}"
    compose = [*docker.compose_command(), "-p", project, "-f", str(out)]
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path / "state")}
    bundle = next(topo.sessions())
    containers = sum(1 for _ in topo.speakers()) + 1  # and the broker
    try:
        subprocess.run([*compose, "up", "-d"], check=True, capture_output=True, timeout=300)
        attached = bagctl("compose", "attach", str(out), "--project", project, "--detach", env=env)
        assert attached["runtime"] == "compose-attached"
        assert attached["report"]["sessions_established"] == 10
        status = bagctl("status", env=env)["result"]
        assert status["runtime"] == "compose-attached"
        assert status["compose_project"] == project and status["containers"] == containers
        rows = bagctl("inspect", env=env)["result"]
        assert len(rows["nodes"]) == containers - 1

        down = bagctl("link", "down", bundle.a, bundle.b, env=env)["result"]
        assert down["members_up"] == 0 and down["report"]["sessions_established"] == 9
        v = bagctl("verify", env=env)
        assert v["ok"], v["result"]["problems"]
        up = bagctl("link", "up", bundle.a, bundle.b, env=env)["result"]
        assert up["report"]["sessions_established"] == 10

        assert asyncio.run(anonymous_refused(mqtt))  # the password file, or nothing
        stopped = bagctl("down", env=env)
        assert stopped["ok"] and stopped.get("removed", {}) == {}
        assert stopped["kept"] == {"file": str(out), "project": project}  # and says so
        running = docker.docker("ps", "-q", "--filter", f"label=bagemu.region={region}").split()
        assert len(running) == containers  # the speakers and the broker: theirs, still running
        assert bagctl("status", env=env, code=1)["code"] == "not-running"
    finally:
        subprocess.run([*compose, "down", "-v", "-t", "2"], capture_output=True, timeout=300)
    assert docker.docker("ps", "-aq", "--filter", f"label=bagemu.region={region}").split() == []
