"""BIRD 2 as an interop peer, from Debian's ``bird2`` package.

``bird -f -c CONF -s SOCK -P PID`` runs in the foreground in the peer's namespace, its
configuration, control socket and pid file in the lab's work directory, its log on stderr
(into the lab's log file); ``birdc -s SOCK`` asks it. BIRD has no JSON: ``birdc show
route ... all`` and ``show protocols`` are parsed here, and the only figures read from
them are the AS path, the next hop and the extended communities.

The configuration: one ``bgp`` protocol per session, named as the session, with one
channel (its family), ``passive on`` where bagemu dials, 1 s connect delay and retry and a
short error wait, so a dropped session comes back in seconds. Each protocol's export
filter adds the link-bandwidth community to the peer's own (static) routes, written as a
``generic`` community: type 0x00, subtype 0x04, the peer's AS, and the IEEE float of
bytes/s as a 32-bit integer. A prefix's static protocol is enabled and disabled to
announce and withdraw it.

BIRD shows a community it has no name for as ``(unknown 0x<type><subtype>, <AS>,
<value>)``: that says transitive (0x00) or not (0x40), and the value is the float's bits.
BIRD does ECMP (``merge paths``) but not by link bandwidth: ``weighted_ecmp`` is false.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from daemon_process import DaemonProcess, wait_until
from interop_plan import PEER_PREFIXES, Plan
from netlab import Netns, run
from peer_api import LinkBandwidth, PeerPath, kernel_next_hops, uninstalled

_PATH = re.compile(r"^(\S+)?\s+\w+\s+\[(\w+)\s")
_UNKNOWN_EC = re.compile(r"\(unknown 0x([0-9a-f]+), (\d+), (\d+)\)")


def missing() -> str | None:
    return uninstalled(("bird", "birdc"), "bird2")


def _float_bits(value: float) -> int:
    return int(struct.unpack(">I", struct.pack(">f", value))[0])


def static_name(prefix: str) -> str:
    return "static6" if ":" in prefix else "static4"


def bird_config(plan: Plan, announced: set[str]) -> str:
    lines = [
        f"router id {plan.peer_router_id};",
        "log stderr all;",
        "protocol device {}",
    ]
    for version, prefix in PEER_PREFIXES.items():
        disabled = "no" if prefix in announced else "yes"
        lines.append(
            f"protocol static {static_name(prefix)} {{ ipv{version}; disabled {disabled}; "
            f"route {prefix} blackhole; }}"
        )
    lines += [
        "template bgp bagemu {",
        f"  local as {plan.peer_as};",
        "  hold time 9; keepalive time 3;",
        "  connect delay time 1; connect retry time 1; error wait time 1, 2;",
        "}",
    ]
    for s in plan.sessions:
        high = (0x0004 << 16) | plan.peer_as  # type 0x00, subtype 0x04, our AS
        community = f"(generic, {high:#x}, {_float_bits(s.peer_bps / 8):#x})"
        lines += [
            f"protocol bgp {s.name} from bagemu {{",
            f"  neighbor {s.bagemu_address} as {plan.bagemu_as};",
            f"  local {s.peer_address} as {plan.peer_as};",
            f"  passive {'on' if s.bagemu_dials else 'off'};",
            f"  ipv{s.version} {{ import all; export filter {{",
            "    if source != RTS_STATIC then reject;",
            f"    bgp_ext_community.add({community}); accept; }}; }};",
            "}",
        ]
    return "\n".join(lines) + "\n"


def _lb(text: str) -> LinkBandwidth | None:
    for match in _UNKNOWN_EC.finditer(text):
        kind = int(match[1], 16)
        if kind & 0xFF == 0x04 and kind >> 8 in (0x00, 0x40):
            value = struct.unpack(">f", struct.pack(">I", int(match[3])))[0]
            return LinkBandwidth(int(match[2]), float(value), transitive=kind >> 8 == 0x00)
    return None


def parse_routes(text: str, prefix: str, by_protocol: dict[str, str]) -> list[PeerPath]:
    """``birdc show route <prefix> all`` -> the paths learned from ``by_protocol``'s
    protocols (protocol name -> neighbor address)."""
    paths: list[PeerPath] = []
    fields: dict[str, str] = {}
    protocol = ""

    def flush() -> None:
        if protocol in by_protocol:
            as_path = tuple(int(a) for a in fields.get("BGP.as_path", "").split())
            hop = fields.get("BGP.next_hop", "").split()
            lb = _lb(fields.get("BGP.ext_community", ""))
            paths.append(PeerPath(prefix, by_protocol[protocol], hop[0] if hop else "",
                                  as_path, lb))  # fmt: skip

    for line in text.splitlines():
        if line.startswith("\t"):
            key, _, value = line.strip().partition(": ")
            fields[key] = value
            continue
        match = _PATH.match(line)
        if match and (match[1] is None or match[1] == prefix):
            flush()
            protocol, fields = match[2], {}
    flush()
    return paths


class BirdPeer:
    name = "bird"
    lb_wraps_at_32_bits = False
    weighted_ecmp = False

    def __init__(self, ns: Netns, workdir: Path, plan: Plan) -> None:
        self.ns = ns
        self.workdir = workdir
        self.plan = plan
        self.announced = set(PEER_PREFIXES.values())
        self.config = workdir / "bird.conf"
        self.socket = workdir / "bird.ctl"
        self.process = DaemonProcess(
            ns.argv(["bird", "-f", "-c", str(self.config), "-s", str(self.socket),
                     "-P", str(workdir / "bird.pid")]),
            workdir / "bird.log",
        )  # fmt: skip

    def version(self) -> str:
        return self.birdc("show", "status").splitlines()[0].removesuffix(" ready.")

    def birdc(self, *args: str) -> str:
        out = run(["birdc", "-s", str(self.socket), *args], check=False)
        if out.startswith("BIRD ") and "ready." in out.splitlines()[0]:
            return out  # birdc also exits 1 for "Network not found": an answer
        raise RuntimeError(f"birdc {' '.join(args)}: {out.strip() or 'no answer'}")

    def start(self) -> None:
        self.config.write_text(bird_config(self.plan, self.announced))
        self.process.start()

        def answering() -> str | None:
            if not self.process.running:
                raise AssertionError(f"bird exited:\n{self.logs()}")
            if not self.socket.exists():
                return "no control socket yet"
            try:
                self.birdc("show", "status")
            except RuntimeError as exc:
                return str(exc)
            return None

        wait_until(answering, 30, "bird's control socket")

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()

    def established(self) -> set[str]:
        out = self.birdc("show", "protocols")
        up = set()
        for line in out.splitlines():
            words = line.split()
            if len(words) >= 6 and words[1] == "BGP" and words[-1] == "Established":
                up.add(str(self.plan.session(words[0]).bagemu_address))
        return up

    def paths(self, prefix: str) -> list[PeerPath]:
        out = self.birdc("show", "route", prefix, "all")  # "Network not found": none
        names = {s.name: str(s.bagemu_address) for s in self.plan.sessions}
        return parse_routes(out, prefix, names)

    def forwarding_weights(self, prefix: str) -> dict[str, int]:
        return kernel_next_hops(self.ns, prefix)  # nothing installs routes here

    def announce(self, prefix: str) -> None:
        self.announced.add(prefix)
        self.birdc("enable", static_name(prefix))

    def withdraw(self, prefix: str) -> None:
        self.announced.discard(prefix)
        self.birdc("disable", static_name(prefix))

    def reset(self) -> None:
        for s in self.plan.sessions:
            self.birdc("restart", s.name)

    def route_refresh(self) -> None:
        for s in self.plan.sessions:
            self.birdc("reload", "in", s.name)  # no import table kept: a ROUTE-REFRESH

    def logs(self) -> str:
        return f"--- bird ---\n{self.process.log_tail()}"
