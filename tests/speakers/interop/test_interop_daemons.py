"""bagemu's speaker against FRR, GoBGP and BIRD (Debian 12's packages), each a real daemon
in a network namespace of its own, bagemu (``python -m speakers``) in another, two veth
links between them (interop_plan.py: four sessions, IPv4 and IPv6 transport, bagemu
dialing on link 1 and the daemon on link 2).

Every test runs once per daemon on one lab per daemon (conftest.py), waits for the lab to
be converged before it acts and leaves it converged: sessions up, each side's IPv4 and
IPv6 prefixes at the other over both links, with the link bandwidth each side attached
read by the other and turned into UCMP weights where the side does that (bagemu always;
FRR's zebra into the kernel). What is read on the daemon's side is the daemon's own view
(FRR's and GoBGP's JSON, BIRD's ``show route all``).

FRR 8.4 keeps link bandwidth as a uint32 count of bytes/s, so a value over 34.36 Gb/s
arrives wrapped (``test_a_bag_links_bandwidth``: bagemu's 800 Gb/s reads as 9.7 Gb/s,
and FRR's weights follow the wrapped value); GoBGP and BIRD read the float. GoBGP 3.10's
CLI cannot send a ROUTE-REFRESH, so that leg runs against FRR and BIRD; its ``neighbor
reset`` keeps it Idle for 30 s (gobgp_peer.py), the longest wait here.

More legs are more tests over the same lab: the peer's and bagemu's ``kill`` and
``start``, the checks of interop_checks.py, and options the plan gives the configuration
writers (interop_plan.py, the peers' ``*_config``). Graceful restart changes what a kill
does, so its legs have a lab of their own (test_interop_graceful_restart.py).
"""

from __future__ import annotations

import ipaddress
from functools import partial

import pytest
from daemon_process import wait_until
from interop_checks import (
    all_established,
    bagemu_fib_holds,
    bagemu_fib_lacks,
    converged,
    none_established,
    peer_forwards,
    peer_holds,
    peer_lacks,
)
from interop_lab import Lab
from interop_plan import BAGEMU_ORIGIN_BPS, BAGEMU_PREFIXES, PEER_PREFIXES, WIDE, WIDE_BPS
from netlab import Netns, run

CONVERGE_S = 60.0  # GoBGP alone waits 5 to 9 s before it dials again


def wait_converged(lab: Lab, what: str = "the lab converged") -> float:
    return wait_until(lambda: converged(lab), CONVERGE_S, f"{lab.peer.name}: {what}")


def established_tcp(ns: Netns) -> set[tuple[str, int, str, int]]:
    """(local address, local port, remote address, remote port) of ``ns``'s established
    TCP connections, from ``ss``."""
    out = run(["ip", "netns", "exec", ns.name, "ss", "-tnH", "state", "established"])
    found = set()
    for line in out.splitlines():
        local, remote = line.split()[-2:]
        (la, _, lp), (ra, _, rp) = local.rpartition(":"), remote.rpartition(":")
        found.add((str(ipaddress.ip_address(la.strip("[]"))), int(lp),
                   str(ipaddress.ip_address(ra.strip("[]"))), int(rp)))  # fmt: skip
    return found


def test_sessions_over_ipv4_and_ipv6_either_side_dialing(lab: Lab) -> None:
    wait_converged(lab)
    print(f"{lab.peer.name}: {lab.peer.version()}")
    tcp = established_tcp(lab.bagemu_ns)
    for s in lab.plan.sessions:
        mine, theirs = str(s.bagemu_address), str(s.peer_address)
        (conn,) = [c for c in tcp if c[0] == mine and c[2] == theirs]
        if s.bagemu_dials:
            assert conn[3] == 179 and conn[1] != 179, f"{s.name}: bagemu should dial: {conn}"
        else:
            assert conn[1] == 179 and conn[3] != 179, f"{s.name}: the peer should dial: {conn}"
    assert all_established(lab) is None


def test_routes_both_ways_with_link_bandwidth(lab: Lab) -> None:
    wait_converged(lab)
    for prefix in BAGEMU_PREFIXES.values():
        assert peer_holds(lab, prefix) is None  # next hop, AS path, AS_TRANS, bytes/s
    for version, prefix in PEER_PREFIXES.items():
        got = lab.bagemu.rib_bandwidths(prefix)
        want = {s.name: s.peer_bps for s in lab.plan.family(version)}
        assert got == want, f"bagemu's RIB for {prefix}: {got}"


def test_ucmp_on_both_sides(lab: Lab) -> None:
    wait_converged(lab)
    for version, prefix in PEER_PREFIXES.items():
        fib = lab.bagemu.fib()[prefix]
        link = {s.link: str(s.peer_address) for s in lab.plan.family(version)}
        assert fib[link[2]] == 3 * fib[link[1]], fib  # 3 Gb/s : 1 Gb/s
    if lab.peer.weighted_ecmp:
        for prefix in BAGEMU_PREFIXES.values():
            assert peer_forwards(lab, prefix) is None  # 20 Gb/s : 10 Gb/s
            weights = lab.peer.forwarding_weights(prefix)
            print(f"{lab.peer.name} kernel weights for {prefix}: {weights}")


