"""What the graceful restart legs watch, beyond interop_checks.py: every change the kernel
in a namespace makes to its routes (``RouteMonitor``), bagemu restarted over its control
socket while the test watches (``restart_bagemu``), and checks for ``wait_until``.

``RouteMonitor`` runs ``ip monitor route`` in the namespace for the whole leg, so a route
that went away and came back between two polls is still seen: "never gone" is checked
against every netlink message, not against samples. It is listening once a marker route
it adds and removes itself shows in its output (the marker is a /32 of 198.18.0.0/15,
RFC 2544's benchmarking range, which nothing in the lab routes). ``ip`` writes through
stdio, so it runs under ``stdbuf -oL``: each line reaches the file as it happens.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from daemon_process import wait_until
from frr_peer import FrrPeer
from interop_lab import Lab
from netlab import Netns, run

MARKER = "198.18.0.1"  # a host route: shown without its /32


class RouteMonitor:
    """``ip monitor route`` in ``ns`` from ``__enter__`` to ``__exit__``, into ``log``."""

    def __init__(self, ns: Netns, log: Path) -> None:
        self.ns = ns
        self.log = log
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RouteMonitor:
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(  # stdbuf: a line out as soon as it is seen
                ["stdbuf", "-oL", "ip", "-n", self.ns.name, "monitor", "route"], stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        wait_until(self._listening, 10, f"ip monitor route in {self.ns.name}")
        return self

    def _listening(self) -> str | None:
        if MARKER in self.log.read_text():
            return None
        route = ["ip", "-n", self.ns.name, "route"]
        run([*route, "replace", "blackhole", MARKER])
        run([*route, "del", "blackhole", MARKER], check=False)
        return "no marker seen yet"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)

    def lines(self, prefix: str) -> list[str]:
        """Every message about ``prefix`` (its route added, replaced or deleted)."""
        out = []
        for line in self.log.read_text().splitlines():
            words = line.split()
            if words[:1] == ["Deleted"]:
                words = words[1:]
            if words[:1] == [prefix]:
                out.append(line)
        return out

    def deletions(self, prefix: str) -> list[str]:
        return [line for line in self.lines(prefix) if line.startswith("Deleted")]


@contextmanager
def restart_bagemu(lab: Lab, graceful: bool, down_s: float) -> Iterator[Future[Any]]:
    """bagemu's ``restart`` control command, sent from a thread so the test can watch
    the peer meanwhile; the future holds the reply (once the new speaker has started)."""
    message = {"cmd": "restart", "graceful": graceful, "down_s": down_s}
    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(lab.bagemu.request, message)


def frr(lab: Lab) -> FrrPeer:
    """The lab's peer, which these legs need to be FRR."""
    assert isinstance(lab.peer, FrrPeer), lab.peer.name
    return lab.peer


def frr_keeps_stale(lab: Lab, prefix: str) -> str | None:
    """FRR holds bagemu's ``prefix`` over every session of its family, each path stale."""
    stale = frr(lab).stale_paths(prefix)
    expected = {str(s.bagemu_address) for s in lab.plan.family(6 if ":" in prefix else 4)}
    return None if stale == expected else f"FRR's stale paths to {prefix}: {sorted(stale)}"


def frr_not_stale(lab: Lab, prefix: str) -> str | None:
    stale = frr(lab).stale_paths(prefix)
    return None if not stale else f"FRR still has stale paths to {prefix}: {sorted(stale)}"


def selection_done(lab: Lab) -> str | None:
    """bagemu, restarted gracefully, has selected its routes (graceful.Deferral)."""
    state = lab.bagemu.request({"cmd": "graceful"})
    return None if not state["deferring"] else f"bagemu still waits for {state['awaited']}"


def family_of(session_version: int) -> str:
    return "ipv6-unicast" if session_version == 6 else "ipv4-unicast"


def helper_done(lab: Lab) -> str | None:
    """Every session up again, its peer's End-of-RIB in, nothing left stale."""
    waiting = []
    views = lab.bagemu.session_counters()
    for s in lab.plan.sessions:
        view = views[s.name]
        if view["state"] != "Established" or family_of(s.version) not in view["end_of_rib_ns"]:
            waiting.append(f"{s.name}: {view['state']}, End-of-RIB {view['end_of_rib_ns']}")
        elif view["stale_routes"]:
            waiting.append(f"{s.name}: {view['stale_routes']} stale")
    return None if not waiting else "; ".join(waiting)
