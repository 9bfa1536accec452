"""Network namespaces joined by veth pairs, every name and address taken from one run id.

Why namespaces: each routing daemon and the bagemu speaker then has a network stack of its
own (port 179, 127.0.0.1, its kernel routing table), so nothing a test starts can meet
another run's daemons, the host's, or a routing daemon the host's service manager started.

Why a run id in every name: namespaces and interfaces are host-wide names. ``new_run_id``
draws six random hex digits; a namespace is ``bi<run><role>`` and an interface
``bi<run><role><link>`` (10 characters: Linux allows 15, IFNAMSIZ 16 with the NUL), and
each link's addresses come from the run id too (``link_addresses``).

``NetLab`` remembers every namespace it created and ``close`` deletes those and nothing
else (a veth pair goes with its namespaces). It is a context manager, so a failing test
still tears down; ``close`` is safe to call twice.
"""

from __future__ import annotations

import ipaddress
import secrets
import subprocess
from dataclasses import dataclass
from types import TracebackType

PREFIX = "bi"  # "bagemu interop": what every name this module creates starts with


def new_run_id() -> str:
    """Six random hex digits: one test module's lab."""
    return secrets.token_hex(3)


def run(argv: list[str], timeout_s: float = 30.0, check: bool = True) -> str:
    """Run a command; its stdout. A failure raises with the command and its stderr."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True, slots=True)
class Netns:
    """One named network namespace; ``argv`` runs a command inside it."""

    name: str

    def argv(self, command: list[str]) -> list[str]:
        # ip netns exec execs the command after setns: the child's pid is the command's.
        return ["ip", "netns", "exec", self.name, *command]


@dataclass(frozen=True, slots=True)
class LinkAddresses:
    """One link's two ends: an IPv4 /30 and an IPv6 /64, both derived from the run id."""

    index: int
    left_v4: ipaddress.IPv4Interface
    right_v4: ipaddress.IPv4Interface
    left_v6: ipaddress.IPv6Interface
    right_v6: ipaddress.IPv6Interface


def link_addresses(run_id: str, index: int) -> LinkAddresses:
    """Link ``index`` (1..63) of run ``run_id``: 10.<b0>.<b1>.<4i>/30, where b0 and b1 are
    the run id's first two bytes, and fd<b0>:<b1 b2>:<i>::/64 (a ULA prefix)."""
    if not 1 <= index <= 63:
        raise ValueError(f"link index {index}: 1..63")
    raw = bytes.fromhex(run_id)
    base = (10 << 24) | (raw[0] << 16) | (raw[1] << 8) | (index << 2)
    v6 = f"fd{raw[0]:02x}:{raw[1]:02x}{raw[2]:02x}:{index:x}::"
    return LinkAddresses(
        index=index,
        left_v4=ipaddress.IPv4Interface((base + 1, 30)),
        right_v4=ipaddress.IPv4Interface((base + 2, 30)),
        left_v6=ipaddress.IPv6Interface(f"{v6}1/64"),
        right_v6=ipaddress.IPv6Interface(f"{v6}2/64"),
    )


@dataclass(frozen=True, slots=True)
class Link:
    """A veth pair from ``left`` to ``right``, with its interface names and addresses."""

    left: Netns
    right: Netns
    left_if: str
    right_if: str
    addresses: LinkAddresses


class NetLab:
    """The namespaces and veth pairs of one run (module docstring)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._created: list[Netns] = []

    def name(self, role: str) -> str:
        return f"{PREFIX}{self.run_id}{role}"

    def namespace(self, role: str) -> Netns:
        """Create the namespace for ``role`` (one letter), loopback up, IPv6 duplicate
        address detection off: addresses are usable at once, not after a second of DAD."""
        ns = Netns(self.name(role))
        run(["ip", "netns", "add", ns.name])
        self._created.append(ns)
        sysctl = "/proc/sys/net/ipv6/conf"
        run(ns.argv(["sh", "-c", f"echo 0 > {sysctl}/all/accept_dad; "
                                 f"echo 0 > {sysctl}/default/accept_dad"]))  # fmt: skip
        run(["ip", "-n", ns.name, "link", "set", "lo", "up"])
        return ns

    def link(self, left: Netns, right: Netns, index: int) -> Link:
        """A veth pair made directly inside both namespaces (its names never exist in the
        host's), addresses assigned and both ends up."""
        addresses = link_addresses(self.run_id, index)
        left_if, right_if = f"{left.name}{index}", f"{right.name}{index}"
        run(["ip", "link", "add", left_if, "netns", left.name, "type", "veth",
             "peer", "name", right_if, "netns", right.name])  # fmt: skip
        for ns, ifname, v4, v6 in (
            (left, left_if, addresses.left_v4, addresses.left_v6),
            (right, right_if, addresses.right_v4, addresses.right_v6),
        ):
            run(["ip", "-n", ns.name, "addr", "add", str(v4), "dev", ifname])
            run(["ip", "-n", ns.name, "addr", "add", str(v6), "dev", ifname, "nodad"])
            run(["ip", "-n", ns.name, "link", "set", ifname, "up"])
        return Link(left, right, left_if, right_if, addresses)

    def close(self) -> None:
        """Delete the namespaces this lab created (their veths go with them), and only
        those. Processes still inside one would keep it alive: stop them first."""
        while self._created:
            ns = self._created.pop()
            run(["ip", "netns", "delete", ns.name], check=False)

    def __enter__(self) -> NetLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
