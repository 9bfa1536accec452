"""A daemon run in the foreground inside a namespace, and waiting on a condition.

``DaemonProcess`` owns one child process: started with its output in a log file, stopped
with SIGTERM (SIGKILL past a deadline) or killed outright, always by its own pid (``ip
netns exec`` execs the daemon, so the child's pid is the daemon's). Nothing here looks
processes up by name.

``wait_until`` is how every test waits: it polls a check that returns None once the
condition holds, else what is still missing, until a deadline; on timeout the assertion
says what was missing last. No test sleeps for a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

POLL_S = 0.1


def wait_until(check: Callable[[], str | None], timeout_s: float, what: str) -> float:
    """Poll ``check`` until it returns None; seconds it took. Raises AssertionError with
    ``what`` and the check's last answer after ``timeout_s``."""
    start = time.monotonic()
    deadline = start + timeout_s
    while True:
        missing = check()
        if missing is None:
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s: {missing}")
        time.sleep(POLL_S)


class DaemonProcess:
    """One foreground daemon: ``argv`` run with stdout and stderr appended to ``log``."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log = log
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.argv[0]} already running (pid {self.pid})")
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
            )  # fmt: skip

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the daemon gets no chance to say goodbye (no NOTIFICATION)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=30)

    def stop(self, timeout_s: float = 10.0) -> bool:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout_s``; whether it
        had to be killed."""
        if self._proc is None or self._proc.poll() is not None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return True
        return False

    def log_tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return f"({self.log} not written)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
