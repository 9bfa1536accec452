"""Fixtures shared by the runtime tests: the speaker image the compose runtime runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bagctl.runtimes import docker

ROOT = Path(__file__).resolve().parents[3]


def daemon_reachable() -> str | None:
    """None if a docker daemon answers, else why not."""
    try:
        docker.check_daemon()
    except docker.DockerError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def speaker_image() -> str:
    """bagemu-speaker:latest, built by scripts/build-local-base.sh (no pull; the script
    skips what exists, so only a new machine pays for the base)."""
    why = daemon_reachable()
    if why is not None:
        pytest.skip(f"no docker daemon: {why}")
    if shutil.which("docker-compose") is None and shutil.which("docker") is None:
        pytest.skip("no docker compose")
    t0 = time.monotonic()
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-local-base.sh")],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "PYTHON": sys.executable},
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    timings = [line for line in proc.stdout.splitlines() if line.startswith(("time", "base"))]
    print(f"\nimage build ({time.monotonic() - t0:.1f} s): " + "; ".join(timings))
    return "bagemu-speaker:latest"


@pytest.fixture(scope="session")
def swarm_manager(speaker_image: str) -> str:
    """The speaker image, on an engine that manages an active swarm (.ci/run makes a
    one-node swarm where the machine has none, and leaves it afterwards)."""
    from bagctl.runtimes import swarmdocker

    try:
        swarmdocker.check_manager()
    except docker.DockerError as exc:
        pytest.skip(str(exc))
    return speaker_image
