"""FRR's bgpd through the flood of bench/flood.py, beside bagemu's speaker (issue 17).

The same writer and reader processes, the same 10,000 UPDATEs, timed the same way (the
writer's first byte to the reader's read of the last prefix); the speaker under test is
FRR 8.4's bgpd (Debian 12's ``frr`` package) instead of bagemu's, configured as the
bagemu speaker is: eBGP to both, MRAI 0 (``advertisement-interval 0``), one own route
(the ``SENTINEL`` the reader waits for), ``frr defaults datacenter``, and no
``ebgp-requires-policy`` (FRR's default would refuse every route without a policy).

Each run gets a network namespace of its own (``bagemu-flood-<run id>``, the three
addresses on its loopback) in which bgpd listens and the writer and reader run, and a
temporary directory for its
configuration, pid file, vty socket and log; teardown kills that bgpd by its pid and
removes that namespace and that directory only. ``bgpd -d`` returns once its
configuration is read and it listens, so nothing is polled.

What differs, and whom it favours: bgpd runs without zebra (``-Z``): it keeps no RIB or
FIB beyond BGP's own, where bagemu's speaker also computes a FIB entry per prefix with
UCMP weights (FRR's side does less). bgpd reads and writes in a thread of its own beside
its main one, so it can use both cores; the Python speaker uses one. Only end-to-end
times and bgpd's CPU time (from /proc) are seen from outside, not where bgpd spends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from flood import (  # bench/flood.py, beside this file
    DUT_AS,
    FLOOD_UPDATES,
    READER_AS,
    SENTINEL,
    WORKLOADS,
    WRITER_AS,
    Addresses,
    child,
    line,
    stop_children,
)

BGPD = Path("/usr/lib/frr/bgpd")
# Inside the run's own namespace nothing else listens or holds an address. Not loopback
# ones: bgpd refuses a next hop in 127/8 (martian); these are RFC 2544's benchmark range.
BGP_PORT = 179
ADDRESSES = Addresses("198.18.0.1", "198.18.0.2", "198.18.0.3")


def unavailable() -> str | None:
    """Why FRR cannot be measured here, or None."""
    if not BGPD.exists():
        return f"{BGPD} not found (apt-get install frr)"
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 for a network namespace"
    return None


def bgpd_config(addresses: Addresses) -> str:
    """bgpd's configuration for one run (module docstring)."""
    neighbors = ((addresses.writer, WRITER_AS), (addresses.reader, READER_AS))
    lines = [
        "frr defaults datacenter",
        "hostname dut",
        f"router bgp {DUT_AS}",
        f" bgp router-id {addresses.dut}",
        " timers bgp 30 90",  # as bagemu's speaker (the datacenter defaults are 3 and 9)
        " no bgp ebgp-requires-policy",
        " no bgp network import-check",
    ]
    for address, asn in neighbors:
        lines += [
            f" neighbor {address} remote-as {asn}",
            f" neighbor {address} passive",
            f" neighbor {address} advertisement-interval 0",
        ]
    lines += [" address-family ipv4 unicast", f"  network {SENTINEL}", " exit-address-family"]
    return "\n".join(lines) + "\n"


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def cpu_s(pid: int) -> float:
    """User and system CPU time of ``pid`` (every thread) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def frr_flood_once(n: int = FLOOD_UPDATES, workload: str = "same") -> dict[str, float]:
    """One flood through a fresh bgpd in a fresh namespace: ``first_arrival``,
    ``arrived`` and ``written`` (seconds from the first byte), bgpd's CPU time, and the
    UPDATEs and octets that carried the flood to the reader."""
    run = f"bagemu-flood-{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix=f"{run}-"))
    addresses = ADDRESSES
    namespace = False
    pid: int | None = None
    procs: list[asyncio.subprocess.Process] = []
    try:
        _run("ip", "netns", "add", run)
        namespace = True
        _run("ip", "-n", run, "link", "set", "lo", "up")
        for address in (addresses.dut, addresses.writer, addresses.reader):
            _run("ip", "-n", run, "addr", "add", f"{address}/32", "dev", "lo")
        (tmp / "bgpd.conf").write_text(bgpd_config(addresses))
        _run(
            "ip", "netns", "exec", run, str(BGPD), "-d", "-f", str(tmp / "bgpd.conf"),
            "-i", str(tmp / "bgpd.pid"), "-z", str(tmp / "zserv.api"),
            "--vty_socket", str(tmp), "-P", "0", "-Z", "-S", "-n",
            "-p", str(BGP_PORT), "-l", addresses.dut, "--log", f"file:{tmp / 'bgpd.log'}",
        )  # fmt: skip
        pid = int((tmp / "bgpd.pid").read_text())
        wrap = ("ip", "netns", "exec", run)
        for role in ("--flood-writer", "--flood-reader"):
            procs.append(await child(role, addresses, BGP_PORT, n, workload, wrap))
        writer, reader = procs
        for proc in procs:
            await line(proc, 120)  # the reader: once bgpd's own route has come
        assert writer.stdin is not None
        cpu0 = cpu_s(pid)
        writer.stdin.write(b"go\n")
        await writer.stdin.drain()
        _, t0, t1 = await line(writer, 120)
        _, first, last, updates, octets = await line(reader, 120)
        cpu = cpu_s(pid) - cpu0
    finally:
        await stop_children(procs)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # this run's bgpd (its pid file)
        if namespace:
            _run("ip", "netns", "del", run)
        shutil.rmtree(tmp, ignore_errors=True)
    start = int(t0)
    return {
        "written": (int(t1) - start) / 1e9,
        "first_arrival": (int(first) - start) / 1e9,
        "arrived": (int(last) - start) / 1e9,
        "dut_cpu_s": cpu,
        "updates_out": int(updates),
        "octets_out": int(octets),
    }


def version() -> str:
    """bgpd's version, as it prints it."""
    proc = subprocess.run([str(BGPD), "--version"], capture_output=True, text=True, timeout=30)
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    return first.split()[-1] if first else "unknown"


__all__ = ["frr_flood_once", "unavailable", "version"]

if __name__ == "__main__":  # one flood of each workload, for a look
    started = time.monotonic()
    for workload in WORKLOADS:
        print(workload, asyncio.run(frr_flood_once(workload=workload)))
    print(f"({time.monotonic() - started:.1f} s)")
