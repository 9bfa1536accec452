"""FRR (zebra + bgpd) as an interop peer, run from Debian's ``frr`` package.

Both daemons run in the foreground in the peer's namespace, every runtime file in the lab's
work directory: ``-z`` the zserv socket, ``--vty_socket`` the directory of the vty
sockets (vtysh is pointed at it), ``-i`` the pid files, ``-f`` the configuration,
``--log file:`` the logs, and ``-P 0`` so no vty TCP port is opened. They drop to the
``frr`` user, so the work directory belongs to it (``prepare_workdir``). zebra installs
bgpd's routes into the kernel of the namespace, with next-hop weights: what
``weighted_ecmp`` is checked against.

bgpd's configuration says what matters for interop: ``datacenter`` defaults (3 s
keepalive, MRAI 0), no eBGP policy requirement, multipath over both links with the
link-bandwidth weights (bgpd's default ``bgp bestpath bandwidth``), a connect timer of
1 s so a session it dials comes back fast, ``passive`` where bagemu dials, one family per
session, and an outbound route-map per link setting the link-bandwidth community in Mb/s.

With the plan's graceful restart timers (interop_plan.py), bgpd runs in graceful restart
mode (``bgp graceful-restart``: it restarts gracefully and helps) with the forwarding
state bit set (``preserve-fw-state``: without it a helper drops bgpd's routes as soon as
it is back) and those timers. FRR 8.4 sets the Restart State bit in every OPEN for the
first 120 s of bgpd's life, whatever ``restart-time`` says (``bgp_create`` arms
``t_startup`` with the default restart time before the configuration sets another;
bgpd/bgpd.c): a fresh bgpd always says it restarted. ``bgpd_started_at`` tells how long ago.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import time
from pathlib import Path
from typing import Any

from daemon_process import DaemonProcess, wait_until
from interop_plan import PEER_PREFIXES, Plan
from netlab import Netns, run
from peer_api import LinkBandwidth, PeerPath, kernel_next_hops, uninstalled

FRR_LIB = Path("/usr/lib/frr")
# Each FRR daemon keeps a log buffer in /var/tmp/frr/<daemon>.<pid>, removed at a clean exit
# (a fixed path in FRR 8.4's lib/zlog.c): after a SIGKILL, ``_forget`` removes that of the
# pid we killed, and only it.
FRR_TMP = Path("/var/tmp/frr")
# FRR 8.4 sets the R bit in its OPENs this long after bgpd starts (BGP_DEFAULT_RESTART_TIME).
STARTUP_R_BIT_S = 120.0
BINARIES = (FRR_LIB / "zebra", FRR_LIB / "bgpd")
_LB = re.compile(r"LB:(\d+):(\d+)")


def missing() -> str | None:
    """Why FRR cannot run here, or None."""
    for binary in BINARIES:
        if not binary.exists():
            return f"{binary} not installed (Debian package frr; scripts/setup.sh)"
    if (why := uninstalled(("vtysh",), "frr")) is not None:
        return why
    try:
        pwd.getpwnam("frr")
    except KeyError:
        return "no frr user (the frr package makes it)"
    return None


def prepare_workdir(workdir: Path) -> None:
    """The daemons run as ``frr``: give it the work directory."""
    user = pwd.getpwnam("frr")
    os.chown(workdir, user.pw_uid, user.pw_gid)


def bgpd_config(plan: Plan, announced: set[str]) -> str:
    lines = ["frr defaults datacenter", f"hostname frr-{plan.run_id}", "!"]
    # The route maps first: a neighbor's ``route-map ... out`` naming one not defined yet
    # is resolved only by the route-map delay timer (5 s), and until then FRR 8.4
    # filters every route out, End-of-RIB sent all the same: a restarted bgpd would have
    # its helpers sweep all its routes.
    for s in plan.family(4):
        lines += [
            f"route-map LB{s.link} permit 10",
            f" set extcommunity bandwidth {s.peer_bps / 1e6:.0f}",  # Mb/s
            "!",
        ]
    lines += [
        f"router bgp {plan.peer_as}",
        f" bgp router-id {plan.peer_router_id}",
        " no bgp default ipv4-unicast",
        " no bgp ebgp-requires-policy",
        " no bgp network import-check",
        " bgp bestpath as-path multipath-relax",
        " timers bgp 3 9",
    ]
    gr = plan.graceful
    if gr is not None:
        lines += [
            " bgp graceful-restart",
            " bgp graceful-restart preserve-fw-state",
            f" bgp graceful-restart restart-time {gr.restart_time_s}",
            f" bgp graceful-restart stalepath-time {gr.stalepath_time_s}",
            f" bgp graceful-restart select-defer-time {gr.select_defer_time_s}",
        ]
    for s in plan.sessions:
        lines += [
            f" neighbor {s.bagemu_address} remote-as {plan.bagemu_as}",
            f" neighbor {s.bagemu_address} timers connect 1",
        ]
        if s.bagemu_dials:
            lines.append(f" neighbor {s.bagemu_address} passive")
    for version, afi in ((4, "ipv4"), (6, "ipv6")):
        lines.append(f" address-family {afi} unicast")
        for prefix in sorted(p for p in announced if (":" in p) == (version == 6)):
            lines.append(f"  network {prefix}")
        lines.append("  maximum-paths 8")
        for s in plan.family(version):
            lines += [
                f"  neighbor {s.bagemu_address} activate",
                f"  neighbor {s.bagemu_address} route-map LB{s.link} out",
            ]
        lines.append(" exit-address-family")
    lines.append("!")
    return "\n".join(lines) + "\n"


def _forget(daemon: str, pid: int | None) -> None:
    """Remove the log buffer directory of a daemon of ours that did not exit cleanly."""
    if pid is not None:
        shutil.rmtree(FRR_TMP / f"{daemon}.{pid}", ignore_errors=True)


def _lb(path: dict[str, Any]) -> LinkBandwidth | None:
    # FRR 8.4 shows "LB:<AS>:<bytes/s as uint32> (<rate>)", the same for 0x00 and 0x40.
    match = _LB.search(path.get("extendedCommunity", {}).get("string", ""))
    if match is None:
        return None
    return LinkBandwidth(int(match[1]), float(match[2]), transitive=None)


def _as_path(path: dict[str, Any]) -> tuple[int, ...]:
    return tuple(asn for seg in path.get("aspath", {}).get("segments", []) for asn in seg["list"])


class FrrPeer:
    name = "frr"
    lb_wraps_at_32_bits = True  # FRR 8.4 reads the float into a uint32 of bytes/s
    weighted_ecmp = True

    def __init__(self, ns: Netns, workdir: Path, plan: Plan) -> None:
        self.ns = ns
        self.workdir = workdir
        self.plan = plan
        self.announced = set(PEER_PREFIXES.values())  # bgpd's network statements
        self.bgpd_started_at: float | None = None  # time.monotonic() of bgpd's last start
        prepare_workdir(workdir)
        common = ["-P", "0", "-z", str(workdir / "zserv.api"), "--vty_socket", str(workdir)]

        def daemon(binary: Path) -> DaemonProcess:
            name = binary.name  # its pid, configuration, log and output files: NAME.*
            return DaemonProcess(
                ns.argv([str(binary), *common, "-i", str(workdir / f"{name}.pid"),
                         "-f", str(workdir / f"{name}.conf"),
                         "--log", f"file:{workdir / f'{name}.log'}"]),
                workdir / f"{name}.out",
            )  # fmt: skip

        self.zebra, self.bgpd = daemon(BINARIES[0]), daemon(BINARIES[1])

    def version(self) -> str:
        return run([str(BINARIES[1]), "--version"]).splitlines()[0]

    def vtysh(self, *commands: str) -> str:
        argv = ["vtysh", "--vty_socket", str(self.workdir)]
        for command in commands:
            argv += ["-c", command]
        return run(argv)

    def _json(self, command: str) -> Any:
        return json.loads(self.vtysh(command) or "{}")

    def start(self) -> None:
        (self.workdir / "zebra.conf").write_text(f"hostname frr-{self.plan.run_id}\n")
        (self.workdir / "bgpd.conf").write_text(bgpd_config(self.plan, self.announced))
        if not self.zebra.running:
            self.zebra.start()
            wait_until(self._answers("zebra", "show zebra client summary"), 30, "zebra's vty")
        self.bgpd.start()
        self.bgpd_started_at = time.monotonic()
        wait_until(self._answers("bgpd", "show bgp summary json"), 30, "bgpd's vty")

    def _answers(self, daemon: str, command: str) -> Any:
        process = self.zebra if daemon == "zebra" else self.bgpd

        def check() -> str | None:
            if not process.running:
                raise AssertionError(f"{daemon} exited:\n{self.logs()}")
            if not (self.workdir / f"{daemon}.vty").exists():
                return f"no {daemon}.vty yet"
            try:
                self.vtysh(command)
            except RuntimeError as exc:
                return str(exc)
            return None

        return check

    def stop(self) -> None:
        for daemon, process in (("bgpd", self.bgpd), ("zebra", self.zebra)):
            pid = process.pid
            if process.stop():
                _forget(daemon, pid)

    def kill(self) -> None:
        pid = self.bgpd.pid
        if self.bgpd.running:
            self.bgpd.kill()  # zebra stays, as on a router whose bgpd crashed
            _forget("bgpd", pid)

    def established(self) -> set[str]:
        summary = self._json("show bgp summary json")
        return {
            addr
            for family in summary.values()
            if isinstance(family, dict)
            for addr, peer in family.get("peers", {}).items()
            if peer.get("state") == "Established"
        }

    def paths(self, prefix: str) -> list[PeerPath]:
        afi = "ipv6" if ":" in prefix else "ipv4"
        route = self._json(f"show bgp {afi} unicast {prefix} json")
        out = []
        for path in route.get("paths", []):
            peer = path.get("peer", {}).get("peerId")
            if peer in (None, "0.0.0.0", "::"):
                continue  # our own network statement
            hops = [h["ip"] for h in path.get("nexthops", []) if h.get("scope") != "link-local"]
            out.append(PeerPath(prefix, peer, hops[0], _as_path(path), _lb(path)))
        return out

    def stale_paths(self, prefix: str) -> set[str]:
        """Addresses of the sessions whose path to ``prefix`` bgpd marks stale (a helper
        keeping a restarting neighbor's routes, RFC 4724 §4.2)."""
        afi = "ipv6" if ":" in prefix else "ipv4"
        route = self._json(f"show bgp {afi} unicast {prefix} json")
        return {
            str(p.get("peer", {}).get("peerId")) for p in route.get("paths", []) if p.get("stale")
        }

    def graceful_info(self, address: str) -> dict[str, Any]:
        """bgpd's graceful restart view of the session to ``address`` (its modes, the
        R bit it received, End-of-RIB sent and received, timers)."""
        neighbor = self._json(f"show bgp neighbors {address} json").get(address, {})
        info: dict[str, Any] = neighbor.get("gracefulRestartInfo", {})
        return info

    def forwarding_weights(self, prefix: str) -> dict[str, int]:
        return kernel_next_hops(self.ns, prefix)

    def _network(self, prefix: str, add: bool) -> None:
        afi = "ipv6" if ":" in prefix else "ipv4"
        self.vtysh(
            "configure terminal",
            f"router bgp {self.plan.peer_as}",
            f"address-family {afi} unicast",
            f"{'' if add else 'no '}network {prefix}",
        )

    def announce(self, prefix: str) -> None:
        self.announced.add(prefix)
        self._network(prefix, add=True)

    def withdraw(self, prefix: str) -> None:
        self.announced.discard(prefix)
        self._network(prefix, add=False)

    def reset(self) -> None:
        self.vtysh("clear bgp *")

    def route_refresh(self) -> None:
        self.vtysh("clear bgp * soft in")  # no soft-reconfiguration: a ROUTE-REFRESH

    def logs(self) -> str:
        parts = []
        for name in ("zebra.out", "zebra.log", "bgpd.out", "bgpd.log"):
            path = self.workdir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-40:]
                parts.append(f"--- frr {name} ---\n" + "\n".join(tail))
        return "\n".join(parts)