def test_a_bag_links_bandwidth(lab: Lab) -> None:
    wait_converged(lab)
    lab.bagemu.announce(WIDE, WIDE_BPS)
    try:
        # link 1: min(800G, its 10G) = 10 Gb/s; link 2: 800 Gb/s, 100 GB/s, over 2^32.
        wait_until(lambda: peer_holds(lab, WIDE, WIDE_BPS), 30, f"{lab.peer.name} reads {WIDE}")
        if lab.peer.weighted_ecmp:
            wait_until(lambda: peer_forwards(lab, WIDE, WIDE_BPS), 30, "kernel weights")
    finally:
        lab.bagemu.withdraw(WIDE)
    wait_until(lambda: peer_lacks(lab, WIDE), 30, f"{WIDE} withdrawn")


def test_withdraw_both_ways(lab: Lab) -> None:
    wait_converged(lab)
    for prefix in BAGEMU_PREFIXES.values():
        lab.bagemu.withdraw(prefix)
    for prefix in PEER_PREFIXES.values():
        lab.peer.withdraw(prefix)
    try:
        for prefix in BAGEMU_PREFIXES.values():
            wait_until(partial(peer_lacks, lab, prefix), 30, f"{prefix} withdrawn")
        for prefix in PEER_PREFIXES.values():
            wait_until(partial(bagemu_fib_lacks, lab, prefix), 30, f"{prefix} withdrawn")
        assert all_established(lab) is None  # withdrawn, no session touched
    finally:
        for prefix in BAGEMU_PREFIXES.values():
            lab.bagemu.announce(prefix, BAGEMU_ORIGIN_BPS)
        for prefix in PEER_PREFIXES.values():
            lab.peer.announce(prefix)
    wait_converged(lab, "announced again")


def test_peer_resets_its_sessions(lab: Lab) -> None:
    wait_converged(lab)
    before = {n: s["flaps"] for n, s in lab.bagemu.session_counters().items()}
    lab.peer.reset()

    def all_flapped() -> str | None:
        now = lab.bagemu.session_counters()
        still = [n for n, s in now.items() if s["flaps"] <= before[n]]
        return None if not still else f"no flap yet on {still}"

    wait_until(all_flapped, 30, f"{lab.peer.name}'s reset seen by bagemu")
    counters = lab.bagemu.session_counters()
    wait_converged(lab, "back after the reset")
    for name, s in counters.items():
        print(f"{lab.peer.name}: {name} went down: {s['last_down']}")
        assert s["last_down"].startswith("notification-received: Cease"), (name, s)


@pytest.mark.parametrize("lab", ["frr", "bird"], indirect=True)  # GoBGP's CLI cannot ask
def test_peer_asks_for_a_route_refresh(lab: Lab) -> None:
    wait_converged(lab)
    counters = lab.bagemu.session_counters()
    before = {n: s["updates_sent"] for n, s in counters.items()}
    flaps = {n: s["flaps"] for n, s in counters.items()}
    lab.peer.route_refresh()

    def answered() -> str | None:
        now = lab.bagemu.session_counters()
        waiting = [n for n, s in now.items() if s["updates_sent"] <= before[n]]
        return None if not waiting else f"no UPDATE sent again yet on {waiting}"

    wait_until(answered, 30, f"bagemu answers {lab.peer.name}'s ROUTE-REFRESH")
    assert converged(lab) is None  # the routes are all still there
    assert {n: s["flaps"] for n, s in lab.bagemu.session_counters().items()} == flaps


def test_peer_killed_and_back(lab: Lab) -> None:
    wait_converged(lab)
    lab.peer.kill()  # no NOTIFICATION: bagemu sees the connections close
    for prefix in PEER_PREFIXES.values():
        wait_until(partial(bagemu_fib_lacks, lab, prefix), 30, f"{prefix} gone with the peer")
    assert set(lab.bagemu.sessions().values()) != {"Established"}
    lab.peer.start()
    wait_converged(lab, "the peer back")


def test_bagemu_restarts(lab: Lab) -> None:
    wait_converged(lab)
    lab.bagemu.kill()  # SIGKILL: no NOTIFICATION, no clean close of its RIB
    wait_until(lambda: none_established(lab), 30, f"{lab.peer.name} sees bagemu gone")
    for prefix in BAGEMU_PREFIXES.values():
        wait_until(partial(peer_lacks, lab, prefix), 30, f"{prefix} gone with bagemu")
    lab.bagemu.start()
    took = wait_converged(lab, "bagemu back")
    print(f"{lab.peer.name}: converged {took:.1f} s after bagemu's restart")
    for prefix in PEER_PREFIXES.values():
        assert bagemu_fib_holds(lab, prefix) is None
