"""The bagemu speaker as the interop tests run it: ``python -m speakers CONFIG --control
SOCK`` inside its namespace, asked over its control socket (speakers/control.py) what its
sessions, RIB and FIB hold, and told what to announce and withdraw.

The control socket is a Unix socket in the lab's work directory: a file, so the test
reaches it from the host's namespace. The speaker runs from this checkout (PYTHONPATH),
so the code under test is the code in the tree.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from daemon_process import DaemonProcess, wait_until
from interop_plan import Plan, bagemu_config
from netlab import Netns

ROOT = Path(__file__).resolve().parents[3]


class BagemuSpeaker:
    def __init__(self, ns: Netns, workdir: Path, plan: Plan) -> None:
        self.plan = plan
        self.config = workdir / "bagemu.yaml"
        self.config.write_text(bagemu_config(plan))
        self.control = workdir / "bagemu.sock"
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        argv = [sys.executable, "-m", "speakers", str(self.config), "--control", str(self.control)]
        self.process = DaemonProcess(
            ns.argv(argv), workdir / "bagemu.log", env={**os.environ, "PYTHONPATH": path}
        )

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the speaker and wait until its control socket answers."""
        self.control.unlink(missing_ok=True)  # a killed speaker's socket is left behind
        self.process.start()

        def answering() -> str | None:
            if not self.process.running:
                raise AssertionError(f"bagemu exited:\n{self.process.log_tail()}")
            try:
                self.request({"cmd": "sessions"})
            except OSError as exc:
                return f"control socket: {exc}"
            return None

        wait_until(answering, timeout_s, "bagemu's control socket")

    def request(self, message: dict[str, Any]) -> Any:
        """One request over the control socket; its result (a refusal raises)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.control))
            sock.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
        if not reply["ok"]:
            raise RuntimeError(f"bagemu refused {message}: {reply['error']}")
        return reply["result"]

    def sessions(self) -> dict[str, str]:
        """Neighbor name -> FSM state."""
        return {s["neighbor"]: s["state"] for s in self.request({"cmd": "sessions"})}

    def session_counters(self) -> dict[str, dict[str, Any]]:
        return {s["neighbor"]: s for s in self.request({"cmd": "sessions"})}

    def fib(self) -> dict[str, dict[str, int]]:
        """Prefix -> next hop -> integer UCMP weight."""
        return {
            e["prefix"]: {nh["next_hop"]: nh["weight"] for nh in e["next_hops"]}
            for e in self.request({"cmd": "fib"})
        }

    def rib_bandwidths(self, prefix: str) -> dict[str, float | None]:
        """For ``prefix``: path source (neighbor name) -> link bandwidth, bits/s."""
        routes = self.request({"cmd": "rib", "prefix": prefix})
        return {p["source"]: p["link_bandwidth_bps"] for r in routes for p in r["paths"]}

    def announce(self, prefix: str, bandwidth_bps: float) -> None:
        self.request({"cmd": "announce", "prefix": prefix, "bandwidth": bandwidth_bps})

    def withdraw(self, prefix: str) -> None:
        self.request({"cmd": "withdraw", "prefix": prefix})

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()
