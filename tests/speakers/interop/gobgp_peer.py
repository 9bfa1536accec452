"""GoBGP (gobgpd + the gobgp CLI) as an interop peer, from Debian's ``gobgpd`` package.

gobgpd runs in the foreground in the peer's namespace with its TOML configuration in the
lab's work directory, its gRPC API on the peer's own link-1 address (an address of this
run, in a namespace of this run: ``--api-hosts``), pprof off. The CLI runs in the same
namespace (``gobgp -u``), JSON out (``-j``).

The configuration: one neighbor per session with one family, ``passive-mode`` where
bagemu dials, a 1 s connect-retry and idle-hold-time-after-reset. GoBGP still waits 5 to
9 s before it dials (its connect loop's floor), and 3.10 loses the idle hold it is given
(its gRPC form of the neighbor leaves the field out; later releases copy it), so after a
``neighbor reset`` it stays Idle its default 30 s, refusing connections.

GoBGP sets per-peer attributes with a global export policy matching neighbor sets: link
1's peers get ``lb:<AS>:<bytes/s>`` for 1 Gb/s, link 2's for 3 Gb/s (GoBGP 3.10's CLI
cannot add a link-bandwidth community to a route: its ``lb`` parser checks for two
arguments and reads a third). Prefixes are added with ``gobgp global rib add`` after
each start (gobgpd keeps no routes across a restart).

GoBGP has no FIB of its own (it installs through zebra, not run here), so
``weighted_ecmp`` is false; its RIB shows every path with its link bandwidth as a float
of bytes/s. Its JSON names every link-bandwidth community type 0x40, whatever arrived
(``LinkBandwidthExtended.GetTypes``), so ``transitive`` is None.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from daemon_process import DaemonProcess, wait_until
from interop_plan import PEER_PREFIXES, Plan
from netlab import Netns, run
from peer_api import LinkBandwidth, PeerPath, kernel_next_hops, uninstalled

API_PORT = 50051  # on an address of this run only (module docstring)
ESTABLISHED = 6  # api.PeerState_ESTABLISHED


def missing() -> str | None:
    return uninstalled(("gobgpd", "gobgp"), "gobgpd")


def gobgpd_config(plan: Plan) -> str:
    lines = [
        "[global.config]",
        f"  as = {plan.peer_as}",
        f'  router-id = "{plan.peer_router_id}"',
        "  port = 179",
        "  local-address-list = [%s]" % ", ".join(f'"{s.peer_address}"' for s in plan.sessions),
        "[global.apply-policy.config]",
        '  export-policy-list = ["link-bandwidth"]',
        '  default-export-policy = "accept-route"',
    ]
    links = sorted({s.link for s in plan.sessions})
    for link in links:
        members = ", ".join(f'"{s.bagemu_address}"' for s in plan.sessions if s.link == link)
        lines += [
            "[[defined-sets.neighbor-sets]]",
            f'  neighbor-set-name = "link{link}"',
            f"  neighbor-info-list = [{members}]",
        ]
    lines += ["[[policy-definitions]]", '  name = "link-bandwidth"']
    for link in links:
        (bps,) = {s.peer_bps for s in plan.sessions if s.link == link}
        lines += [
            "  [[policy-definitions.statements]]",
            f'    name = "link{link}"',
            "    [policy-definitions.statements.conditions.match-neighbor-set]",
            f'      neighbor-set = "link{link}"',
            "    [policy-definitions.statements.actions]",
            '      route-disposition = "accept-route"',
            "    [policy-definitions.statements.actions.bgp-actions.set-ext-community]",
            '      options = "replace"',
            "      [policy-definitions.statements.actions.bgp-actions.set-ext-community"
            ".set-ext-community-method]",
            f'        communities-list = ["lb:{plan.peer_as}:{bps / 8:.0f}"]',
        ]
    for s in plan.sessions:
        lines += [
            "[[neighbors]]",
            "  [neighbors.config]",
            f'    neighbor-address = "{s.bagemu_address}"',
            f"    peer-as = {plan.bagemu_as}",
            "  [neighbors.timers.config]",
            "    connect-retry = 1",
            "    hold-time = 9",
            "    keepalive-interval = 3",
            "    idle-hold-time-after-reset = 1",
            "  [neighbors.transport.config]",
            f'    local-address = "{s.peer_address}"',
            f"    passive-mode = {str(s.bagemu_dials).lower()}",
            "  [[neighbors.afi-safis]]",
            "    [neighbors.afi-safis.config]",
            f'      afi-safi-name = "ipv{s.version}-unicast"',
        ]
    return "\n".join(lines) + "\n"


def _as_path(attrs: list[dict[str, Any]]) -> tuple[int, ...]:
    for attr in attrs:
        if attr.get("type") == 2:
            return tuple(a for seg in attr.get("as_paths", []) for a in seg.get("asns", []))
    return ()


def _next_hop(attrs: list[dict[str, Any]]) -> str:
    for attr in attrs:
        if attr.get("type") in (3, 14) and "nexthop" in attr:
            return str(attr["nexthop"])
    return ""


def _lb(attrs: list[dict[str, Any]]) -> LinkBandwidth | None:
    for attr in attrs:
        if attr.get("type") == 16:
            for community in attr.get("value", []):
                if community.get("subtype") == 4 and "bandwidth" in community:
                    return LinkBandwidth(community["asn"], community["bandwidth"], None)
    return None


class GoBgpPeer:
    name = "gobgp"
    lb_wraps_at_32_bits = False  # a float32 of bytes/s, as on the wire
    weighted_ecmp = False

    def __init__(self, ns: Netns, workdir: Path, plan: Plan) -> None:
        self.ns = ns
        self.workdir = workdir
        self.plan = plan
        self.announced = set(PEER_PREFIXES.values())
        self.api_host = str(plan.session("v4out").peer_address)
        self.config = workdir / "gobgpd.toml"
        self.config.write_text(gobgpd_config(plan))
        self.process = DaemonProcess(
            ns.argv(["gobgpd", "-f", str(self.config), "-l", "info", "--pprof-disable",
                     "--api-hosts", f"{self.api_host}:{API_PORT}"]),
            workdir / "gobgpd.log",
        )  # fmt: skip

    def version(self) -> str:
        return run(["gobgpd", "--version"]).strip()

    def cli(self, *args: str) -> str:
        return run(self.ns.argv(["gobgp", "-u", self.api_host, "-p", str(API_PORT), *args]))

    def start(self) -> None:
        self.process.start()

        def answering() -> str | None:
            if not self.process.running:
                raise AssertionError(f"gobgpd exited:\n{self.logs()}")
            try:
                self.cli("global")
            except RuntimeError as exc:
                return str(exc)
            return None

        wait_until(answering, 30, "gobgpd's API")
        for prefix in sorted(self.announced):
            self.announce(prefix)

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()

    def established(self) -> set[str]:
        peers = json.loads(self.cli("neighbor", "-j") or "[]")
        return {
            p["state"]["neighbor_address"]
            for p in peers
            if p.get("state", {}).get("session_state") == ESTABLISHED
        }

    def paths(self, prefix: str) -> list[PeerPath]:
        afi = "ipv6" if ":" in prefix else "ipv4"
        table = json.loads(self.cli("global", "rib", "-a", afi, prefix, "-j") or "{}")
        out = []
        for path in table.get(prefix, []):
            neighbor = path.get("neighbor-ip")
            if not neighbor or neighbor in ("<nil>", "0.0.0.0", "::"):
                continue  # our own route
            attrs = path.get("attrs", [])
            out.append(PeerPath(prefix, neighbor, _next_hop(attrs), _as_path(attrs), _lb(attrs)))
        return out

    def forwarding_weights(self, prefix: str) -> dict[str, int]:
        return kernel_next_hops(self.ns, prefix)  # nothing installs routes here

    def announce(self, prefix: str) -> None:
        self.announced.add(prefix)
        self.cli("global", "rib", "add", "-a", "ipv6" if ":" in prefix else "ipv4", prefix)

    def withdraw(self, prefix: str) -> None:
        self.announced.discard(prefix)
        self.cli("global", "rib", "del", "-a", "ipv6" if ":" in prefix else "ipv4", prefix)

    def reset(self) -> None:
        for s in self.plan.sessions:
            self.cli("neighbor", str(s.bagemu_address), "reset")

    def route_refresh(self) -> None:
        raise RuntimeError(
            "GoBGP 3.10's CLI sends no ROUTE-REFRESH: softresetin re-reads its Adj-RIB-In"
        )

    def logs(self) -> str:
        return f"--- gobgpd ---\n{self.process.log_tail()}"
