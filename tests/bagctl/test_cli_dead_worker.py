"""``kill -9`` of a worker of a detached region (issue 16): the bus keeps answering,
``status`` says the region is degraded, a link of the live switches still goes down and
converges, and ``bagctl down`` stops it by its shutdown command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MINI = str(ROOT / "topologies" / "mini.yaml")


def bagctl(env: dict[str, str], *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bagctl", *args, "--json"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    return json.loads(proc.stdout)


def test_a_killed_worker_leaves_a_region_that_answers(tmp_path: Path) -> None:
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path)}
    up = bagctl(env, "up", MINI, "--workers", "2", "--detach")
    assert up["ok"], up
    try:
        pid = up["pid"]
        workers = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        os.kill(workers[-1], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while "degraded" not in (status := bagctl(env, "status"))["result"]:
            assert status["ok"] and time.monotonic() < deadline, status
            time.sleep(0.2)
        assert "exited with -9" in status["result"]["degraded"]
        down = bagctl(env, "link", "down", "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")
        report = down["result"]["report"]
        assert down["ok"] and report["session_losses"] == 0, down
        assert report["sessions_established"] == report["sessions_expected"]
    finally:
        stopped = bagctl(env, "down")
    assert stopped["ok"] and stopped["stopped_by"] == "shutdown command", stopped
