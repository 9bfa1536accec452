"""A region served by a background process (``bagctl up --detach``): starting it and
reading its ready line (the parent's side), and writing that line (the child's side).

The parent runs the child's command in a new session (Ctrl-C in the parent's terminal
does not reach the region), stderr to the region's log (``NAME.log`` in the state
directory), stdout to a pipe. While the region starts, the child writes its progress
there, a JSON line ``{"progress": {...}}`` (a ``RegionProgress``) at most every
``PIPE_INTERVAL_S`` and at each new phase (``ProgressLines``), which the parent shows as
``bagctl up`` in the foreground would; then exactly one final line:
``{"ok": true, **state}`` once the region has converged (``report_ready``), or
``{"ok": false, "error": "..."}`` (``report_failure``); after a ready line its stdout goes
to /dev/null, as the parent has gone. The broker URL may hold a password, so it travels
as the first line on the child's stdin (``read_broker``), never on the command line nor
in the environment (which the region's own children, workers and docker, would inherit).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import IO, Any

from ..runtimes.progress import Pacer, RegionProgress
from .host import AlreadyRunning, StateDir, pid_alive

BROKER_ENV = "BAGEMU_BROKER"
FAILED_LOG_LINES = 5  # of the child's log, in the error when it dies before its line
PIPE_INTERVAL_S = 0.25  # the child's progress lines, at most this often within a phase


def start_detached(
    command: Sequence[str],
    region: str,
    state_dir: StateDir,
    timeout_s: float,
    broker: str | None = None,
    on_progress: Callable[[RegionProgress], None] | None = None,
) -> dict[str, Any]:
    """Run ``command`` (a child that serves ``region`` and says when it is ready) in the
    background; the state in its ready line once the region has converged, within
    ``timeout_s``, its progress until then to ``on_progress``. ``AlreadyRunning`` if the
    region runs; ``RuntimeError`` with the child's error, or its log's last lines if it
    died without one."""
    state = state_dir.read(region)
    if state is not None and isinstance(state.get("pid"), int) and pid_alive(state["pid"]):
        raise AlreadyRunning(
            f"region {region} is already running (pid {state['pid']}); stop it with "
            f"`bagctl down --region {region}`"
        )
    state_dir.path.mkdir(parents=True, exist_ok=True)
    log_path = state_dir.file(region, ".log")
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if k != BROKER_ENV},
        )
    assert proc.stdin is not None and proc.stdout is not None
    with contextlib.suppress(BrokenPipeError):  # (a child that died at once: said below)
        proc.stdin.write(f"{broker or ''}\n".encode())
        proc.stdin.close()
    deadline = time.monotonic() + timeout_s
    line = b""
    for got in _lines(proc.stdout.fileno(), deadline):
        progress = _progress(got)
        if progress is None:
            line = got
            break
        if on_progress is not None:
            on_progress(progress)
    proc.stdout.close()
    if not line:
        # No line: either time is up, or the pipe ended because the child is exiting (it
        # may not have exited yet: wait for that, by the same deadline).
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"region {region} did not converge within {timeout_s:g} s")
        tail = log_path.read_text().strip().splitlines()[-FAILED_LOG_LINES:]
        raise RuntimeError(f"region {region} failed to start: " + " | ".join(tail))
    reply: dict[str, Any] = json.loads(line)
    if not reply.get("ok"):
        proc.wait()
        raise RuntimeError(str(reply.get("error")))
    proc.returncode = 0  # not waited for, by design: the region outlives this process
    reply.pop("ok", None)
    return reply


def _lines(fd: int, deadline: float) -> Iterator[bytes]:
    """Whole lines from ``fd`` until it ends or ``deadline`` passes (read unbuffered, so
    that a line already read never waits in a buffer that ``select`` cannot see); a
    line cut short by the child's death is no line."""
    pending = b""
    while True:
        while b"\n" in pending:
            got, pending = pending.split(b"\n", 1)
            yield got
        left = deadline - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            return
        pending += chunk


def _progress(line: bytes) -> RegionProgress | None:
    """The progress a child's line carries; None for any other line (its last)."""
    try:
        msg = json.loads(line)
        return RegionProgress(**msg["progress"])
    except (ValueError, KeyError, TypeError):
        return None


class ProgressLines:
    """The child's progress to its parent, one JSON line each, paced (module docstring)
    until ``ready``. A parent that has gone (a broken pipe) ends them, not the region."""

    def __init__(self, out: IO[str] | None = None, interval_s: float = PIPE_INTERVAL_S) -> None:
        self._out = out if out is not None else sys.stdout
        self._pacer = Pacer(interval_s)
        self._open = True

    def __call__(self, p: RegionProgress) -> None:
        if not (self._open and self._pacer.due(p)):
            return
        try:
            self._out.write(json.dumps({"progress": asdict(p)}) + "\n")
            self._out.flush()
        except OSError:
            self._open = False

    def ready(self, state: dict[str, Any]) -> None:
        """No more progress: the ready line (``report_ready``)."""
        self._open = False
        report_ready(state)


def read_broker() -> str | None:
    """In the child: the broker URL its parent wrote on stdin (None: the embedded one)."""
    return sys.stdin.readline().strip() or None


def report_ready(state: dict[str, Any]) -> None:
    """The child's ready line: ``state`` to the parent, then stdout to /dev/null."""
    sys.stdout.write(json.dumps({"ok": True, **state}) + "\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def report_failure(message: str) -> None:
    """The child's line when it cannot serve the region (it exits next)."""
    sys.stdout.write(json.dumps({"ok": False, "error": message}) + "\n")
    sys.stdout.flush()


__all__ = [
    "BROKER_ENV",
    "read_broker",
    "PIPE_INTERVAL_S",
    "ProgressLines",
    "report_failure",
    "report_ready",
    "start_detached",
]
