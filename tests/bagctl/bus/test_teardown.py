"""``stop_region``: how a region is stopped and what is removed, called directly; docker
stands in as ``FakeLeftovers``, the region's process as a child that never reaches a
broker (so the shutdown command fails and signals follow)."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bagctl.bus import BusError
from bagctl.bus.host import StateDir
from bagctl.bus.teardown import LeftoversError, StopMethod, Stopped, removed_text, stop_region


@dataclass
class FakeLeftovers:
    """Containers left by compose runs, by (region, project): what ``remove`` reports."""

    left: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def remove(self, region: str, project: str) -> dict[str, int]:
        self.removed.append((region, project))
        return self.left.pop((region, project), {})


@dataclass
class NetworkKept(FakeLeftovers):
    """Docker removes the containers but keeps the network (an endpoint it will not let
    go, as Docker 20.10 can)."""

    def remove(self, region: str, project: str) -> dict[str, int]:
        removed = {k: n for k, n in super().remove(region, project).items() if k != "network"}
        raise LeftoversError(f"network {project}_region has active endpoints", removed)


OURS, THEIRS = "bagemu-mini-0a1b2c3d", "bagemu-mini-99887766"  # two runs of one region


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def record(state_dir: Path, region: str, pid: int, project: str | None = None) -> None:
    """A state file for ``region`` (a compose run's ``project``), its broker a port nobody
    listens on."""
    broker = f"mqtt://127.0.0.1:{free_port()}"
    state = {"region": region, "pid": pid, "broker": broker}
    StateDir(state_dir).write(state | ({"project": project} if project else {}))


def region_process(ignore_sigterm: bool) -> subprocess.Popen[str]:
    """A process standing for a region's: it says ``ready`` once its SIGTERM handling is
    in place, then waits for its stdin to close (it does not before a signal ends it).
    Use it with ``with``: that closes its pipes."""
    code = "import signal, sys\n"
    if ignore_sigterm:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('ready', flush=True)\nsys.stdin.read()\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def test_process_already_gone_and_nothing_left(tmp_path: Path) -> None:
    pid = dead_pid()
    record(tmp_path, "mini", pid)
    leftovers = FakeLeftovers({("mini", THEIRS): {"container": 3}})
    with pytest.raises(BusError) as info:
        stop_region(tmp_path, timeout_s=5, leftovers=leftovers)
    assert info.value.code == "not-running"
    assert info.value.message == (
        f"region mini is not running (its process {pid} has exited; removed the stale state file)"
    )
    assert StateDir(tmp_path).regions() == [] and leftovers.removed == []


def test_process_already_gone_only_its_own_runs_containers_removed(tmp_path: Path) -> None:
    record(tmp_path, "mini", dead_pid(), OURS)
    leftovers = FakeLeftovers(
        {("mini", OURS): {"container": 10, "network": 1}, ("mini", THEIRS): {"container": 37}}
    )
    stopped = stop_region(tmp_path, timeout_s=5, leftovers=leftovers)
    assert stopped == Stopped("mini", None, StopMethod.LEFTOVERS, {"container": 10, "network": 1})
    assert leftovers.removed == [("mini", OURS)]
    assert ("mini", THEIRS) in leftovers.left  # another job's run of a region named mini
    assert stopped.as_dict() == {
        "region": "mini",
        "pid": None,
        "stopped_by": "removing what its compose project left (its process had died)",
        "removed": {"container": 10, "network": 1},
    }
    assert removed_text(stopped.removed) == "10 containers, 1 network"
    assert StateDir(tmp_path).regions() == []


def test_what_docker_will_not_remove_is_reported_and_the_region_still_stops(
    tmp_path: Path,
) -> None:
    """A dead run's sweep and a live run's (after SIGTERM): the region is stopped either
    way, and what stays is said, not reported as removed (a compose run's network that
    docker kept used to pass as a clean teardown)."""
    record(tmp_path, "mini", dead_pid(), OURS)
    leftovers = NetworkKept({("mini", OURS): {"container": 10, "network": 1}})
    stopped = stop_region(tmp_path, timeout_s=5, leftovers=leftovers)
    kept = f"network {OURS}_region has active endpoints"
    assert stopped == Stopped(
        "mini", None, StopMethod.LEFTOVERS, {"container": 10}, not_removed=kept
    )
    assert stopped.as_dict()["not_removed"] == kept and StateDir(tmp_path).regions() == []
    with region_process(ignore_sigterm=False) as proc:
        record(tmp_path, "mini", proc.pid, OURS)
        stopped = stop_region(tmp_path, timeout_s=30, leftovers=NetworkKept())
        assert proc.wait(timeout=5) == -15
    assert stopped.method is StopMethod.SIGTERM and stopped.not_removed == kept
    assert stopped.removed == {} and StateDir(tmp_path).regions() == []


def test_without_a_state_file_nothing_is_touched(tmp_path: Path) -> None:
    """Containers of a region named mini run, but no state file here says they are this
    user's: `bagctl down` (by name or not) removes nothing (issue 16: it used to remove
    another job's compose region)."""
    leftovers = FakeLeftovers({("mini", THEIRS): {"container": 37, "network": 1}})
    for region in (None, "mini"):
        with pytest.raises(BusError) as info:
            stop_region(tmp_path, region, timeout_s=5, leftovers=leftovers)
        assert info.value.code == "not-running"
    assert leftovers.removed == []


def test_several_states_and_none_named_is_not_guessed(tmp_path: Path) -> None:
    record(tmp_path, "a", dead_pid())
    record(tmp_path, "b", dead_pid())
    leftovers = FakeLeftovers({("a", OURS): {"container": 1}})
    with pytest.raises(BusError, match=r"several regions running \(a, b\): use --region"):
        stop_region(tmp_path, timeout_s=5, leftovers=leftovers)
    assert leftovers.removed == []


def test_bus_not_answering_then_sigterm(tmp_path: Path) -> None:
    leftovers = FakeLeftovers({("mini", OURS): {"container": 2}, ("mini", THEIRS): {"volume": 1}})
    with region_process(ignore_sigterm=False) as proc:
        record(tmp_path, "mini", proc.pid, OURS)
        stopped = stop_region(tmp_path, timeout_s=30, leftovers=leftovers)
        assert proc.wait(timeout=5) == -15
    assert (stopped.region, stopped.pid, stopped.method) == ("mini", proc.pid, StopMethod.SIGTERM)
    assert "cannot reach its broker" in (stopped.shutdown_error or "") and not stopped.killed
    assert stopped.stopped_by == (
        f"SIGTERM ({stopped.shutdown_error}), then removed what its compose project left "
        "(2 containers)"
    )
    assert leftovers.removed == [("mini", OURS)] and StateDir(tmp_path).regions() == []


def test_sigterm_ignored_then_sigkill(tmp_path: Path) -> None:
    with region_process(ignore_sigterm=True) as proc:
        record(tmp_path, "mini", proc.pid)
        stopped = stop_region(tmp_path, "mini", timeout_s=0.2, leftovers=FakeLeftovers())
        assert proc.wait(timeout=5) == -9
    assert stopped.killed and stopped.removed == {}
    assert stopped.stopped_by == f"SIGTERM ({stopped.shutdown_error}), then SIGKILL"


def test_by_broker_without_a_process_the_bus_error_is_raised(tmp_path: Path) -> None:
    broker = f"mqtt://127.0.0.1:{free_port()}"
    with pytest.raises(BusError, match="cannot reach its broker") as info:
        stop_region(tmp_path, "mini", broker, timeout_s=5, leftovers=FakeLeftovers())
    assert info.value.code == "not-running"
    with pytest.raises(BusError, match="--broker needs --region") as info:
        stop_region(tmp_path, None, broker, timeout_s=5, leftovers=FakeLeftovers())
    assert info.value.code == "bad-payload"
