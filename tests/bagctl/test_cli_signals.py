"""Ctrl-C and SIGTERM (bagctl/interrupts.py): a command tears down what it started within
2 s, prints "interrupted" and exits 130 (SIGINT) or 143 (SIGTERM), never 0, so a
cancelled CI job never looks green."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGION = str(ROOT / "topologies" / "region.yaml")  # a cold start of tens of seconds
MINI = str(ROOT / "topologies" / "mini.yaml")
GRACE_S = 2.0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(c) for c in path.read_text().split()]
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bagctl", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip


def until(condition: object, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def stop_with(proc: subprocess.Popen[str], signum: int) -> tuple[float, str]:
    """Send ``signum``; how long the process took to exit, and its stderr."""
    t0 = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    return time.monotonic() - t0, err


def test_ctrl_c_during_up_once_exits_130_and_leaves_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path)}
    proc = start(["up", REGION, "--once", "--workers", "2"], env)
    until(lambda: len(children(proc.pid)) == 2)
    workers = children(proc.pid)
    shard_dirs = {
        Path(arg).parent
        for w in workers
        for arg in Path(f"/proc/{w}/cmdline").read_text().split("\0")
        if arg.endswith(".pickle")
    }
    time.sleep(1.0)  # mid cold start
    took, err = stop_with(proc, signal.SIGINT)
    assert proc.returncode == 130, err[-2000:]
    assert took < GRACE_S and "interrupted" in err
    assert not any(alive(w) for w in workers)
    assert shard_dirs and not any(d.exists() for d in shard_dirs)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_served_region_stopped_by_a_signal_says_so(
    tmp_path: Path, signum: int, code: int
) -> None:
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path)}
    proc = start(["up", MINI], env)
    until(lambda: (tmp_path / "mini.json").exists())
    took, err = stop_with(proc, signum)
    assert proc.returncode == code and "interrupted" in err, err[-2000:]
    assert took < GRACE_S and not (tmp_path / "mini.json").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bagctl_test_interrupted_exits_with_the_signal(tmp_path: Path, jobs: str) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.yaml").write_text(
            "region: {preset: region}\nsteps:\n  - check: true\n"
        )
    proc = start(["test", "-j", jobs, str(tmp_path)])
    time.sleep(3.0)  # the region preset's cold start takes longer than this
    runs = children(proc.pid) if jobs == "2" else []
    took, err = stop_with(proc, signal.SIGTERM)
    assert proc.returncode == 143 and "interrupted" in err, err[-2000:]
    # In one process a region stops between two steps of its clock, and one step of a
    # large cold start can take seconds of CPU; the -j runs are stopped within the grace.
    assert took < (GRACE_S + 1 if jobs == "2" else 15)
    assert not any(alive(c) for c in runs)
