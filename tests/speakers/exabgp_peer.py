"""A real ExaBGP 5 daemon as a test peer: spawned on loopback, driven and watched over its API.

How it is driven. ``ExaBgp.start()`` writes an exabgp configuration (one neighbor, IPv4 and
IPv6 unicast) and runs ``python -m exabgp server CONFIG`` as a subprocess. The configuration
has one API ``process``: this very file run as a script (``bridge``), with ``encoder json``,
``neighbor-changes`` and ``receive { parsed; update; notification; }``. exabgp writes its JSON
messages (and ``done``/``error`` acknowledgements of our commands) to the bridge's stdin and
reads API commands (``announce route ...``) from its stdout; the bridge connects back to a TCP
server the test runs on 127.0.0.1 and copies lines both ways. So the test sends commands and
awaits their acknowledgement, and reads exabgp's messages as they arrive: nothing polls a file
and nothing sleeps.

What exabgp received is folded into ``ExaBgp.rib`` (its Adj-RIB-In, from the JSON UPDATEs) and
``ExaBgp.state`` (from its ``state`` messages); ``wait(check)`` re-checks a condition after
every message, under a timeout.

Environment (exabgp 5.0.15, ``exabgp/environment/setup.py``): ``exabgp_daemon_drop=false``,
because as root exabgp otherwise switches to ``nobody`` before forking its API processes (or
refuses to run if it cannot), and a bridge run as ``nobody`` cannot start a Python kept under
/root: exabgp then stops with "lost the helper process". ``exabgp_api_cli=false``: no named
pipes. ``exabgp_tcp_bind`` and ``exabgp_tcp_port`` say where it listens (empty bind: it does
not listen); the neighbor's ``connect`` port is where it dials. Its log goes to
``<workdir>/<name>.log``.

Killing exabgp (SIGKILL) closes the bridge's stdin; the bridge then exits. The bridge runs in
its own process group (exabgp's ``preexec_fn``), so ``close()`` also kills it, through a pidfd
on the pid it reported, in case it outlived its parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --- the bridge: exabgp's API process (runs as a script, stdlib only) ------------------------


def bridge(port: int) -> None:
    """exabgp stdin -> socket, socket -> exabgp stdout, one line at a time; exit when either
    side closes."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(json.dumps({"bridge_pid": os.getpid()}).encode() + b"\n")

    def from_exabgp() -> None:
        for line in sys.stdin.buffer:
            sock.sendall(line)
        os._exit(0)  # exabgp is gone

    threading.Thread(target=from_exabgp, daemon=True).start()
    for line in sock.makefile("rb"):
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    os._exit(0)  # the test is gone


# --- link bandwidth as exabgp writes and shows it --------------------------------------------


def link_bandwidth_hex(bandwidth_bps: float, asn: int, *, transitive: bool = True) -> str:
    """The raw-hex extended community exabgp's configuration accepts (``0x0004...``).

    exabgp's keyword form ``bandwidth:ASN:VALUE`` packs VALUE from an integer that must fit in
    32 bits (bytes/s), i.e. up to ~34.36 Gb/s; the raw form carries any binary32.
    """
    raw = struct.pack(">BBHf", 0x00 if transitive else 0x40, 0x04, asn, bandwidth_bps / 8)
    return "0x" + raw.hex()


@dataclass(frozen=True)
class DecodedLinkBandwidth:
    type_high: int
    subtype: int
    asn: int
    bytes_per_s: float


def decode_extended_community(value: int) -> DecodedLinkBandwidth:
    """exabgp 5.0.15's JSON gives an extended community it does not know (link bandwidth
    among them) only as ``{"value": <the 8 octets as an integer>, "string": ""}``."""
    raw = value.to_bytes(8, "big")
    type_high, subtype, asn, bytes_per_s = struct.unpack(">BBHf", raw)
    return DecodedLinkBandwidth(type_high, subtype, asn, bytes_per_s)


# --- the daemon -----------------------------------------------------------------------------


@dataclass
class Route:
    """One prefix in exabgp's Adj-RIB-In: the UPDATE's attributes and next hop, as exabgp's
    JSON has them."""

    next_hop: str
    attributes: dict[str, Any]


