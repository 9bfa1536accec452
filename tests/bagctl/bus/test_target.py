"""``resolve``: which running region a command talks to, and each reason there is none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bagctl.bus import BrokerUrl, BusError
from bagctl.bus.host import StateDir
from bagctl.bus.target import Target, resolve

BROKER = "mqtt://127.0.0.1:1883"


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def running(state_dir: Path, region: str, pid: int) -> None:
    StateDir(state_dir).write({"region": region, "pid": pid, "broker": BROKER})


def test_the_only_region_running(tmp_path: Path) -> None:
    running(tmp_path, "mini", os.getpid())
    target = resolve(tmp_path, None, None)
    assert target == Target("mini", BrokerUrl.parse(BROKER), os.getpid(), target.state_dir)
    assert target.state_dir.path == tmp_path


def test_no_region_or_several(tmp_path: Path) -> None:
    with pytest.raises(BusError, match="no region is running") as info:
        resolve(tmp_path / "absent", None, None)
    assert info.value.code == "not-running"
    running(tmp_path, "a", os.getpid())
    running(tmp_path, "b", os.getpid())
    with pytest.raises(BusError, match=r"several regions running \(a, b\): use --region"):
        resolve(tmp_path, None, None)
    assert resolve(tmp_path, "b", None).region == "b"
    with pytest.raises(BusError, match="region c is not running"):
        resolve(tmp_path, "c", None)


def test_a_stale_state_file_is_removed(tmp_path: Path) -> None:
    pid = dead_pid()
    running(tmp_path, "mini", pid)
    with pytest.raises(BusError) as info:
        resolve(tmp_path, None, None)
    assert info.value.code == "not-running"
    assert info.value.message == (
        f"region mini is not running (its process {pid} has exited; removed the stale state file)"
    )
    assert StateDir(tmp_path).regions() == []


def test_by_broker_and_name_without_state(tmp_path: Path) -> None:
    target = resolve(tmp_path, "mini", BROKER)
    assert (target.region, target.url.port, target.pid) == ("mini", 1883, None)
    with pytest.raises(BusError, match="--broker needs --region NAME") as info:
        resolve(tmp_path, None, BROKER)
    assert info.value.code == "bad-payload"
    with pytest.raises(BusError, match="expected mqtt://") as info:
        resolve(tmp_path, "mini", "http://127.0.0.1")
    assert info.value.code == "bad-payload"
