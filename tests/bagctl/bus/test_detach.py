"""A region's background process, called directly: ``start_detached`` reading the progress
and ready lines of children that stand for ``bagctl up --daemon-child`` (each writes its
line with ``report_ready``/``report_failure``, or dies, or never answers)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bagctl.bus.detach import BROKER_ENV, ProgressLines, start_detached
from bagctl.bus.host import AlreadyRunning, StateDir
from bagctl.runtimes.progress import RegionProgress


def child(code: str) -> list[str]:
    return [sys.executable, "-c", "import os, sys\nfrom bagctl.bus import detach\n" + code]


def test_the_ready_line_then_stdout_closed(tmp_path: Path) -> None:
    sd = StateDir(tmp_path / "state")
    code = (  # the broker from stdin, never the environment (which children inherit)
        "assert %r not in os.environ\n"
        "detach.report_ready({'region': 'x', 'pid': os.getpid(), 'broker': detach.read_broker()})\n"
        "print('after the ready line: to /dev/null, not to a closed pipe')\n"
        "sys.stderr.write('logged\\n')\n" % BROKER_ENV
    )
    state = start_detached(child(code), "x", sd, 30, "mqtt://u:p@127.0.0.1:1883")
    assert list(state) == ["region", "pid", "broker"]  # "ok" is the line's, not the state's
    assert state["region"] == "x" and state["broker"] == "mqtt://u:p@127.0.0.1:1883"
    os.waitpid(state["pid"], 0)  # the child runs on, unwaited: reap it here
    assert (sd.path / "x.log").read_text() == "logged\n"


def test_the_childs_error(tmp_path: Path) -> None:
    code = "detach.report_failure('region x: no such thing')\nsys.exit(1)\n"
    with pytest.raises(RuntimeError, match=r"^region x: no such thing$"):
        start_detached(child(code), "x", StateDir(tmp_path), 30)


def test_a_child_that_dies_without_a_line(tmp_path: Path) -> None:
    code = "for i in range(8):\n    print('line', i, file=sys.stderr)\nsys.exit(3)\n"
    with pytest.raises(RuntimeError) as info:
        start_detached(child(code), "x", StateDir(tmp_path), 30)
    assert str(info.value) == (
        "region x failed to start: line 3 | line 4 | line 5 | line 6 | line 7"
    )


def test_a_child_that_never_answers_is_killed(tmp_path: Path) -> None:
    code = "import time\ntime.sleep(60)\n"
    with pytest.raises(RuntimeError, match=r"^region x did not converge within 0.5 s$"):
        start_detached(child(code), "x", StateDir(tmp_path), 0.5)


def test_a_region_running_is_not_started_twice(tmp_path: Path) -> None:
    sd = StateDir(tmp_path)
    sd.write({"region": "x", "pid": os.getpid(), "broker": "mqtt://127.0.0.1:1"})
    with pytest.raises(AlreadyRunning, match=rf"region x is already running \(pid {os.getpid()}\)"):
        start_detached(child("raise SystemExit('must not run')"), "x", sd, 30)
    assert not (tmp_path / "x.log").exists()


def test_a_stale_state_does_not_stop_a_start(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    sd = StateDir(tmp_path)
    sd.write({"region": "x", "pid": proc.pid, "broker": "mqtt://127.0.0.1:1"})
    state = start_detached(child("detach.report_ready({'pid': os.getpid()})"), "x", sd, 30)
    os.waitpid(state["pid"], 0)


def test_progress_lines_before_the_ready_line_reach_the_parent_in_order(tmp_path: Path) -> None:
    code = (
        "from bagctl.runtimes.progress import RegionProgress as P\n"
        "lines = detach.ProgressLines(interval_s=0)\n"
        "lines(P('sessions', 1, 2, 0))\n"
        "lines(P('sessions', 1, 2, 0))  # a repeat: not sent\n"
        "lines(P('routes', 2, 2, 7, 40))\n"
        "lines.ready({'pid': os.getpid()})\n"
        "lines(P('routes', 2, 2, 9, 50))  # after the ready line: not sent\n"
    )
    seen: list[RegionProgress] = []
    state = start_detached(child(code), "x", StateDir(tmp_path), 30, on_progress=seen.append)
    os.waitpid(state["pid"], 0)
    assert seen == [RegionProgress("sessions", 1, 2, 0), RegionProgress("routes", 2, 2, 7, 40)]


def test_progress_lines_to_a_parent_that_has_gone_end_without_an_error() -> None:
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as out:
        lines = ProgressLines(out, interval_s=0)
        lines(RegionProgress("sessions", 0, 2, 0))  # EPIPE: no more lines, no exception
        lines(RegionProgress("sessions", 1, 2, 0))
        with contextlib.suppress(BrokenPipeError):
            out.close()