@dataclass
class ExaBgp:
    """One exabgp process with one neighbor (module docstring).

    ``passive``: exabgp listens on ``address``:``port`` and never dials; otherwise it dials
    ``peer_address``:``peer_port`` and does not listen.
    """

    name: str
    address: str
    asn: int
    peer_address: str
    peer_asn: int
    peer_port: int
    workdir: Path
    passive: bool = False
    port: int = 179
    hold_time_s: int = 9
    messages: list[dict[str, Any]] = field(default_factory=list)
    rib: dict[str, Route] = field(default_factory=dict)
    end_of_rib: list[tuple[str, str]] = field(default_factory=list)  # (afi, safi) as received
    state: str = "down"

    def __post_init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._bridge_pidfd: int | None = None
        self._connected = asyncio.Event()
        self._changed = asyncio.Event()
        self._acks: asyncio.Queue[str] = asyncio.Queue()
        self._log: Any = None

    # -- lifecycle ------------------------------------------------------------------------

    def config_text(self, bridge_port: int) -> str:
        mode = "passive true;" if self.passive else f"connect {self.peer_port};"
        return f"""\
process bridge {{
    run {sys.executable} {Path(__file__).resolve()} {bridge_port};
    encoder json;
}}
neighbor {self.peer_address} {{
    router-id {self.address};
    local-address {self.address};
    local-as {self.asn};
    peer-as {self.peer_asn};
    hold-time {self.hold_time_s};
    {mode}
    family {{
        ipv4 unicast;
        ipv6 unicast;
    }}
    api {{
        processes [ bridge ];
        neighbor-changes;
        receive {{
            parsed;
            update;
            notification;
        }}
    }}
}}
"""

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in [k for k in env if k.lower().startswith("exabgp")]:
            del env[key]  # nothing from the caller's environment changes the daemon
        env.update(
            exabgp_daemon_drop="false",  # as root: keep root for the bridge (docstring)
            exabgp_daemon_daemonize="false",
            exabgp_api_cli="false",
            exabgp_api_ack="true",
            exabgp_api_respawn="false",
            exabgp_log_destination="stdout",
            exabgp_log_level="INFO",
            exabgp_tcp_bind=self.address if self.passive else "",
            exabgp_tcp_port=str(self.port if self.passive else self.peer_port),
        )
        return env

    async def start(self, timeout_s: float = 15.0) -> None:
        """Spawn exabgp and wait until its API process has connected back."""
        self._connected.clear()
        self._acks = asyncio.Queue()  # a killed exabgp's unanswered commands are gone
        self.rib.clear()
        self.state = "down"
        if self._server is None:
            self._server = await asyncio.start_server(
                self._on_bridge, "127.0.0.1", 0, limit=1 << 22
            )
        bridge_port = self._server.sockets[0].getsockname()[1]
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / f"{self.name}.conf"
        config.write_text(self.config_text(bridge_port))
        if self._log is None:
            self._log = open(self.workdir / f"{self.name}.log", "ab")  # noqa: SIM115
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "exabgp",
            "server",
            str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            env=self.environment(),
            cwd=self.workdir,
        )
        connected = asyncio.ensure_future(self._connected.wait())
        exited = asyncio.ensure_future(self._proc.wait())
        try:
            await asyncio.wait(
                (connected, exited), timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
            exited.cancel()
        if not self._connected.is_set():
            raise AssertionError(
                f"{self.name}: exabgp's API process did not connect\n{self.log_text()}"
            )

    async def kill(self, timeout_s: float = 10.0) -> None:
        """SIGKILL exabgp: its TCP session drops with no NOTIFICATION (a failed peer). Returns
        once exabgp is reaped and its API process has gone."""
        async with asyncio.timeout(timeout_s):
            if self._proc is not None and self._proc.returncode is None:
                self._proc.send_signal(signal.SIGKILL)
                await self._proc.wait()
            self._proc = None
            if self._reader_task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader_task  # ends when the bridge sees its stdin close
        self._kill_bridge()

    async def close(self) -> None:
        """Kill exabgp and its API process, and release everything (call in ``finally``)."""
        try:
            await self.kill()
        finally:
            self._kill_bridge()
            if self._proc is not None and self._proc.returncode is None:
                self._proc.kill()
            if self._reader_task is not None and not self._reader_task.done():
                self._reader_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader_task
            self._close_sockets_and_log()
        await self._server_closed()

    def _close_sockets_and_log(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    async def _server_closed(self) -> None:
        if self._server is not None:
            async with asyncio.timeout(5):
                await self._server.wait_closed()
            self._server = None

    def _kill_bridge(self) -> None:
        # Through a pidfd opened while the bridge was surely alive (it had just connected):
        # if it has exited and been reaped since, its pid may name another process by now.
        if self._bridge_pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._bridge_pidfd, signal.SIGKILL)
            os.close(self._bridge_pidfd)
            self._bridge_pidfd = None

    def log_text(self) -> str:
        path = self.workdir / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- the API ---------------------------------------------------------------------------

    async def command(self, line: str, timeout_s: float = 10.0) -> None:
        """Send one API command and wait for exabgp's ``done`` (raises on ``error``)."""
        assert self._writer is not None, "exabgp's API process is not connected"
        async with asyncio.timeout(timeout_s):
            self._writer.write(line.encode() + b"\n")
            await self._writer.drain()
            answer = await self._acks.get()
        if answer != "done":
            raise AssertionError(f"exabgp answered {answer!r} to {line!r}\n{self.log_text()}")

    async def wait(self, check: Callable[[], bool], timeout_s: float = 15.0) -> None:
        """Until ``check()`` holds, re-checked after each message exabgp reports."""
        try:
            async with asyncio.timeout(timeout_s):
                while not check():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: not reached in {timeout_s} s; state {self.state}, rib {self.rib}"
            ) from None

    async def _on_bridge(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = writer
        self._reader_task = asyncio.current_task()
        try:
            first = json.loads(await reader.readline())
            self._kill_bridge()  # a previous one, if it outlived its exabgp
            self._bridge_pidfd = os.pidfd_open(first["bridge_pid"])
            self._connected.set()
            while line := await reader.readline():
                self._on_line(line.decode().strip())
        finally:
            writer.close()
            self.state = "down"  # the API process is gone, and exabgp with it
            self._changed.set()

    def _on_line(self, line: str) -> None:
        if not line.startswith("{"):
            self._acks.put_nowait(line)  # text acknowledgement: done / error / shutdown
            return
        message = json.loads(line)
        if "answer" in message:
            self._acks.put_nowait(message["answer"])
            return
        self.messages.append(message)
        kind = message.get("type")
        if kind == "state":
            self.state = message["neighbor"]["state"]
            if self.state == "down":
                self.rib.clear()
        elif kind == "update":
            body = message["neighbor"]["message"]
            if "eor" in body:  # End-of-RIB (RFC 4724 §2): {"afi": "ipv4", "safi": "unicast"}
                self.end_of_rib.append((body["eor"]["afi"], body["eor"]["safi"]))
            else:
                self._on_update(body["update"])
        self._changed.set()

    def _on_update(self, update: dict[str, Any]) -> None:
        # exabgp 5 JSON: {"attribute": {...}, "announce": {"ipv4 unicast": {NEXT_HOP:
        # [{"nlri": PREFIX}, ...]}}, "withdraw": {"ipv4 unicast": [{"nlri": PREFIX}, ...]}}
        for nlris in update.get("withdraw", {}).values():
            for nlri in nlris:
                self.rib.pop(_canonical(nlri["nlri"]), None)
        attributes = update.get("attribute", {})
        for by_next_hop in update.get("announce", {}).values():
            for next_hop, nlris in by_next_hop.items():
                for nlri in nlris:
                    self.rib[_canonical(nlri["nlri"])] = Route(next_hop, attributes)


def _canonical(prefix: str) -> str:
    return str(ipaddress.ip_network(prefix))


if __name__ == "__main__":
    bridge(int(sys.argv[1]))
